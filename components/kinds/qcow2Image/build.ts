// Qcow2Image: an upstream image's root tree as an ext4 filesystem (mke2fs -d: no loop device, no
// mount), converted to a compressed qcow2 and published as a KubeVirt containerDisk: a
// `FROM scratch` image whose single uncompressed layer holds the disk, owned by 107:107 (qemu).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { pipeline } from "stream/promises";
import * as tarStream from "tar-stream";
import { BuildContext, BuildResult } from "../../core/lifecycle";
import { imageConfig, pushImage, LayerFile } from "../../oci/image";
import { RegistryClient } from "../../oci/registry";
import { MEDIA } from "../../oci/manifest";
import { parseReference } from "../../oci/reference";
import { artifactAnnotations, DISK_PATH_ANNOTATION, DISK_SHA256_ANNOTATION, INITRD_PATH_ANNOTATION, KERNEL_ARGS_ANNOTATION, KERNEL_PATH_ANNOTATION } from "../../oci/annotations";
import { Compression, INITRD_PATH, KERNEL_PATH, QCOW2_KIND } from "./fields";
import { Qcow2BuildSpec } from "./plan";
import { runTool } from "../../core/process";
import { WarmrunError } from "../../core/errors";
import { Provenance } from "../../oci/provenance";
import { debPackagesOfTree } from "../../sbom/dpkg";
import { SbomParts } from "../../sbom/spdx";

/** The qemu user of KubeVirt's virt-launcher reads containerDisks as 107:107. */
export const CONTAINERDISK_OWNER = 107;

/** A UUID from the key, so the filesystem's identity depends on what it is built from. */
export function uuidFromKey(key: string, salt: string): string {
    const h = createHash("sha256").update(`${salt}:${key}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** mke2fs arguments: populate from `root`, fixed UUID and hash seed, no lazy init. */
export function mke2fsArgs(spec: Qcow2BuildSpec, key: string, root: string, rawFile: string): string[] {
    return [
        "-q",
        "-F",
        "-t",
        spec.filesystem,
        "-L",
        spec.label,
        "-U",
        uuidFromKey(key, "fs"),
        "-E",
        `hash_seed=${uuidFromKey(key, "hash")},lazy_itable_init=0,root_owner=0:0`,
        "-d",
        root,
        rawFile,
    ];
}

/** qemu-img convert arguments for the configured compression. */
export function qemuImgConvertArgs(compression: Compression, rawFile: string, qcow2File: string): string[] {
    const args = ["convert", "-f", "raw", "-O", "qcow2"];
    if (compression !== "none") args.push("-c", "-o", `compression_type=${compression}`);
    return [...args, rawFile, qcow2File];
}

/** The environment of mke2fs: a fixed clock, so inode and superblock times do not vary. */
export function mke2fsEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return { ...env, E2FSPROGS_FAKE_TIME: "0" };
}

/** Where each whiteout of a layer points: removed paths, and directories made opaque. */
export function whiteoutsOf(names: string[]): { remove: string[]; opaque: string[] } {
    const remove: string[] = [];
    const opaque: string[] = [];
    for (const raw of names) {
        const name = raw.replace(/^\.\//, "").replace(/\/$/, "");
        const base = path.posix.basename(name);
        const dir = path.posix.dirname(name);
        if (base === ".wh..wh..opq") opaque.push(dir === "." ? "" : dir);
        else if (base.startsWith(".wh.")) remove.push(dir === "." ? base.slice(4) : `${dir}/${base.slice(4)}`);
    }
    return { remove, opaque };
}

function inside(root: string, rel: string): string {
    const abs = path.resolve(root, rel);
    if (abs !== root && !abs.startsWith(root + path.sep)) throw new WarmrunError(`layer entry ${rel} points outside the image root`);
    return abs;
}

/** Applies one layer (tar, gzip or zstd: GNU tar detects it) on top of `root`, OCI whiteouts included. */
export async function applyLayer(layerFile: string, root: string, what: string): Promise<void> {
    const { output } = await runTool(what, "tar", ["--quoting-style=literal", "-tf", layerFile], { stream: () => undefined });
    const { remove, opaque } = whiteoutsOf(output.split("\n").filter((l) => l));
    for (const dir of opaque) {
        const abs = inside(root, dir);
        if (fs.existsSync(abs)) for (const child of fs.readdirSync(abs)) fs.rmSync(path.join(abs, child), { recursive: true, force: true });
    }
    for (const rel of remove) fs.rmSync(inside(root, rel), { recursive: true, force: true });
    await runTool(
        what,
        "tar",
        ["-xf", layerFile, "-C", root, "--numeric-owner", "--same-owner", "--same-permissions", "--xattrs", "--xattrs-include=*", "--exclude=.wh.*"],
        { stream: () => undefined },
    );
}

/** Pulls an image's layers by digest and applies them in order into `root`; returns bytes fetched. */
export async function unpackImage(client: RegistryClient, ref: string, root: string, scratch: string, what: string): Promise<{ layers: number; bytes: number }> {
    const { repository, reference } = parseReference(ref);
    let manifest = await client.getManifest(repository, reference);
    if (!manifest) throw new WarmrunError(`${what}: upstream image ${ref} is not in the registry`);
    if (manifest.json.manifests) {
        const pick = (manifest.json.manifests as any[]).find((m) => m.platform?.os === "linux" && m.platform?.architecture === "amd64") ?? manifest.json.manifests[0];
        manifest = await client.getManifest(repository, pick.digest);
        if (!manifest) throw new WarmrunError(`${what}: ${ref} lists ${pick.digest}, which the registry lacks`);
    }
    const layers: any[] = manifest.json.layers ?? [];
    if (layers.length === 0) throw new WarmrunError(`${what}: upstream ${ref} has no layers, so there is no root tree to put on a disk`);
    let bytes = 0;
    for (const [i, layer] of layers.entries()) {
        if (!/tar/.test(layer.mediaType ?? "tar")) {
            throw new WarmrunError(`${what}: upstream ${ref} layer ${layer.digest} is ${layer.mediaType}, not a tar layer; use an image (e.g. a DebianRootfs or BaseImage) as the upstream`);
        }
        const file = path.join(scratch, `layer-${i}`);
        bytes += await client.downloadBlob(repository, layer.digest, file);
        await applyLayer(file, root, what);
        fs.rmSync(file);
    }
    return { layers: layers.length, bytes };
}

/** Bytes a tree needs on ext4, roughly: 4 KiB blocks per file, an inode each, plus the journal. */
export function estimateTreeBytes(root: string): { bytes: number; inodes: number } {
    let blocks = 0;
    let inodes = 0;
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            inodes++;
            const abs = path.join(dir, e.name);
            if (e.isDirectory()) {
                blocks++;
                walk(abs);
            } else if (e.isFile()) blocks += Math.ceil(fs.lstatSync(abs).size / 4096);
        }
    };
    walk(root);
    return { bytes: blocks * 4096, inodes };
}

/** The clear error for a disk too small for its tree. */
export function diskTooSmall(name: string, spec: Qcow2BuildSpec, needBytes: number): WarmrunError {
    const mib = Math.ceil((needBytes * 1.25) / 2 ** 20 / 64) * 64;
    return new WarmrunError(
        `${name}: the image's root tree needs about ${Math.ceil(needBytes / 2 ** 20)} MiB, more than the disk size ${spec.size}: ` +
            `raise warmrun:artifacts.${name}.size (e.g. ${mib >= 1024 ? `${Math.ceil(mib / 1024)}G` : `${mib}M`}); nothing was pushed`,
    );
}

