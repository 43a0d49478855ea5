// THE key material of a CargoDepsImage: what its cook step compiles (units.ts: the external compilation
// units for the target triple, the toolchain, the cargo config and profiles that change compilation,
// [patch] and [replace]), the Dockerfile, the cargo arguments, the build arguments, the target stage,
// the upstream keys and the digests of the external images a user's Dockerfile names. The component's
// plan and `npm run replay` both call this function, so replay answers the question `up` asks (replay
// reads history, where a tag's digest of the day is not known: it keys a Dockerfile's external images
// by their text alone).
import { KeyMaterial } from "../core/keys";
import { containerfileEntry } from "../images/imagePlan";
import { CARGO_DEPS_KIND } from "../kinds/cargoDepsImage/fields";
import { cargoCompileKeyMaterial, CompileKeyResult, IndexProvider } from "./units";
import { SparseIndex } from "./registryIndex";
import { KeyMemo } from "./keyMemo";
import { compileInputEntries } from "./unitChanges";
import { RecipeSource } from "./workspace";

/**
 * Bumped when the normalization changes, so keys computed the old way stop matching.
 * 2: the key holds the compiled units instead of the masked manifests and lock.
 */
export const CARGO_RECIPE_VERSION = 2;

/**
 * The Dockerfile used when a workspace brings none: the build context is the recipe's skeleton
 * (manifests, lock file, empty targets), so `cargo build` compiles only the dependencies.
 */
export const DEFAULT_DEPS_DOCKERFILE = `# warmrun's dependencies image: BASE is the toolchain image, the context is the recipe skeleton.
ARG BASE
FROM \${BASE}
WORKDIR /app
COPY . .
ARG CARGO_ARGS="--locked"
RUN cargo build \${CARGO_ARGS}
`;

export const DEFAULT_CARGO_ARGS = ["--locked"];

export interface DepsKeyOptions {
    bin?: string;
    /** The text of the user's own Dockerfile; absent: DEFAULT_DEPS_DOCKERFILE with cargoArgs. */
    dockerfileText?: string;
    /** What the cook step passes to `cargo build` (default DEFAULT_CARGO_ARGS). */
    cargoArgs?: string[];
    buildArgs?: Record<string, string>;
    /** The Dockerfile stage to stop at. */
    target?: string;
    /** The Rust target triple the cook step compiles for (default x86_64-unknown-linux-gnu). */
    targetTriple?: string;
    /** How messages name the triple's setting, e.g. `warmrun:artifacts.rust-deps.targetTriple`. */
    targetField?: string;
    /** How messages name the cargo arguments, e.g. `warmrun:artifacts.rust-deps.cargoArgs`. */
    argsField?: string;
    upstream?: Record<string, string>;
    /** Digests of the Dockerfile's external images (`FROM rust:1.85` -> sha256:...), images/pinning.ts. */
    images?: Record<string, string>;
    /** Where registry index entries are cached (`<cacheDir>/cargo-index`). */
    cacheDir: string;
    /** Never fetch index entries (a cold entry then means the conservative fallback). */
    offline?: boolean;
    /** Index data from elsewhere (tests); default: the lock's sparse indexes. */
    index?: IndexProvider;
    /** Sparse indexes by URL, shared between computations (a replay's commits). */
    indexes?: Map<string, SparseIndex>;
    /** Complete results by their inputs' digest (units.ts CompileKeyOptions.memo). */
    memo?: KeyMemo<CompileKeyResult>;
}

export interface DepsKey {
    material: KeyMaterial;
    /** To be said once when the artifact is planned, e.g. that the key fell back to Cargo.lock and the manifests. */
    warnings: string[];
    /** The compiled units, with how each is reached. */
    compile: CompileKeyResult;
}

export async function cargoDepsKeyMaterial(source: RecipeSource, opts: DepsKeyOptions): Promise<DepsKey> {
    const cargoArgs = opts.cargoArgs ?? DEFAULT_CARGO_ARGS;
    const compile = await cargoCompileKeyMaterial(source, {
        target: opts.targetTriple,
        cargoArgs,
        bin: opts.bin,
        cacheDir: opts.cacheDir,
        offline: opts.offline,
        index: opts.index,
        indexes: opts.indexes,
        targetField: opts.targetField,
        argsField: opts.argsField,
        memo: opts.memo,
    });
    return {
        material: {
            kind: CARGO_DEPS_KIND,
            recipeVersion: CARGO_RECIPE_VERSION,
            files: [containerfileEntry(opts.dockerfileText ?? DEFAULT_DEPS_DOCKERFILE)],
            params: { bin: opts.bin ?? null, cargoArgs, buildArgs: opts.buildArgs ?? {}, target: opts.target ?? null },
            entries: compileInputEntries(compile.material),
            upstream: opts.upstream ?? {},
            ...(opts.images && Object.keys(opts.images).length ? { images: opts.images } : {}),
        },
        warnings: compile.warnings,
        compile,
    };
}
