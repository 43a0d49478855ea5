// OCI referrers: an artifact attached to a manifest (its `subject`), e.g. an SBOM. Registries with
// the referrers API index it themselves; for the others (Debian's docker-registry among them) the
// client keeps the index, under the tag `sha256-<hex of the subject digest>`, as the image spec's
// referrers tag schema says.
import { RegistryClient } from "./registry";
import { Descriptor, digestOf, MEDIA } from "./manifest";
import { EMPTY_CONFIG, pushArtifact } from "./push";
import { Provenance } from "./provenance";
import { TITLE_ANNOTATION } from "./annotations";

/** An entry of a referrers index: a manifest descriptor with the artifact's type. */
export interface ReferrerDescriptor extends Descriptor {
    artifactType?: string;
}

/** The tag of the referrers tag schema for a subject digest: sha256:abc... -> sha256-abc... */
export function referrersTag(digest: string): string {
    return digest.replace(":", "-");
}

/** The fallback index with `entry` added (an entry of the same digest is replaced); `changed` false when it was there as it is. */
export function addToReferrersIndex(index: any | undefined, entry: ReferrerDescriptor): { changed: boolean; body: Buffer } {
    const manifests: ReferrerDescriptor[] = Array.isArray(index?.manifests) ? index.manifests : [];
    const same = manifests.find((m) => m.digest === entry.digest);
    const changed = !same || JSON.stringify(same) !== JSON.stringify(entry);
    const next = [...manifests.filter((m) => m.digest !== entry.digest), entry];
    return { changed, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: next })) };
}

export interface AttachedArtifact {
    artifactType: string;
    /** Media type of the one blob, e.g. application/spdx+json. */
    mediaType: string;
    data: Buffer;
    /** File name a client writes the blob to (org.opencontainers.image.title). */
    title: string;
    /** Annotations of the artifact manifest (and of its entry in the referrers index). */
    annotations: Record<string, string>;
    provenance?: Provenance;
}

/**
 * Attaches an artifact to `subject` in `repository`: its blob, then its manifest by digest (through
 * oci/push.ts), then, when the registry has no referrers API, the referrers tag's index.
 */
export async function pushReferrer(client: RegistryClient, repository: string, subject: Descriptor, artifact: AttachedArtifact): Promise<{ digest: string; referrersApi: boolean }> {
    const layer = { mediaType: artifact.mediaType, digest: digestOf(artifact.data), size: artifact.data.length, data: artifact.data, annotations: { [TITLE_ANNOTATION]: artifact.title } };
    const digest = await pushArtifact(client, {
        repository,
        artifactType: artifact.artifactType,
        config: { mediaType: MEDIA.ociEmpty, data: EMPTY_CONFIG },
        layers: [layer],
        annotations: artifact.annotations,
        provenance: artifact.provenance,
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    });
    if (await client.getReferrers(repository, subject.digest)) return { digest, referrersApi: true };
    const pushed = await client.getManifest(repository, digest);
    const entry: ReferrerDescriptor = { mediaType: MEDIA.ociManifest, digest, size: pushed?.body.length ?? 0, artifactType: artifact.artifactType, annotations: pushed?.json.annotations ?? artifact.annotations };
    const tag = referrersTag(subject.digest);
    const next = addToReferrersIndex((await client.getManifest(repository, tag))?.json, entry);
    if (next.changed) await client.putManifest(repository, tag, MEDIA.ociIndex, next.body);
    return { digest, referrersApi: false };
}

/** The referrers of `digest`, through the API where the registry has it, else the referrers tag; optionally of one artifact type. */
export async function listReferrers(client: RegistryClient, repository: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    const index = (await client.getReferrers(repository, digest)) ?? (await client.getManifest(repository, referrersTag(digest)))?.json;
    const all: ReferrerDescriptor[] = Array.isArray(index?.manifests) ? index.manifests : [];
    return artifactType ? all.filter((m) => m.artifactType === artifactType) : all;
}
