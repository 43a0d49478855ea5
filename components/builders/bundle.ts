// FileBundle: a file tree as a single-layer OCI artifact. The layer is a reproducible tar.gz
// (sorted entries, mtime 0, owner 0:0, mode 0644/0755), so equal inputs give equal digests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { createHash } from "crypto";
import { pipeline } from "stream/promises";
import * as tarStream from "tar-stream";
import { computeKey, FileEntry } from "../keys";
import { hashFiles, listFiles, StatCache } from "../fileset";
import { WarmrunError } from "../errors";
import { MEDIA, digestOf } from "../registry";
import { BuildContext, BuildResult, KEY_ANNOTATION, KIND_ANNOTATION, ARTIFACT_ANNOTATION } from "../lifecycle";
import { NO_DOWNLOADS } from "../journal";
import { titled, withProvenance } from "../oci/provenance";

export const BUNDLE_KIND = "FileBundle";
export const BUNDLE_RECIPE_VERSION = 1;
export const BUNDLE_ARTIFACT_TYPE = "application/vnd.warmrun.bundle.v1";

export interface BundleBuildSpec {
    root: string;
    include?: string[];
    ignore?: string[];
    params: Record<string, unknown>;
    upstream: Record<string, string>;
}

/** Writes the files as a reproducible tar.gz; returns its digest and size. */
export async function writeBundleLayer(root: string, files: FileEntry[], outFile: string): Promise<{ digest: string; size: number }> {
    const pack = tarStream.pack();
    const hash = createHash("sha256");
    let size = 0;
    const gzip = zlib.createGzip({ level: 6 });
    const out = fs.createWriteStream(outFile);
    const done = pipeline(pack, gzip, async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
        }
    }, out);
    for (const f of files) {
        const abs = path.join(root, f.path);
        const st = await fs.promises.stat(abs);
        const entry = pack.entry({
            name: f.path,
            size: st.size,
            mode: f.executable ? 0o755 : 0o644,
            mtime: new Date(0),
            uid: 0,
            gid: 0,
            uname: "",
            gname: "",
            type: "file",
        });
        await pipeline(fs.createReadStream(abs), entry);
    }
    pack.finalize();
    await done;
    return { digest: `sha256:${hash.digest("hex")}`, size };
}

export async function buildBundle(ctx: BuildContext): Promise<BuildResult> {
    const { inputs, client } = ctx;
    const spec = inputs.build as BundleBuildSpec;
    const root = path.resolve(spec.root);
    if (!fs.existsSync(root)) {
        throw new WarmrunError(`${inputs.name}: input directory ${spec.root} does not exist`);
    }
    const files = await hashFiles(root, await listFiles({ root, include: spec.include, ignore: spec.ignore }), new StatCache());
    const key = computeKey({ kind: BUNDLE_KIND, recipeVersion: BUNDLE_RECIPE_VERSION, files, params: spec.params, upstream: spec.upstream });
    if (key !== inputs.key) {
        throw new WarmrunError(`${inputs.name}: the files under ${spec.root} changed while this run was going on; run again`);
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bundle-"));
    try {
        const layerFile = path.join(tmp, "layer.tar.gz");
        const layer = await writeBundleLayer(root, files, layerFile);
        const config = Buffer.from("{}");
        await client.pushBlob(inputs.repository, { digest: digestOf(config), size: config.length, data: config });
        await client.pushBlob(inputs.repository, { digest: layer.digest, size: layer.size, file: layerFile });
        const manifest = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: MEDIA.ociManifest,
                artifactType: BUNDLE_ARTIFACT_TYPE,
                config: { mediaType: MEDIA.ociEmpty, digest: digestOf(config), size: config.length },
                layers: [{ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size, annotations: titled(`${inputs.name}.tar.gz`) }],
                annotations: withProvenance(
                    {
                        [KEY_ANNOTATION]: inputs.key,
                        [KIND_ANNOTATION]: BUNDLE_KIND,
                        [ARTIFACT_ANNOTATION]: inputs.name,
                    },
                    inputs.provenance,
                ),
            }),
        );
        const digest = await client.putManifest(inputs.repository, inputs.tag, MEDIA.ociManifest, manifest);
        return { digest, downloads: NO_DOWNLOADS };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
