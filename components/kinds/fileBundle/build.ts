// FileBundle: a file tree as a single-layer OCI artifact. The layer is a reproducible tar.gz
// (sorted entries, mtime 0, owner 0:0, mode 0644/0755), so equal inputs give equal digests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { createHash } from "crypto";
import { pipeline } from "stream/promises";
import * as tarStream from "tar-stream";
import { computeKey, FileEntry } from "../../core/keys";
import { hashFiles, listFiles, StatCache } from "../../core/fileset";
import { WarmrunError } from "../../core/errors";
import { MEDIA } from "../../oci/manifest";
import { EMPTY_CONFIG, pushArtifact } from "../../oci/push";
import { artifactAnnotations, TITLE_ANNOTATION } from "../../oci/annotations";
import { BuildContext, BuildResult } from "../../core/lifecycle";
import { NO_DOWNLOADS } from "../../core/journal";
import { BUNDLE_KIND } from "./fields";
import { BUNDLE_RECIPE_VERSION, BundleBuildSpec } from "./plan";

export const BUNDLE_ARTIFACT_TYPE = "application/vnd.warmrun.bundle.v1";

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

export async function build(ctx: BuildContext): Promise<BuildResult> {
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
        const digest = await pushArtifact(client, {
            repository: inputs.repository,
            tag: inputs.tag,
            artifactType: BUNDLE_ARTIFACT_TYPE,
            config: { mediaType: MEDIA.ociEmpty, data: EMPTY_CONFIG },
            layers: [{ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size, file: layerFile, annotations: { [TITLE_ANNOTATION]: `${inputs.name}.tar.gz` } }],
            annotations: artifactAnnotations({ key: inputs.key, kind: BUNDLE_KIND, name: inputs.name }),
            provenance: inputs.provenance,
        });
        return { digest, downloads: NO_DOWNLOADS };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