/** Makes the ext4 filesystem from `root` and converts it; returns the qcow2 file. */
export async function makeQcow2FromTree(name: string, key: string, spec: Qcow2BuildSpec, root: string, scratch: string, log: (m: string) => void): Promise<string> {
    const need = estimateTreeBytes(root);
    if (need.bytes > spec.sizeBytes) throw diskTooSmall(name, spec, need.bytes);
    const raw = path.join(scratch, "disk.raw");
    fs.closeSync(fs.openSync(raw, "w"));
    fs.truncateSync(raw, spec.sizeBytes);
    log(`${name}: mke2fs -t ${spec.filesystem} -d (${Math.ceil(need.bytes / 2 ** 20)} MiB, ${need.inodes} entries) on ${spec.size}`);
    try {
        await runTool(name, "mke2fs", mke2fsArgs(spec, key, root, raw), { env: mke2fsEnv(), stream: () => undefined });
    } catch (e: any) {
        if (/allocate|No space|Could not|too small|not enough/i.test(e.message)) throw diskTooSmall(name, spec, Math.max(need.bytes, spec.sizeBytes));
        throw e;
    }
    const qcow2 = path.join(scratch, "disk.qcow2");
    log(`${name}: qemu-img convert -O qcow2 (${spec.compression})`);
    await runTool(name, "qemu-img", qemuImgConvertArgs(spec.compression, raw, qcow2), { stream: () => undefined });
    fs.rmSync(raw);
    return qcow2;
}

/** Substitutes {output} and {image} in a user's builder command. */
export function commandLine(command: string[], output: string, image: string): string[] {
    return command.map((a) => a.split("{output}").join(output).split("{image}").join(image));
}

