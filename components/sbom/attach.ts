// The SBOM of a build, made once, right after the artifact's manifest is pushed (an adopted
// artifact keeps the one it has): an SPDX 2.3 JSON document attached to that manifest as an OCI
// referrer. Provider side: what the builders found in the tree (SbomParts) comes with their result.
import type { BuildContext } from "../core/lifecycle";
import { WarmrunError } from "../core/errors";
import { pushReferrer, referrersTag } from "../oci/referrers";
import { KEY_ANNOTATION } from "../oci/annotations";
import { SBOM_TITLE, SbomParts, SPDX_JSON, spdxDocument } from "./spdx";

/** The document's bytes: equal for equal inputs (keys in the order written, 2-space indent). */
export function sbomBytes(doc: Record<string, unknown>): Buffer {
    return Buffer.from(JSON.stringify(doc, null, 2) + "\n");
}

/** Builds the SPDX document of what was pushed as `digest` and attaches it; returns the referrer's digest. */
export async function attachSbom(ctx: BuildContext, digest: string, parts: SbomParts): Promise<string> {
    const { inputs, client, log } = ctx;
    const manifest = await client.getManifest(inputs.repository, digest);
    if (!manifest) throw new WarmrunError(`${inputs.name}: manifest ${digest} vanished before its SBOM was attached; run again`);
    const doc = spdxDocument(
        { name: inputs.name, kind: inputs.kind, key: inputs.key, repository: `${inputs.registry.host}/${inputs.repository}`, digest, inputs: inputs.inputs, provenance: inputs.provenance },
        parts,
    );
    // The referrer says where it came from too; what it is based on is its subject's business.
    const { base: _base, ...origin } = inputs.provenance ?? {};
    const pushed = await pushReferrer(
        client,
        inputs.repository,
        { mediaType: manifest.mediaType, digest, size: manifest.body.length },
        { artifactType: SPDX_JSON, mediaType: SPDX_JSON, data: sbomBytes(doc), title: SBOM_TITLE, annotations: { [KEY_ANNOTATION]: inputs.key }, provenance: origin },
    );
    const counts = `${parts.debs?.length ?? 0} Debian packages, ${parts.crates?.length ?? 0} crates`;
    log(`${inputs.name}: SBOM (SPDX 2.3, ${counts}) attached as ${pushed.digest}${pushed.referrersApi ? "" : ` (referrers tag ${referrersTag(digest)})`}`);
    return pushed.digest;
}
