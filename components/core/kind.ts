// What a kind is, as pure data and functions: the contract every folder under components/kinds/
// fulfils (fields.ts exports a KindDefinition, plan.ts a plan function). The wiring side of the
// contract (component.ts) is in core/publish.ts, the provider side (build.ts) in core/lifecycle.ts.
import { EntryDescriber, KeyMaterial } from "./keys";
import { StatCache } from "./fileset";
import { GitState } from "./gitState";
import type { ImageName } from "../oci/reference";

export type FieldType = "string" | "boolean" | "integer" | "string[]" | "object";

export interface FieldSpec {
    type: FieldType;
    required?: boolean;
    description: string;
    /** A path relative to the project that must exist; resolved to an absolute path. */
    path?: "dir" | "file";
}

export type FieldTable = Record<string, FieldSpec>;

/** What a kind's own checks see of the artifact besides its fields. */
export interface FieldContext {
    /** The artifact's name in `warmrun:artifacts`. */
    name: string;
    /** `warmrun:artifacts.<name>`: the config key every problem starts with. */
    where: string;
    /** The artifact's map as written in the config (paths not yet resolved). */
    raw: Record<string, unknown>;
    upstream: string[];
    projectRoot: string;
    /** Config keys stored as secrets (`pulumi config set --secret`). */
    secretKeys: Set<string>;
}

/**
 * A kind's pure definition (its folder's fields.ts): the name artifacts give as `kind`, the table
 * of its fields, and the checks a table cannot express. `validate` returns problems (never throws),
 * so every problem of a stack is reported together; it may normalize fields in place (e.g. resolve
 * paths of files named inside a list).
 */
export interface KindDefinition<F = Record<string, any>> {
    name: string;
    fields: FieldTable;
    validate?(fields: F, ctx: FieldContext): string[];
    /** How diffs and the cache report name the kind's own input entries (KeyMaterial.entries). */
    inputs?: EntryDescriber;
}

/**
 * Resolves an external image (`FROM debian:trixie`) to the digest its tag names, or undefined when
 * the registry lacks the tag; one answer per image for the whole stack (images/pinning.ts).
 */
export type ImageResolver = (image: ImageName) => Promise<string | undefined>;

/** What a plan needs besides the artifact's fields. */
export interface PlanContext {
    name: string;
    where: string;
    /** Keys of the artifact's upstreams, by name (they enter its key: Merkle). */
    upstream: Record<string, string>;
    upstreamNames: string[];
    statCache: StatCache;
    projectRoot: string;
    /** `warmrun:cacheDir`, absolute. */
    cacheDir: string;
    /** Scratch space of the program (cacheDir/work). */
    workDir: string;
    /** The alias tags the stack gives every artifact (latest, git-<sha>). */
    aliasTags: string[];
    git: GitState;
    resolveImage: ImageResolver;
}

/** How a kind names its tags: a prefix on the key tag, and its own alias tags instead of the stack's. */
export interface TagNaming {
    tagPrefix?: string;
    aliasTags?: string[];
}

/**
 * What an artifact is built on, for the org.opencontainers.image.base.* annotations: an external
 * image pinned by digest, one of its upstreams (by name), or null: nothing (scratch, an image left
 * unpinned).
 */
export type PlanBase = { name: string; digest: string } | { upstream: string } | null;

/** A kind's plan (its folder's plan.ts): fields -> key material and the build spec. Pure: no Pulumi. */
export interface Plan<B = unknown> {
    material: KeyMaterial;
    /** What the provider-side build needs; the component may add upstream references or secrets. */
    build: B;
    naming?: TagNaming;
    /** What it is built on; absent: its one upstream, when it has exactly one. */
    base?: PlanBase;
    /** Lines the component logs when it is registered (e.g. each external image and its digest). */
    messages?: string[];
    /** Warnings the component logs once when it is registered (e.g. a key computed a more conservative way). */
    warnings?: string[];
}

export interface KindPlanModule<F = any, B = any> {
    plan(fields: F, ctx: PlanContext): Promise<Plan<B>>;
}
