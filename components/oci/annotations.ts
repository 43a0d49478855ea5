// Every annotation (and image label) name warmrun writes or reads.

/** The artifact's full key (tags carry its short form). */
export const KEY_ANNOTATION = "dev.warmrun.key";
export const KIND_ANNOTATION = "dev.warmrun.kind";
/** The artifact's name in the stack's config. */
export const ARTIFACT_ANNOTATION = "dev.warmrun.artifact";
/** A containerDisk's path of the disk inside the image, and the disk's sha256. */
export const DISK_PATH_ANNOTATION = "dev.warmrun.disk-path";
export const DISK_SHA256_ANNOTATION = "dev.warmrun.disk-sha256";
/** The OCI name of a blob's file (one per layer of a non-image artifact). */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";

/** The annotations every warmrun manifest carries. */
export function artifactAnnotations(a: { key: string; kind: string; name: string }): Record<string, string> {
    return { [KEY_ANNOTATION]: a.key, [KIND_ANNOTATION]: a.kind, [ARTIFACT_ANNOTATION]: a.name };
}
