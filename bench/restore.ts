// Restore: a 1 GiB disk out of a containerDisk in the local registry (what `npm run qcow2 -- get`
// does: stream the layer through the tar reader into the file, the layer digest checked) against
// curl of the same layer (the target), `cp` of the same file and `skopeo copy` of the same image;
// and the same layer as a blob into a file, the path appliance files download through.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { RegistryClient } from "../components/oci/registry";
import { restoreDisk } from "../components/kinds/qcow2Image/cache";
import { pushContainerDisk } from "../components/kinds/qcow2Image/build";
import { PROJECT_ROOT } from "../test/support/engine";
import { BenchOptions, Figure, figure, median, medianTime, run, secs, throughput, timeIt } from "./lib";
import { downloadBlobToFile } from "../components/oci/blobFile";

const HOST = "127.0.0.1:5000";
const REPOSITORY = "warmrun/bench-disk";
const DISK_BYTES = 1 << 30;
// The disk is random, so its tag names the file's version, not its content.
const TAG = "bench-1g-v1";

function ensureDisk(dir: string, log: (l: string) => void): string {
    const file = path.join(dir, `disk-1g-v1.qcow2`);
    if (fs.existsSync(file) && fs.statSync(file).size === DISK_BYTES) return file;
    log("restore: writing the 1 GiB disk (once; kept in the bench cache)");
    // Incompressible, like a compressed qcow2: no side gains from the data.
    const fd = fs.openSync(`${file}.tmp`, "w");
    for (let off = 0; off < DISK_BYTES; off += 16 << 20) fs.writeSync(fd, randomBytes(16 << 20));
    fs.closeSync(fd);
    fs.renameSync(`${file}.tmp`, file);
    return file;
}

/** Dirty pages written back first, so every run's writes start from the same page cache state. */
async function settle(out: string): Promise<void> {
    fs.rmSync(out, { force: true });
    fs.rmSync(`${out}.partial`, { force: true });
    await run("sync", []);
}

/** CPU seconds (user + system) of a command run through GNU time. */
async function timedCommand(cmd: string, args: string[]): Promise<number> {
    const r = await run("/usr/bin/time", ["-f", "%U %S", cmd, ...args]);
    const [user, sys] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    return user + sys;
}

/** Median wall seconds and CPU seconds of this process over `runs` runs of fn. */
async function inProcess(runs: number, out: string, fn: () => Promise<void>): Promise<{ seconds: number; cpu: number }> {
    const cpu: number[] = [];
    const t = await medianTime(runs, async () => {
        await settle(out);
        const before = process.cpuUsage();
        await fn();
        const used = process.cpuUsage(before);
        cpu.push((used.user + used.system) / 1e6);
    });
    return { seconds: t.seconds, cpu: median(cpu) };
}

export async function restoreBench(opts: BenchOptions): Promise<Figure[]> {
    const disk = ensureDisk(opts.cacheDir, opts.log);
    const client = new RegistryClient({ host: HOST, insecure: true });
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-restore-"));
    try {
        if (!(await client.resolveTag(REPOSITORY, TAG))) {
            opts.log(`restore: pushing the disk as ${HOST}/${REPOSITORY}:${TAG}`);
            await pushContainerDisk(client, REPOSITORY, TAG, disk, "/disk/disk.qcow2", scratch, {});
        }
        const out = path.join(scratch, "restored.qcow2");
        const manifest = await client.getManifest(REPOSITORY, TAG);
        const layerDigest: string = manifest!.json.layers[0].digest;
        const layerUrl = `http://${HOST}/v2/${REPOSITORY}/blobs/${layerDigest}`;
        await run("bash", ["-c", `cat "${disk}" > /dev/null`]);
        // Interleaved, so a change in the machine's load falls on every side alike.
        const ours: number[] = [];
        const oursCpu: number[] = [];
        const curl: number[] = [];
        const curlCpu: number[] = [];
        const blob: number[] = [];
        const blobCpu: number[] = [];
        for (let i = 0; i < opts.runs; i++) {
            const r = await inProcess(1, out, async () => {
                const got = await restoreDisk(client, REPOSITORY, TAG, out);
                if (!got.found || got.bytes !== DISK_BYTES) throw new Error(`restore: ${HOST}/${REPOSITORY}:${TAG} restored ${got.bytes} bytes`);
            });
            ours.push(r.seconds);
            oursCpu.push(r.cpu);
            await settle(out);
            const c = await timeIt(() => timedCommand("curl", ["-fsS", "-o", out, layerUrl]));
            curl.push(c.seconds);
            curlCpu.push(c.value);
            const b = await inProcess(1, out, async () => {
                await downloadBlobToFile(client, REPOSITORY, layerDigest, out);
            });
            blob.push(b.seconds);
            blobCpu.push(b.cpu);
        }
        // The same through the command users run, start-up included.
        const cli = await medianTime(opts.runs, async () => {
            await settle(out);
            await run("node", ["loader/run.js", "scripts/qcow2", "pull", `${HOST}/${REPOSITORY}:${TAG}`, out], { cwd: PROJECT_ROOT });
        });
        const cp = await medianTime(opts.runs, async () => {
            await settle(out);
            await run("cp", [disk, out]);
        });
        const skopeoDir = path.join(scratch, "skopeo");
        const skopeo = await medianTime(opts.runs, async () => {
            fs.rmSync(skopeoDir, { recursive: true, force: true });
            await run("sync", []);
            await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${HOST}/${REPOSITORY}:${TAG}`, `dir:${skopeoDir}`]);
        });
        const [o, oc, k, kc, bl, blc] = [ours, oursCpu, curl, curlCpu, blob, blobCpu].map(median);
        const name = "1 GiB disk from the local registry";
        const cpu = (s: number) => `${s.toFixed(2)} s CPU`;
        return [
            figure({
                section: "restore",
                name: `${name} (digest checked) vs curl of the layer (unverified)`,
                warmrun: `${secs(o)} (${throughput(DISK_BYTES, o)}, ${cpu(oc)}); command ${secs(cli.seconds)}`,
                baseline: `curl ${secs(k)} (${throughput(DISK_BYTES, k)}, ${cpu(kc)})`,
                ratio: k / o,
                target: ">= 0.8",
                note: "throughput ratio, runs interleaved",
            }),
            figure({
                section: "restore",
                name: "1 GiB blob to a file, as appliance files download (digest checked), vs curl",
                warmrun: `${secs(bl)} (${throughput(DISK_BYTES, bl)}, ${cpu(blc)})`,
                baseline: `curl ${secs(k)} (${throughput(DISK_BYTES, k)})`,
                ratio: k / bl,
                target: ">= 0.8",
                note: "throughput ratio, runs interleaved",
            }),
            figure({
                section: "restore",
                name: `${name} vs cp`,
                warmrun: `${secs(o)} (${throughput(DISK_BYTES, o)})`,
                baseline: `cp ${secs(cp.seconds)} (${throughput(DISK_BYTES, cp.seconds)})`,
                ratio: cp.seconds / o,
                note: "throughput ratio",
            }),
            figure({
                section: "restore",
                name: `${name} vs skopeo copy`,
                warmrun: `${secs(o)} (${throughput(DISK_BYTES, o)})`,
                baseline: `skopeo copy ${secs(skopeo.seconds)} (${throughput(DISK_BYTES, skopeo.seconds)})`,
                ratio: skopeo.seconds / o,
                note: "throughput ratio",
            }),
        ];
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
