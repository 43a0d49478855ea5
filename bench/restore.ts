// Restore: a 1 GiB disk out of a containerDisk in the local registry (what `npm run qcow2 -- get`
// does: stream the layer through the tar reader into the file, digests checked) against `cp` of
// the same file and against `skopeo copy` of the same image.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { RegistryClient } from "../components/oci/registry";
import { restoreDisk } from "../components/kinds/qcow2Image/cache";
import { pushContainerDisk } from "../components/kinds/qcow2Image/build";
import { PROJECT_ROOT } from "../test/support/engine";
import { BenchOptions, Figure, figure, medianTime, run, secs, throughput } from "./lib";

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
        await run("bash", ["-c", `cat "${disk}" > /dev/null`]);
        const ours = await medianTime(opts.runs, async () => {
            fs.rmSync(out, { force: true });
            const r = await restoreDisk(client, REPOSITORY, TAG, out);
            if (!r.found || r.bytes !== DISK_BYTES) throw new Error(`restore: ${HOST}/${REPOSITORY}:${TAG} restored ${r.bytes} bytes`);
        });
        // The same through the command users run, start-up included.
        const cli = await medianTime(opts.runs, async () => {
            fs.rmSync(out, { force: true });
            await run("node", ["loader/run.js", "scripts/qcow2", "pull", `${HOST}/${REPOSITORY}:${TAG}`, out], { cwd: PROJECT_ROOT });
        });
        const cp = await medianTime(opts.runs, async () => {
            fs.rmSync(out, { force: true });
            await run("cp", [disk, out]);
        });
        const skopeoDir = path.join(scratch, "skopeo");
        const skopeo = await medianTime(opts.runs, async () => {
            fs.rmSync(skopeoDir, { recursive: true, force: true });
            await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${HOST}/${REPOSITORY}:${TAG}`, `dir:${skopeoDir}`]);
        });
        // The registry's own floor: the layer over HTTP into a file, nothing parsed or verified.
        const manifest = await client.getManifest(REPOSITORY, TAG);
        const layerDigest: string = manifest!.json.layers[0].digest;
        const curl = await medianTime(opts.runs, async () => {
            fs.rmSync(out, { force: true });
            await run("curl", ["-fsS", "-o", out, `http://${HOST}/v2/${REPOSITORY}/blobs/${layerDigest}`]);
        });
        const name = "1 GiB disk from the local registry";
        return [
            figure({
                section: "restore",
                name: `${name} vs cp`,
                warmrun: `${secs(ours.seconds)} (${throughput(DISK_BYTES, ours.seconds)}); command ${secs(cli.seconds)}`,
                baseline: `cp ${secs(cp.seconds)} (${throughput(DISK_BYTES, cp.seconds)})`,
                ratio: cp.seconds / ours.seconds,
                target: ">= 0.8",
                note: "throughput ratio",
            }),
            figure({
                section: "restore",
                name: `${name} vs skopeo copy`,
                warmrun: `${secs(ours.seconds)} (${throughput(DISK_BYTES, ours.seconds)})`,
                baseline: `skopeo copy ${secs(skopeo.seconds)} (${throughput(DISK_BYTES, skopeo.seconds)})`,
                ratio: skopeo.seconds / ours.seconds,
                note: "throughput ratio",
            }),
            figure({
                section: "restore",
                name: `${name} vs curl of the layer (unverified)`,
                warmrun: `${secs(ours.seconds)} (${throughput(DISK_BYTES, ours.seconds)})`,
                baseline: `curl ${secs(curl.seconds)} (${throughput(DISK_BYTES, curl.seconds)})`,
                ratio: curl.seconds / ours.seconds,
                note: "throughput ratio",
            }),
        ];
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
