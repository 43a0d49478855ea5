// OCI images made without a daemon: a directory becomes a gzip layer (streamed, hashed on the
// way), a config without timestamps, and the image is pushed through push.ts (manifest last).
import * as fs from "fs";
import * as zlib from "zlib";
import { spawn } from "child_process";
import { createHash } from "crypto";
import { pipeline } from "stream/promises";
import { Transform } from "stream";
import { RegistryClient } from "./registry";
import { MEDIA } from "./manifest";
import { pushArtifact } from "./push";
import { Provenance } from "./provenance";
import { WarmrunError } from "../core/errors";

export interface LayerFile {
    file: string;
    /** sha256 of the compressed blob. */
    digest: string;
    /** sha256 of the uncompressed tar (the config's rootfs.diff_ids). */
    diffId: string;
    size: number;
    /** Layer media type (default: gzip tar). */
    mediaType?: string;
}

function hashing(onDone: (hex: string, bytes: number) => void): Transform {
    const h = createHash("sha256");
    let bytes = 0;
    return new Transform({
        transform(chunk, _enc, cb) {
            h.update(chunk);
            bytes += chunk.length;
            cb(null, chunk);
        },
        flush(cb) {
            onDone(h.digest("hex"), bytes);
            cb();
        },
    });
}

/**
 * Packs a directory tree into a gzip layer with GNU tar (numeric owners, sorted names, so the
 * layer depends on the tree, not on the order the filesystem lists it).
 */
export async function layerFromDirectory(dir: string, outFile: string, tarArgs: string[] = ["."]): Promise<LayerFile> {
    const tar = spawn("tar", ["--sort=name", "--numeric-owner", "--xattrs", "-C", dir, "-cf", "-", ...tarArgs], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    tar.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => tar.on("close", (code) => resolve(code ?? 1)));
    let diffId = "";
    let digest = "";
    let size = 0;
    await pipeline(
        tar.stdout,
        hashing((hex) => (diffId = `sha256:${hex}`)),
        zlib.createGzip({ level: 6 }),
        hashing((hex, bytes) => {
            digest = `sha256:${hex}`;
            size = bytes;
        }),
        fs.createWriteStream(outFile),
    );
    const code = await exited;
    if (code !== 0) throw new WarmrunError(`tar of ${dir} failed (${code}): ${stderr.trim().slice(0, 500)}`);
    return { file: outFile, digest, diffId, size };
}

export interface ImageConfigOptions {
    env?: string[];
    cmd?: string[];
    labels?: Record<string, string>;
    user?: string;
    workingDir?: string;
    createdBy: string;
}

/** An image config with no timestamps, so equal layers and options give an equal digest. */
export function imageConfig(layers: LayerFile[], opts: ImageConfigOptions): Buffer {
    const config = {
        architecture: "amd64",
        os: "linux",
        config: {
            Env: opts.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            ...(opts.cmd ? { Cmd: opts.cmd } : {}),
            ...(opts.user ? { User: opts.user } : {}),
            ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
            Labels: opts.labels ?? {},
        },
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created_by: opts.createdBy })),
    };
    return Buffer.from(JSON.stringify(config));
}

/** Pushes layers and config (each only if missing), then the manifest under the tag. */
export function pushImage(
    client: RegistryClient,
    repository: string,
    tag: string,
    layers: LayerFile[],
    config: Buffer,
    annotations: Record<string, string>,
    provenance?: Provenance,
): Promise<string> {
    return pushArtifact(client, {
        repository,
        tag,
        config: { mediaType: MEDIA.ociConfig, data: config },
        layers: layers.map((l) => ({ mediaType: l.mediaType ?? MEDIA.ociLayerGzip, digest: l.digest, size: l.size, file: l.file })),
        annotations,
        provenance,
    });
}
