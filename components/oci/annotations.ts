// Every annotation (and image label) name warmrun writes or reads.

/** The artifact's full key (tags carry its short form). */
export const KEY_ANNOTATION = "dev.warmrun.key";
export const KIND_ANNOTATION = "dev.warmrun.kind";
/** The artifact's name in the stack's config. */
export const ARTIFACT_ANNOTATION = "dev.warmrun.artifact";
/** A containerDisk's path of the disk inside the image, and the disk's sha256. */
export const DISK_PATH_ANNOTATION = "dev.warmrun.disk-path";
export const DISK_SHA256_ANNOTATION = "dev.warmrun.disk-sha256";
/** A bootable containerDisk's kernel and initrd paths in the image (KubeVirt's kernelBoot), and its kernel command line. */
export const KERNEL_PATH_ANNOTATION = "dev.warmrun.kernel-path";
export const INITRD_PATH_ANNOTATION = "dev.warmrun.initrd-path";
export const KERNEL_ARGS_ANNOTATION = "dev.warmrun.kernel-args";
/** The OCI name of a blob's file (one per layer of a non-image artifact). */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
/** A lease (core/lease.ts): who builds the key, until when, which take of the lease, and the key. */
export const LEASE_HOLDER_ANNOTATION = "dev.warmrun.lease.holder";
export const LEASE_EXPIRES_ANNOTATION = "dev.warmrun.lease.expires";
export const LEASE_TOKEN_ANNOTATION = "dev.warmrun.lease.token";
export const LEASE_KEY_ANNOTATION = "dev.warmrun.lease.key";

// CargoDepsImage warm starts (images/warmStart.ts): what a later miss needs to judge an image as its parent.
/** Digest of the image a warm-started image was built from. */
export const WARM_PARENT_ANNOTATION = "dev.warmrun.warm-start.parent";
/** Key of that image. */
export const WARM_PARENT_KEY_ANNOTATION = "dev.warmrun.warm-start.parent-key";
/** Warm starts since the last cold build: 0 for a cold build. */
export const WARM_DEPTH_ANNOTATION = "dev.warmrun.warm-start.depth";
/** What a parent must share with the build: base image digest, cargo arguments, toolchain files. */
export const WARM_COMPAT_ANNOTATION = "dev.warmrun.warm-start.compat";

// Provenance, by the OCI image spec's predefined keys (oci/provenance.ts writes them).
/** The git remote the artifact was built from, without credentials. */
export const SOURCE_ANNOTATION = "org.opencontainers.image.source";
/** The commit. */
export const REVISION_ANNOTATION = "org.opencontainers.image.revision";
/** The commit's time, never the wall clock: equal inputs at one commit give equal manifests (retention orders keys by it). */
export const CREATED_ANNOTATION = "org.opencontainers.image.created";
/** What the artifact is built on, pinned: `host/repository@sha256:...`, and that digest. */
export const BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name";
export const BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest";

/** The annotations every warmrun manifest carries. */
export function artifactAnnotations(a: { key: string; kind: string; name: string }): Record<string, string> {
    return { [KEY_ANNOTATION]: a.key, [KIND_ANNOTATION]: a.kind, [ARTIFACT_ANNOTATION]: a.name };
}
