// OCI media types and the manifests warmrun writes: images, and artifacts that are not images
// (a bundle, a disk of files, an ISO), whose blobs are files.
import { createHash } from "crypto";

export const MEDIA = {
    ociManifest: "application/vnd.oci.image.manifest.v1+json",
    ociIndex: "application/vnd.oci.image.index.v1+json",
    dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
    dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
    ociEmpty: "application/vnd.oci.empty.v1+json",
    ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
    ociLayerTar: "application/vnd.oci.image.layer.v1.tar",
    ociConfig: "application/vnd.oci.image.config.v1+json",
};

/** The media types a manifest look-up accepts. */
export const MANIFEST_ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(", ");

export function digestOf(data: Buffer | string): string {
    return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
}

export interface ImageManifest {
    schemaVersion: 2;
    mediaType: string;
    /** Set for artifacts that are not images. */
    artifactType?: string;
    config: Descriptor;
    layers: Descriptor[];
    /** The manifest this one is attached to (a referrer, e.g. an SBOM). */
    subject?: Descriptor;
    annotations?: Record<string, string>;
}

/**
 * The bytes of an OCI manifest. Field order is fixed (schemaVersion, mediaType, artifactType,
 * config, layers, subject, annotations): equal inputs give an equal digest.
 */
export function manifestBytes(m: { artifactType?: string; config: Descriptor; layers: Descriptor[]; subject?: Descriptor; annotations?: Record<string, string> }): Buffer {
    const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
        config: m.config,
        layers: m.layers,
        ...(m.subject !== undefined ? { subject: m.subject } : {}),
        ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    };
    return Buffer.from(JSON.stringify(manifest));
}
