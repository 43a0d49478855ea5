// The SBOM of a build, made once, right after the artifact's manifest is pushed (an adopted
// artifact keeps the one it has): an SPDX 2.3 JSON document attached to that manifest as an OCI
// referrer. Provider side: what the builders found in the tree (SbomParts) comes with their result.
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { execFile } from "child_process";
import { BuildContext, BuildResult, Builder } from "../lifecycle";
import { pushReferrer, SPDX_JSON } from "../oci/referrers";
import { OCI_CREATED } from "../oci/provenance";
import { KEY_ANNOTATION } from "../lifecycle";
import { WarmrunError } from "../errors";
import { debPackagesOfTree } from "./dpkg";
import { externalCrates } from "./cargoLock";
import { SBOM_TITLE, SbomParts, spdxDocument } from "./spdx";

const run = promisify(execFile);

/** The document's bytes: canonical enough to be equal for equal inputs (keys in the order written, 2-space indent). */
export function sbomBytes(doc: Record<string, unknown>): Buffer {
    return Buffer.from(JSON.stringify(doc, null, 2) + "\n");
}

/** Builds the SPDX document of what was pushed and attaches it; returns the referrer's digest. */
export async function attachSbom(ctx: BuildContext, result: BuildResult): Promise<string | undefined> {
    if (!result.sbom) return undefined;
    const { inputs, client, log } = ctx;
    const manifest = await client.getManifest(inputs.repository, result.digest);
    if (!manifest) throw new WarmrunError(`${inputs.name}: manifest ${result.digest} vanished before its SBOM was attached; run again`);
    const doc = spdxDocument(
        { name: inputs.name, kind: inputs.kind, key: inputs.key, repository: `${inputs.registry.host}/${inputs.repository}`, digest: result.digest, inputs: inputs.inputs, provenance: inputs.provenance },
        result.sbom,
    );
    const pushed = await pushReferrer(
        client,
        inputs.repository,
        { mediaType: manifest.mediaType, digest: result.digest, size: manifest.body.length },
        {
            artifactType: SPDX_JSON,
            mediaType: SPDX_JSON,
            data: sbomBytes(doc),
            title: SBOM_TITLE,
            annotations: { [KEY_ANNOTATION]: inputs.key, ...(inputs.provenance?.created ? { [OCI_CREATED]: inputs.provenance.created } : {}) },
        },
    );
    const counts = `${result.sbom.debs?.length ?? 0} Debian packages, ${result.sbom.crates?.length ?? 0} crates`;
    log(`${inputs.name}: SBOM (SPDX 2.3, ${counts}) attached as ${pushed.digest}${pushed.referrersApi ? "" : ` (referrers tag ${result.digest.replace(":", "-")})`}`);
    return pushed.digest;
}

/** A builder whose result's SBOM parts become the artifact's SBOM referrer. */
export function withSbom(builder: Builder): Builder {
    return async (ctx) => {
        const result = await builder(ctx);
        await attachSbom(ctx, result);
        return result;
    };
}

/** The Debian packages of an image in buildah's local storage, read from a mount of it. */
export async function debPackagesOfLocalImage(what: string, image: string, global: string[]): Promise<SbomParts["debs"]> {
    let container: string | undefined;
    try {
        container = (await run("buildah", [...global, "from", "--pull=never", image], { maxBuffer: 1 << 20 })).stdout.trim().split("\n").pop();
        const mount = (await run("buildah", [...global, "mount", container!], { maxBuffer: 1 << 20 })).stdout.trim().split("\n").pop()!;
        return debPackagesOfTree(mount);
    } catch (e: any) {
        throw new WarmrunError(`${what}: reading the built image's dpkg database for its SBOM failed: ${String(e?.stderr || e?.message).trim().slice(0, 300)}`);
    } finally {
        if (container) await run("buildah", [...global, "rm", container]).catch(() => undefined);
    }
}

/** The crates of a deps image: the external packages of the Cargo.lock at the root of its build context. */
export function cratesOfContext(files: { path: string; from?: string; text?: string }[]): SbomParts["crates"] {
    const lock = files.find((f) => f.path === "Cargo.lock");
    if (!lock) return undefined;
    const text = lock.text ?? (lock.from && fs.existsSync(lock.from) ? fs.readFileSync(path.resolve(lock.from), "utf8") : undefined);
    return text === undefined ? undefined : externalCrates(text);
}
