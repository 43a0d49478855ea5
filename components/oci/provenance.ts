// Where an artifact came from, as the OCI image spec's predefined annotation keys
// (oci/annotations.ts): the source repository, the commit, the commit's time (never the wall
// clock, so equal inputs at one commit give equal manifests) and what it is built on. warmrun's
// own dev.warmrun.* keys stay. oci/push.ts writes them on every manifest it pushes.
import { GitState } from "../core/gitState";
import type { PlanBase } from "../core/kind";
import { BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION, CREATED_ANNOTATION, REVISION_ANNOTATION, SOURCE_ANNOTATION } from "./annotations";

export interface BaseImageRef {
    /** The reference the build used, pinned: host/repo@sha256:... */
    name: string;
    digest: string;
}

/** What every manifest of an artifact carries. */
export interface Provenance {
    source?: string;
    revision?: string;
    created?: string;
    base?: BaseImageRef;
}

/** The provenance of an artifact built from this checkout, based on `base` when there is one. */
export function provenanceOf(git: GitState | undefined, base?: BaseImageRef): Provenance {
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

/**
 * The base a plan names (core/kind.ts: an external image, one of the upstreams, or nothing), with
 * the upstreams' pinned references, by name; a plan that names none is based on its one upstream.
 */
export function baseOfPlan(base: PlanBase | undefined, upstreamRefs: Record<string, string>): BaseImageRef | undefined {
    if (base === null) return undefined;
    if (base === undefined) {
        const refs = Object.values(upstreamRefs);
        return refs.length === 1 ? baseFromPinned(refs[0]) : undefined;
    }
    return "upstream" in base ? baseFromPinned(upstreamRefs[base.upstream]) : { name: base.name, digest: base.digest };
}

/** The annotations of a provenance, by the OCI predefined keys. */
export function provenanceAnnotations(p: Provenance | undefined): Record<string, string> {
    if (!p) return {};
    return {
        ...(p.source ? { [SOURCE_ANNOTATION]: p.source } : {}),
        ...(p.revision ? { [REVISION_ANNOTATION]: p.revision } : {}),
        ...(p.created ? { [CREATED_ANNOTATION]: p.created } : {}),
        ...(p.base ? { [BASE_NAME_ANNOTATION]: p.base.name, [BASE_DIGEST_ANNOTATION]: p.base.digest } : {}),
    };
}

/** A manifest's annotations: the provenance, then the artifact's own (which win on a clash). */
export function withProvenance(annotations: Record<string, string>, p: Provenance | undefined): Record<string, string> {
    return { ...provenanceAnnotations(p), ...annotations };
}
