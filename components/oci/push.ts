// Pushing an artifact assembled here (an image made without a daemon, or an artifact that is not
// an image: a bundle, a disk, an ISO, an appliance's files): every blob first, each only if the
// registry lacks it, then the manifest, last, so a tag only ever names a complete artifact. Every
// manifest carries the artifact's provenance (oci/provenance.ts) besides its own annotations.
import { RegistryClient } from "./registry";
import { Descriptor, digestOf, manifestBytes, MEDIA } from "./manifest";
import { Provenance, withProvenance } from "./provenance";

/** A blob to push, from memory or from a file. */
export interface Blob extends Descriptor {
    data?: Buffer;
    file?: string;
}

export interface ArtifactPush {
    repository: string;
    /** Absent: the manifest is pushed by its digest only (a referrer). */
    tag?: string;
    /** The artifact's type; absent for an image. */
    artifactType?: string;
    config: { mediaType: string; data: Buffer };
    layers: Blob[];
    annotations: Record<string, string>;
    /** Where the artifact came from: the OCI provenance annotations (the artifact's own win on a clash). */
    provenance?: Provenance;
    /** The manifest this one is attached to (a referrer). */
    subject?: Descriptor;
}

/** The config blob of an artifact that needs none (OCI's empty descriptor). */
export const EMPTY_CONFIG = Buffer.from("{}");

/** Pushes the blobs, then the manifest under the tag (or its digest); returns the manifest's digest. */
export async function pushArtifact(client: RegistryClient, p: ArtifactPush): Promise<string> {
    for (const layer of p.layers) {
        await client.pushBlob(p.repository, { digest: layer.digest, size: layer.size, data: layer.data, file: layer.file });
    }
    const config: Descriptor = { mediaType: p.config.mediaType, digest: digestOf(p.config.data), size: p.config.data.length };
    await client.pushBlob(p.repository, { digest: config.digest, size: config.size, data: p.config.data });
    const layers: Descriptor[] = p.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) }));
    const manifest = manifestBytes({ artifactType: p.artifactType, config, layers, subject: p.subject, annotations: withProvenance(p.annotations, p.provenance) });
    return client.putManifest(p.repository, p.tag ?? digestOf(manifest), MEDIA.ociManifest, manifest);
}
