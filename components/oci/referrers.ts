// OCI referrers: an artifact attached to a manifest (its `subject`), e.g. an SBOM. Registries with
// the referrers API index it themselves (they answer the PUT with OCI-Subject); for the others
// (Debian's docker-registry among them) the client keeps the index itself, under the tag
// `sha256-<hex of the subject digest>`, as the image spec's referrers tag schema says.
import { RegistryClient, MEDIA, digestOf } from "../registry";
import { titled } from "./provenance";

export const SPDX_JSON = "application/spdx+json";
/** The empty config descriptor every artifact manifest without a config of its own points to. */
export const EMPTY_CONFIG = Buffer.from("{}");

export interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    artifactType?: string;
    annotations?: Record<string, string>;
}

/** The tag of the referrers tag schema for a subject digest: sha256:abc... -> sha256-abc... */
export function referrersTag(digest: string): string {
    return digest.replace(":", "-");
}

/** An artifact manifest: one blob (titled), the empty config, the subject it is attached to. */
export function referrerManifest(subject: Descriptor, artifactType: string, blob: Descriptor, annotations: Record<string, string> = {}): Buffer {
    return Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA.ociManifest,
            artifactType,
            config: { mediaType: MEDIA.ociEmpty, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
            layers: [blob],
            subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
            ...(Object.keys(annotations).length ? { annotations } : {}),
        }),
    );
}

/** The fallback index with `entry` added (an entry of the same digest is replaced); `changed` false when it was there as it is. */
export function addToReferrersIndex(index: any | undefined, entry: Descriptor): { changed: boolean; body: Buffer } {
    const manifests: Descriptor[] = Array.isArray(index?.manifests) ? index.manifests : [];
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
    annotations?: Record<string, string>;
}

/**
 * Attaches an artifact to `subject` in `repository`: the blobs, then the manifest by digest, then,
 * when the registry did not index it itself, the referrers tag's index. Returns the manifest's digest.
 */
export async function pushReferrer(client: RegistryClient, repository: string, subject: Descriptor, artifact: AttachedArtifact): Promise<{ digest: string; referrersApi: boolean }> {
    const blob: Descriptor = { mediaType: artifact.mediaType, digest: digestOf(artifact.data), size: artifact.data.length, annotations: titled(artifact.title) };
    await client.pushBlob(repository, { digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length, data: EMPTY_CONFIG });
    await client.pushBlob(repository, { digest: blob.digest, size: blob.size, data: artifact.data });
    const manifest = referrerManifest(subject, artifact.artifactType, blob, artifact.annotations);
    const digest = digestOf(manifest);
    const put = await client.putManifestWithSubject(repository, digest, MEDIA.ociManifest, manifest);
    if (put.ociSubject) return { digest, referrersApi: true };
    const tag = referrersTag(subject.digest);
    const existing = await client.getManifest(repository, tag);
    const entry: Descriptor = {
        mediaType: MEDIA.ociManifest,
        digest,
        size: manifest.length,
        artifactType: artifact.artifactType,
        ...(artifact.annotations && Object.keys(artifact.annotations).length ? { annotations: artifact.annotations } : {}),
    };
    const next = addToReferrersIndex(existing?.json, entry);
    if (next.changed) await client.putManifest(repository, tag, MEDIA.ociIndex, next.body);
    return { digest, referrersApi: false };
}

/** The referrers of `digest`, through the API where the registry has it, else the referrers tag; optionally of one artifact type. */
export async function listReferrers(client: RegistryClient, repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const index = (await client.getReferrers(repository, digest)) ?? (await client.getManifest(repository, referrersTag(digest)))?.json;
    const all: Descriptor[] = Array.isArray(index?.manifests) ? index.manifests : [];
    return artifactType ? all.filter((m) => m.artifactType === artifactType) : all;
}