/** Runs the user's own builder, which must leave a qcow2 at the output path. */
export async function makeQcow2WithCommand(name: string, spec: Qcow2BuildSpec, scratch: string, log: (m: string) => void): Promise<string> {
    const out = path.join(scratch, "disk.qcow2");
    const [cmd, ...args] = commandLine(spec.command!, out, spec.upstreamRef ?? "");
    log(`${name}: running ${cmd} (command builder)`);
    await runTool(name, cmd, args, { cwd: spec.commandCwd, env: { ...process.env, WARMRUN_OUTPUT: out, WARMRUN_IMAGE: spec.upstreamRef ?? "" } });
    if (!fs.existsSync(out)) throw new WarmrunError(`${name}: the command in warmrun:artifacts.${name}.command did not write the disk to {output} (${out})`);
    const { output } = await runTool(name, "qemu-img", ["info", "--output=json", out], { stream: () => undefined });
    const format = JSON.parse(output).format;
    if (format !== "qcow2") throw new WarmrunError(`${name}: the command wrote a ${format} disk, not qcow2: convert it in the command (qemu-img convert -O qcow2)`);
    return out;
}

/** The tar entries of the layer: each parent directory of the disk path (and of the extra files' paths), then the disk. */
export function containerDiskEntries(diskPath: string, extraPaths: string[] = []): { dirs: string[]; file: string; extras: string[] } {
    const rel = (p: string) => p.replace(/^\/+/, "");
    const dirs: string[] = [];
    for (const p of [diskPath, ...extraPaths]) {
        const parts = rel(p).split("/");
        for (let i = 1; i < parts.length; i++) {
            const d = parts.slice(0, i).join("/") + "/";
            if (!dirs.includes(d)) dirs.push(d);
        }
    }
    return { dirs, file: rel(diskPath), extras: extraPaths.map(rel) };
}

/** A file the containerDisk carries besides the disk (a kernel, an initrd): its path in the image and where it is now. */
export interface ContainerDiskExtra {
    path: string;
    file: string;
}

