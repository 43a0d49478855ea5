// Restore: a 1 GiB disk out of a containerDisk in the local registry (what `npm run qcow2 -- get`
// does: stream the layer through the tar reader into the file, the layer digest checked) against
// curl of the same layer (the target), curl followed by `openssl dgst -sha256` (the same check by
// hand), `cp` of the same file and `skopeo copy` of the same image; and the same layer as a blob into
// a file, the path appliance files download through. The registry runs on the same cores, so the
// CPU each side costs, the registry's included, is measured too: it bounds what any checked restore
// can reach here.
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

/** The process listening on 127.0.0.1:port, from `ss`; undefined when it cannot be told. */
async function listenerPid(port: number): Promise<number | undefined> {
    const r = await run("ss", ["-Hltnp", `sport = :${port}`], { allowFailure: true }).catch(() => undefined);
    const m = /pid=(\d+)/.exec(r?.stdout ?? "");
    return m ? Number(m[1]) : undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined when unknown. */
function processCpu(pid: number | undefined): number | undefined {
    if (pid === undefined) return undefined;
    try {
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
        const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
        return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
        return undefined;
    }
}

/** Linux's USER_HZ, what /proc/<pid>/stat counts CPU time in. */
const CLOCK_TICKS = 100;

/** The registry's CPU seconds over fn, beside fn's own result. */
async function withRegistryCpu<T>(pid: number | undefined, fn: () => Promise<T>): Promise<{ value: T; registryCpu?: number }> {
    const before = processCpu(pid);
    const value = await fn();
    const after = processCpu(pid);
    return { value, registryCpu: before !== undefined && after !== undefined ? after - before : undefined };
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
        const registryPid = await listenerPid(Number(HOST.split(":")[1]));
        if (registryPid === undefined) opts.log(`restore: which process serves ${HOST} is not known (ss from iproute2 tells): the CPU rows are left out`);
        const restore = async () => {
            const got = await restoreDisk(client, REPOSITORY, TAG, out);
            if (!got.found || got.bytes !== DISK_BYTES) throw new Error(`restore: ${HOST}/${REPOSITORY}:${TAG} restored ${got.bytes} bytes`);
        };
        // One untimed pass of each side first: the first restore after the disk was pushed (in this
        // process) ran about twice as long as the later ones.
        await restore();
        await settle(out);
        await run("curl", ["-fsS", "-o", out, layerUrl]);
        // Interleaved, so a change in the machine's load falls on every side alike.
        const ours: number[] = [];
        const oursCpu: number[] = [];
        const oursRegistry: number[] = [];
        const curl: number[] = [];
        const curlCpu: number[] = [];
        const curlRegistry: number[] = [];
        const checked: number[] = [];
        const checkedCpu: number[] = [];
        const blob: number[] = [];
        const blobCpu: number[] = [];
        const keep = (into: number[], v: number | undefined) => v !== undefined && into.push(v);
        for (let i = 0; i < opts.runs; i++) {
            const r = await withRegistryCpu(registryPid, () => inProcess(1, out, restore));
            ours.push(r.value.seconds);
            oursCpu.push(r.value.cpu);
            keep(oursRegistry, r.registryCpu);
            await settle(out);
            const c = await withRegistryCpu(registryPid, () => timeIt(() => timedCommand("curl", ["-fsS", "-o", out, layerUrl])));
            curl.push(c.value.seconds);
            curlCpu.push(c.value.value);
            keep(curlRegistry, c.registryCpu);
            await settle(out);
            const h = await timeIt(() => timedCommand("bash", ["-c", `curl -fsS -o "${out}" "${layerUrl}" && openssl dgst -sha256 "${out}" > /dev/null`]));
            checked.push(h.seconds);
            checkedCpu.push(h.value);
            const b = await inProcess(1, out, async () => {
                await downloadBlobToFile(client, REPOSITORY, layerDigest, out);
            });
            blob.push(b.seconds);
            blobCpu.push(b.cpu);
        }
        // One sha256 pass over the (cached) disk: the least CPU a check adds.
        const hashCpu = await timedCommand("openssl", ["dgst", "-sha256", disk]);
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
        const [o, oc, k, kc, ch, chc, bl, blc] = [ours, oursCpu, curl, curlCpu, checked, checkedCpu, blob, blobCpu].map(median);
        const name = "1 GiB disk from the local registry";
        const cpu = (s: number) => `${s.toFixed(2)} s CPU`;
        const cores = os.cpus().length;
        const cpuFigures: Figure[] = [];
        if (oursRegistry.length && curlRegistry.length) {
            const [or, kr] = [oursRegistry, curlRegistry].map(median);
            const targetSeconds = k / 0.8;
            const bound = (kc + hashCpu + kr) / cores;
            cpuFigures.push(
                figure({
                    section: "restore",
                    name: `CPU of ${name}, the registry's included, on this machine's ${cores} cores`,
                    warmrun: `${cpu(oc)} + registry ${cpu(or)} in ${secs(o)}`,
                    baseline: `curl ${cpu(kc)} + registry ${cpu(kr)} in ${secs(k)}`,
                    ratio: (kc + kr) / (oc + or),
                    note: "ratio: curl's CPU to warmrun's",
                }),
                figure({
                    section: "restore",
                    name: `least time a checked restore can take here: (curl's CPU + one sha256 pass (openssl dgst, ${cpu(hashCpu)}) + the registry's) / ${cores} cores, vs the target's time (curl's / 0.8)`,
                    warmrun: secs(bound),
                    baseline: `target ${secs(targetSeconds)}`,
                    ratio: targetSeconds / bound,
                    note: "a ratio under 1: no checked restore meets the target on this machine",
                }),
            );
        }
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
                name: `${name} (digest checked) vs curl then openssl dgst -sha256 of the file (checked by hand)`,
                warmrun: `${secs(o)} (${throughput(DISK_BYTES, o)}, ${cpu(oc)})`,
                baseline: `curl + openssl ${secs(ch)} (${throughput(DISK_BYTES, ch)}, ${cpu(chc)})`,
                ratio: ch / o,
                note: "throughput ratio, runs interleaved",
            }),
            ...cpuFigures,
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
