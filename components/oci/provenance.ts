// Where an artifact came from, as the OCI image spec's predefined annotation keys: the source
// repository, the commit, the commit's time (never the wall clock, so equal inputs at one commit
// give equal manifests) and the image it is based on. warmrun's own dev.warmrun.* keys stay.
import { GitState } from "../gitState";

export const OCI_SOURCE = "org.opencontainers.image.source";
export const OCI_REVISION = "org.opencontainers.image.revision";
export const OCI_CREATED = "org.opencontainers.image.created";
export const OCI_BASE_NAME = "org.opencontainers.image.base.name";
export const OCI_BASE_DIGEST = "org.opencontainers.image.base.digest";
export const OCI_TITLE = "org.opencontainers.image.title";

export interface BaseImageRef {
    /** The reference the build used, pinned: host/repo@sha256:... */
    name: string;
    digest: string;
}

/** What every manifest of a run carries (the base per artifact). */
export interface Provenance {
    source?: string;
    revision?: string;
    created?: string;
    base?: BaseImageRef;
}

/** The provenance of an artifact built from this checkout, based on `base` when there is one. */
export function provenanceOf(git: GitState | undefined, base?: BaseImageRef | null): Provenance {
    return {
        ...(git?.remote ? { source: git.remote } : {}),
        ...(git?.commit ? { revision: git.commit } : {}),
        ...(git?.commitTime ? { created: git.commitTime } : {}),
        ...(base ? { base: { name: base.name, digest: base.digest } } : {}),
    };
}

/** `host/repo@sha256:...` as a base, or undefined for anything else (an unknown preview value). */
export function baseFromPinned(ref: string | undefined): BaseImageRef | undefined {
    const m = /^(.+)@(sha256:[0-9a-f]{64})$/.exec(ref ?? "");
    return m ? { name: ref!, digest: m[2] } : undefined;
}

/** The annotations of a provenance, by the OCI predefined keys. */
export function provenanceAnnotations(p: Provenance | undefined): Record<string, string> {
    if (!p) return {};
    return {
        ...(p.source ? { [OCI_SOURCE]: p.source } : {}),
        ...(p.revision ? { [OCI_REVISION]: p.revision } : {}),
        ...(p.created ? { [OCI_CREATED]: p.created } : {}),
        ...(p.base ? { [OCI_BASE_NAME]: p.base.name, [OCI_BASE_DIGEST]: p.base.digest } : {}),
    };
}

/** A manifest's annotations: the provenance, then warmrun's own keys (which win on a clash). */
export function withProvenance(annotations: Record<string, string>, p: Provenance | undefined): Record<string, string> {
    return { ...provenanceAnnotations(p), ...annotations };
}

/** A layer descriptor's annotations with its title (the file name a client such as ORAS writes it to). */
export function titled(title: string, annotations: Record<string, string> = {}): Record<string, string> {
    return { ...annotations, [OCI_TITLE]: title };
}
