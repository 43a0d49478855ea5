// Getting a disk out of a containerDisk image and putting one in, without a container runtime:
// the layer streams from the registry through a tar reader straight into the file in large writes,
// its digest checked on the way (the one hash pass over the bytes); a file whose layer does not
// verify is deleted, never left behind.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { createHash, Hash } from "crypto";
import { Transform } from "stream";
import { pipeline } from "stream/promises";
import * as tarStream from "tar-stream";
import { RegistryClient } from "../../oci/registry";
import { WarmrunError } from "../../core/errors";
import { DISK_PATH_ANNOTATION, DISK_SHA256_ANNOTATION } from "../../oci/annotations";
import { BatchedFile, WRITE_BATCH_BYTES } from "../../oci/blobFile";

export interface RestoreResult {
    found: boolean;
    /** Manifest digest restored from. */
    digest?: string;
    /** sha256 of the restored disk (hex): its manifest's record, covered by the verified layer digest, else hashed. */
    sha256?: string;
    bytes?: number;
    diskPath?: string;
    /** The manifest's annotations (kernel and initrd paths, kernel command line...). */
    annotations?: Record<string, string>;
    /** Image path -> file, of each extra file restored. */
    extras?: Record<string, string>;
}

/** A progress line for a terminal: `[#####-----]  50%  12/24 MiB`. */
export function progressLine(done: number, total: number, width = 30): string {
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    if (!total) return `${mib(done)} MiB`;
    const frac = Math.min(1, done / total);
    const filled = Math.round(frac * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${mib(done)}/${mib(total)} MiB`;
}

/** Is this tar entry the disk? The annotated path, else the first *.qcow2 (or *.img) file. */
export function isDiskEntry(name: string, diskPath: string | undefined): boolean {
    const rel = name.replace(/^\.?\/+/, "");
    if (diskPath) return rel === diskPath.replace(/^\/+/, "");
    return /\.(qcow2|img)$/.test(rel);
}

/**
 * Restores the disk of `repository:reference` into `file`. Missing tag: `{found: false}`.
 * `progress` is called with (bytes received, layer size).
 */
export async function restoreDisk(
    client: RegistryClient,
    repository: string,
    reference: string,
    file: string,
    opts: { diskPath?: string; progress?: (done: number, total: number) => void; extras?: (annotations: Record<string, string>) => Record<string, string> } = {},
): Promise<RestoreResult> {
    let manifest = await client.getManifest(repository, reference);
    if (!manifest) return { found: false };
    if (manifest.json.manifests) {
        const pick = (manifest.json.manifests as any[]).find((m) => m.platform?.architecture === "amd64") ?? manifest.json.manifests[0];
        manifest = await client.getManifest(repository, pick.digest);
        if (!manifest) return { found: false };
    }
    const annotations = { ...(manifest.json.annotations ?? {}) };
    const diskPath: string | undefined = opts.diskPath ?? annotations[DISK_PATH_ANNOTATION];
    // The manifest's record of the disk's sha256: the layer digest, checked below, covers the disk's
    // bytes, so they are not hashed a second time. A disk without the annotation is hashed as it is written.
    const recorded = /^sha256:([0-9a-f]{64})$/.exec(annotations[DISK_SHA256_ANNOTATION] ?? "")?.[1];
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const partial = `${file}.partial`;
    // Extra files (a bootable disk's kernel and initrd) come out of the same layer, each to its own partial file.
    const extras = opts.extras?.(annotations) ?? {};
    const extraPartials: Record<string, string> = Object.fromEntries(Object.entries(extras).map(([p, f]) => [p.replace(/^\/+/, ""), `${f}.partial`]));
    try {
        for (const layer of (manifest.json.layers ?? []) as any[]) {
            const got = await streamLayer(client, repository, layer, partial, diskPath, recorded === undefined, opts.progress, extraPartials);
            if (!got) continue;
            const missing = Object.keys(extras).filter((p) => !got.extras.includes(p.replace(/^\/+/, "")));
            if (missing.length) throw new WarmrunError(`${repository}@${manifest.digest}: its annotations name ${missing.join(", ")}, which its layer does not hold; nothing was written`);
            for (const [p, f] of Object.entries(extras)) {
                fs.mkdirSync(path.dirname(path.resolve(f)), { recursive: true });
                fs.renameSync(extraPartials[p.replace(/^\/+/, "")], f);
            }
            fs.renameSync(partial, file);
            return { found: true, digest: manifest.digest, sha256: got.sha256 ?? recorded, bytes: got.bytes, diskPath: got.name, annotations, extras };
        }
    } finally {
        fs.rmSync(partial, { force: true });
        for (const p of Object.values(extraPartials)) fs.rmSync(p, { force: true });
    }
    throw new WarmrunError(
        `${repository}:${reference} holds no ${diskPath ?? "*.qcow2"} file: is it a containerDisk? Give the path inside the image with --disk-path (e.g. /qcow2/disk.qcow2)`,
    );
}

/** The tar entry's bytes into `out` in large writes, hashed on the way when `hash` is given. */
async function writeEntry(stream: AsyncIterable<Buffer>, out: string, hash: Hash | undefined): Promise<number> {
    const file = await BatchedFile.create(out);
    try {
        for await (const chunk of stream) {
            hash?.update(chunk);
            await file.write(chunk);
        }
    } finally {
        await file.close();
    }
    return file.bytes;
}

/**
 * Streams one layer: HTTP body -> layer digest (the one hash pass over what arrives) -> (gunzip) ->
 * tar -> the disk's file, in large writes; the disk's own sha256 only when `hashDisk`.
 */
async function streamLayer(
    client: RegistryClient,
    repository: string,
    layer: { digest: string; size: number; mediaType?: string },
    out: string,
    diskPath: string | undefined,
    hashDisk: boolean,
    progress?: (done: number, total: number) => void,
    extraFiles: Record<string, string> = {},
): Promise<{ sha256?: string; bytes: number; name: string; extras: string[] } | undefined> {
    const { body } = await client.openBlob(repository, layer.digest);
    const layerHash = createHash("sha256");
    let received = 0;
    const counting = new Transform({
        highWaterMark: 1 << 20,
        transform(chunk, _e, cb) {
            layerHash.update(chunk);
            received += chunk.length;
            progress?.(received, layer.size);
            cb(null, chunk);
        },
    });
    const gzip = /gzip/.test(layer.mediaType ?? "");
    const extract = tarStream.extract();
    let found: { sha256?: string; bytes: number; name: string } | undefined;
    const extrasFound: string[] = [];
    extract.on("entry", (header, stream, next) => {
        const rel = header.name.replace(/^\.?\/+/, "");
        if (header.type === "file" && extraFiles[rel] && !extrasFound.includes(rel)) {
            pipeline(stream, fs.createWriteStream(extraFiles[rel], { mode: 0o644 })).then(
                () => {
                    extrasFound.push(rel);
                    next();
                },
                (err) => next(err),
            );
            return;
        }
        if (found || header.type !== "file" || !isDiskEntry(header.name, diskPath)) {
            stream.on("end", next);
            stream.resume();
            return;
        }
        const diskHash = hashDisk ? createHash("sha256") : undefined;
        writeEntry(stream as AsyncIterable<Buffer>, out, diskHash).then(
            (bytes) => {
                found = { sha256: diskHash?.digest("hex"), bytes, name: "/" + header.name.replace(/^\.?\/+/, "") };
                next();
            },
            (err) => next(err),
        );
    });
    const stages: any[] = [body, counting];
    if (gzip) stages.push(zlib.createGunzip());
    stages.push(extract);
    await (pipeline as any)(...stages);
    const digest = `sha256:${layerHash.digest("hex")}`;
    if (digest !== layer.digest) {
        fs.rmSync(out, { force: true });
        for (const f of Object.values(extraFiles)) fs.rmSync(f, { force: true });
        throw new WarmrunError(`${repository}: layer ${layer.digest} arrived as ${digest}; the partial disk was deleted`);
    }
    return found && { ...found, extras: extrasFound };
}
