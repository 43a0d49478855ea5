// Compression: qemu-img's qcow2 compression, zstd against zlib against none, on the example disk
// (the dev stack's Debian tree in ext4, as a Qcow2Image makes it): size and seconds.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RegistryClient } from "../components/oci/registry";
import { mke2fsArgs, mke2fsEnv, qemuImgConvertArgs } from "../components/kinds/qcow2Image/build";
import { Compression, parseSize } from "../components/kinds/qcow2Image/fields";
import { BenchOptions, Figure, figure, mib, medianTime, run, secs } from "./lib";

const REGISTRY = { host: "127.0.0.1:5000", insecure: true };
const REPOSITORY = "warmrun/debian-rootfs";
const DISK_SIZE = "2G";

/** The layer of any debian-rootfs image the local registry holds (`npm run up` puts one there). */
async function rootfsLayer(client: RegistryClient, file: string): Promise<string> {
    const tags = (await client.listTags(REPOSITORY).catch(() => [])).filter((t) => !t.startsWith("git-") && t !== "latest");
    for (const tag of tags.sort()) {
        const manifest = await client.getManifest(REPOSITORY, tag);
        const layer = manifest?.json?.layers?.[0];
        if (layer) {
            await client.downloadBlob(REPOSITORY, layer.digest, file);
            return tag;
        }
    }
    throw new Error(`no ${REPOSITORY} image in the registry on ${REGISTRY.host}: run \`npm run up\` first`);
}

export async function compressionBench(opts: BenchOptions): Promise<Figure[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-compression-"));
    try {
        const client = new RegistryClient(REGISTRY);
        const tag = await rootfsLayer(client, path.join(work, "layer.tar.gz"));
        const tree = path.join(work, "tree");
        fs.mkdirSync(tree);
        await run("tar", ["-xzf", path.join(work, "layer.tar.gz"), "-C", tree, "--numeric-owner"]);
        const raw = path.join(work, "disk.raw");
        // The disk exactly as the Qcow2Image builder makes it.
        const sizeBytes = parseSize(DISK_SIZE) as number;
        fs.closeSync(fs.openSync(raw, "w"));
        fs.truncateSync(raw, sizeBytes);
        const spec = { sizeBytes, size: DISK_SIZE, filesystem: "ext4", compression: "zstd" as Compression, label: "rootfs", diskPath: "/disk/disk.qcow2" };
        await run("mke2fs", mke2fsArgs(spec, tag, tree, raw), { env: mke2fsEnv() });
        const used = Number((await run("du", ["-sb", tree])).stdout.split("\t")[0]);
        opts.log(`compression: ext4 of ${REPOSITORY}:${tag} (${mib(used)} of files)`);

        const results: Record<string, { seconds: number; bytes: number }> = {};
        for (const mode of ["none", "zlib", "zstd"] as Compression[]) {
            const out = path.join(work, `disk-${mode}.qcow2`);
            const args = qemuImgConvertArgs(mode, raw, out);
            const t = await medianTime(opts.runs, async () => {
                fs.rmSync(out, { force: true });
                await run("qemu-img", args);
            });
            results[mode] = { seconds: t.seconds, bytes: fs.statSync(out).size };
        }
        const none = results.none;
        return ["zstd", "zlib"].map((mode) =>
            figure({
                section: "compression",
                name: `qcow2 ${mode} of a ${DISK_SIZE} ext4 disk (${mib(used)} of files)`,
                warmrun: `${mib(results[mode].bytes)} in ${secs(results[mode].seconds)}`,
                baseline: `none: ${mib(none.bytes)} in ${secs(none.seconds)}`,
                ratio: results[mode].bytes / none.bytes,
                note: "size ratio",
            }),
        );
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
