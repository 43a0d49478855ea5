// Image references: `host/repository:tag` and `host/repository@digest`, parsed and written in one place.
import { WarmrunError } from "../core/errors";
import { isValidRepository, isValidTag } from "./registry";

export interface Reference {
    /** host[:port] */
    host: string;
    repository: string;
    /** A tag, or a digest (sha256:...). */
    reference: string;
}

/** Splits host/repo@digest (or host/repo:tag; no tag: latest). */
export function parseReference(ref: string): Reference {
    const slash = ref.indexOf("/");
    if (slash < 0) throw new WarmrunError(`${ref} is not a registry reference (host/repository@digest)`);
    const host = ref.slice(0, slash);
    const rest = ref.slice(slash + 1);
    const at = rest.indexOf("@");
    if (at >= 0) return { host, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
    const colon = rest.lastIndexOf(":");
    return colon >= 0 ? { host, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) } : { host, repository: rest, reference: "latest" };
}

/** A parsed reference written back: `host/repository@digest` or `host/repository:tag`. */
export function referenceString(r: Reference): string {
    return r.reference.startsWith("sha256:") ? pinnedReference({ ...r, digest: r.reference }) : formatReference({ ...r, tag: r.reference });
}

/** `host/repository:tag`. */
export function formatReference(r: { host: string; repository: string; tag: string }): string {
    return `${r.host}/${r.repository}:${r.tag}`;
}

/** `host/repository@digest`: the reference CI pins. */
export function pinnedReference(r: { host: string; repository: string; digest: string }): string {
    return `${r.host}/${r.repository}@${r.digest}`;
}

/** The repository of an artifact: `<namespace>/<name>`, or `<name>` without a namespace. */
export function repositoryFor(prefix: { namespace: string }, artifactName: string): string {
    return prefix.namespace ? `${prefix.namespace}/${artifactName}` : artifactName;
}

/** `host[/namespace]`: the form of the `warmrun:registry` setting. */
export function formatPrefix(prefix: { host: string; namespace: string }): string {
    return prefix.namespace ? `${prefix.host}/${prefix.namespace}` : prefix.host;
}

/** The registry Docker Hub's short names mean, and the host its API answers on. */
export const DOCKER_HUB = "docker.io";
export const DOCKER_HUB_API = "registry-1.docker.io";

/** An image as a Containerfile names it, after Docker's normalization. */
export interface ImageName {
    /** Registry host[:port] as written or implied (docker.io). */
    host: string;
    /** Repository path under the host (library/debian for debian). */
    repository: string;
    tag?: string;
    digest?: string;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses an image name the way Docker and buildah read one: the first path component is a host
 * when it has a dot or a port or is localhost; otherwise the image is on Docker Hub, where a single
 * name is under library/. Undefined when it is not a reference.
 */
export function parseImageName(ref: string): ImageName | undefined {
    let rest = ref;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST_RE.test(digest)) return undefined;
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!isValidTag(tag)) return undefined;
    }
    const slash = rest.indexOf("/");
    const first = slash < 0 ? "" : rest.slice(0, slash);
    let host: string;
    let repository: string;
    if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
        host = first;
        repository = rest.slice(slash + 1);
    } else {
        host = DOCKER_HUB;
        repository = slash < 0 ? `library/${rest}` : rest;
    }
    if (host === "index.docker.io") host = DOCKER_HUB;
    if (!isValidRepository(repository)) return undefined;
    return { host, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}
