// THE key material of a CargoDepsImage: the recipe's skeleton files, the Dockerfile, the cargo
// arguments, the build arguments, the target stage and the upstream keys. The component's plan
// and `npm run replay` both call this function, so replay answers the question `up` asks.
import { KeyMaterial } from "../core/keys";
import { containerfileEntry } from "../images/imagePlan";
import { CARGO_DEPS_KIND } from "../kinds/cargoDepsImage/fields";
import { CargoRecipe } from "./recipe";
import { recipeEntries } from "./skeleton";

/** Bumped when the normalization changes, so keys computed the old way stop matching. */
export const CARGO_RECIPE_VERSION = 1;

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
    cargoArgs?: string[];
    buildArgs?: Record<string, string>;
    target?: string;
    upstream?: Record<string, string>;
}

export function cargoDepsKeyMaterial(recipe: CargoRecipe, opts: DepsKeyOptions = {}): KeyMaterial {
    const own = opts.dockerfileText !== undefined;
    return {
        kind: CARGO_DEPS_KIND,
        recipeVersion: CARGO_RECIPE_VERSION,
        files: [...recipeEntries(recipe), containerfileEntry(opts.dockerfileText ?? DEFAULT_DEPS_DOCKERFILE)],
        params: { bin: opts.bin ?? null, cargoArgs: own ? null : (opts.cargoArgs ?? DEFAULT_CARGO_ARGS), buildArgs: opts.buildArgs ?? {}, target: opts.target ?? null },
        upstream: opts.upstream ?? {},
    };
}