/** Version-sorts kernel file names: vmlinuz-6.12.9 after vmlinuz-6.1.0. */
function byVersion(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/**
 * The kernel and initrd of an unpacked tree (Debian's /boot/vmlinuz-<version>, /boot/initrd.img-<version>,
 * the newest when there are several); a clear error when the tree has none.
 */
export function treeKernel(root: string, name: string): { version: string; kernel: string; initrd: string } {
    const boot = path.join(root, "boot");
    const fix = `install a kernel in the upstream image (e.g. Debian's linux-image-cloud-amd64, which also makes the initramfs), or drop warmrun:artifacts.${name}.kernelBoot`;
    const kernels = fs.existsSync(boot) ? fs.readdirSync(boot).filter((f) => /^vmlinuz-/.test(f)).sort(byVersion) : [];
    if (!kernels.length) throw new WarmrunError(`${name}: kernelBoot: the upstream image has no /boot/vmlinuz-*: ${fix}`);
    const version = kernels[kernels.length - 1].slice("vmlinuz-".length);
    const initrd = path.join(boot, `initrd.img-${version}`);
    if (!fs.existsSync(initrd)) throw new WarmrunError(`${name}: kernelBoot: the upstream image has /boot/vmlinuz-${version} but no /boot/initrd.img-${version}: ${fix}`);
    return { version, kernel: path.join(boot, `vmlinuz-${version}`), initrd };
}

/**
 * Writes the containerDisk layer: an uncompressed tar (a qcow2 is compressed already, and `get`
 * then streams the disk straight out of it), entries owned by 107:107, mtime 0.
 */
export async function writeContainerDiskLayer(qcow2: string, diskPath: string, outFile: string, extras: ContainerDiskExtra[] = []): Promise<LayerFile & { diskSha256: string }> {
    const pack = tarStream.pack();
    const layerHash = createHash("sha256");
    const diskHash = createHash("sha256");
    let size = 0;
    const done = pipeline(
        pack,
        async function* (source: AsyncIterable<any>) {
            for await (const chunk of source) {
                layerHash.update(chunk);
                size += chunk.length;
                yield chunk;
            }
        },
        fs.createWriteStream(outFile),
    );
    const owner = { uid: CONTAINERDISK_OWNER, gid: CONTAINERDISK_OWNER, uname: "", gname: "", mtime: new Date(0) };
    const { dirs, file, extras: extraNames } = containerDiskEntries(diskPath, extras.map((e) => e.path));
    for (const d of dirs) pack.entry({ name: d, type: "directory", mode: 0o555, ...owner });
    const entry = pack.entry({ name: file, type: "file", mode: 0o440, size: fs.statSync(qcow2).size, ...owner });
    await pipeline(
        fs.createReadStream(qcow2, { highWaterMark: 1 << 20 }),
        async function* (source: AsyncIterable<any>) {
            for await (const chunk of source) {
                diskHash.update(chunk);
                yield chunk;
            }
        },
        entry as any,
    );
    for (const [i, extra] of extras.entries()) {
        const e = pack.entry({ name: extraNames[i], type: "file", mode: 0o444, size: fs.statSync(extra.file).size, ...owner });
        await pipeline(fs.createReadStream(extra.file, { highWaterMark: 1 << 20 }), e as any);
    }
    pack.finalize();
    await done;
    const digest = `sha256:${layerHash.digest("hex")}`;
    return { file: outFile, digest, diffId: digest, size, mediaType: MEDIA.ociLayerTar, diskSha256: diskHash.digest("hex") };
}

/** Packages a qcow2 as a containerDisk and pushes it (blobs first, manifest last) under `tag`. */
export async function pushContainerDisk(
    client: RegistryClient,
    repository: string,
    tag: string,
    qcow2: string,
    diskPath: string,
    scratch: string,
    annotations: Record<string, string>,
    provenance?: Provenance,
    extras: ContainerDiskExtra[] = [],
): Promise<{ digest: string; diskSha256: string; layerBytes: number }> {
    const layer = await writeContainerDiskLayer(qcow2, diskPath, path.join(scratch, "layer.tar"), extras);
    const all = { ...annotations, [DISK_PATH_ANNOTATION]: diskPath, [DISK_SHA256_ANNOTATION]: `sha256:${layer.diskSha256}` };
    const config = imageConfig([layer], { env: [], labels: all, createdBy: `warmrun ${QCOW2_KIND}: ${diskPath}` });
    const digest = await pushImage(client, repository, tag, [layer], config, all, provenance);
    return { digest, diskSha256: layer.diskSha256, layerBytes: layer.size };
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
    const { inputs, client, log } = ctx;
    const spec = inputs.build as Qcow2BuildSpec;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-qcow2-"));
    try {
        let qcow2: string;
        let downloads = { count: 0, bytes: 0 };
        // The SBOM lists the tree's Debian packages; a command builder's disk, only its inputs.
        let sbom: SbomParts = {};
        const extras: ContainerDiskExtra[] = [];
        const bootAnnotations: Record<string, string> = {};
        if (spec.command) {
            qcow2 = await makeQcow2WithCommand(inputs.name, spec, scratch, log);
        } else {
            if (!spec.upstreamRef) throw new WarmrunError(`${inputs.name}: a Qcow2Image needs one upstream image (or a command)`);
            const { host } = parseReference(spec.upstreamRef);
            if (host !== inputs.registry.host) throw new WarmrunError(`${inputs.name}: upstream ${spec.upstreamRef} is not in ${inputs.registry.host}`);
            const root = path.join(scratch, "root");
            fs.mkdirSync(root);
            log(`${inputs.name}: unpacking ${spec.upstreamRef}`);
            const got = await unpackImage(client, spec.upstreamRef, root, scratch, inputs.name);
            downloads = { count: got.layers, bytes: got.bytes };
            sbom = { debs: debPackagesOfTree(root) };
            if (spec.kernelBoot) {
                const k = treeKernel(root, inputs.name);
                for (const [from, to, file] of [[k.kernel, KERNEL_PATH, "vmlinuz"], [k.initrd, INITRD_PATH, "initrd.img"]]) {
                    const copy = path.join(scratch, file);
                    fs.copyFileSync(from, copy);
                    extras.push({ path: to, file: copy });
                }
                Object.assign(bootAnnotations, { [KERNEL_PATH_ANNOTATION]: KERNEL_PATH, [INITRD_PATH_ANNOTATION]: INITRD_PATH, [KERNEL_ARGS_ANNOTATION]: spec.kernelBoot.kernelArgs });
                log(`${inputs.name}: kernel ${k.version} and its initrd go in the image at ${KERNEL_PATH}, ${INITRD_PATH} (kernelBoot)`);
            }
            qcow2 = await makeQcow2FromTree(inputs.name, inputs.key, spec, root, scratch, log);
            fs.rmSync(root, { recursive: true, force: true });
        }
        const annotations = { ...artifactAnnotations({ key: inputs.key, kind: QCOW2_KIND, name: inputs.name }), ...bootAnnotations };
        const pushed = await pushContainerDisk(client, inputs.repository, inputs.tag, qcow2, spec.diskPath, scratch, annotations, inputs.provenance, extras);
        log(`${inputs.name}: qcow2 ${Math.round(fs.statSync(qcow2).size / 2 ** 20)} MiB, sha256 ${pushed.diskSha256}`);
        return { digest: pushed.digest, downloads, sbom };
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
