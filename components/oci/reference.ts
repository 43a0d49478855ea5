// Image references: `host/repository:tag` and `host/repository@digest`, parsed and written in one place.
import { WarmrunError } from "../core/errors";

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
