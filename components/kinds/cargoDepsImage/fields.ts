// CargoDepsImage's fields: a Cargo workspace whose external dependencies are compiled into an image.
import { KindDefinition } from "../../core/kind";
import { buildArgsProblems, PIN_EXTERNAL_IMAGES } from "../../images/imagePlan";
import { warmStartFieldProblems } from "../../images/warmStart";
import { DEFAULT_TARGET, isKnownTriple, unknownTripleProblem } from "../../cargo/cfg";
import { describeUnitChanges, isCompileEntry } from "../../cargo/unitChanges";

export const CARGO_DEPS_KIND = "CargoDepsImage";

export interface CargoDepsFields {
    workspace: string;
    dockerfile?: string;
    /** The Dockerfile stage to stop at (as for BaseImage), not a Rust target. */
    target?: string;
    /** The Rust target triple the cook step compiles for. */
    targetTriple?: string;
    bin?: string;
    buildArgs?: Record<string, string>;
    pinExternalImages?: boolean;
    cargoArgs?: string[];
    warmStart?: boolean;
    warmStartDepth?: number;
}

export const cargoDepsImage: KindDefinition<CargoDepsFields> = {
    name: CARGO_DEPS_KIND,
    fields: {
        workspace: { type: "string", required: true, path: "dir", description: "Cargo workspace root, relative to the project" },
        dockerfile: { type: "string", path: "file", description: "your own cargo-chef style Dockerfile (default: warmrun's)" },
        target: { type: "string", description: "build stage to stop at (e.g. your cook stage)" },
        targetTriple: { type: "string", description: `Rust target triple the cook step compiles for (default ${DEFAULT_TARGET})` },
        bin: { type: "string", description: "key only this package's or binary's dependency closure" },
        buildArgs: { type: "object", description: "build arguments (strings)" },
        cargoArgs: { type: "string[]", description: "arguments of `cargo build` in the cook step (default --locked)" },
        pinExternalImages: PIN_EXTERNAL_IMAGES,
        warmStart: { type: "boolean", description: "on a miss, start from the closest earlier image of this artifact (default true; buildah, default Dockerfile)" },
        warmStartDepth: { type: "integer", description: "warm starts in a row before the next miss builds cold (default 5)" },
    },
    validate: (fields, ctx) => [
        ...buildArgsProblems(fields.buildArgs, ctx.where),
        ...warmStartFieldProblems(ctx.where, fields),
        ...(fields.targetTriple !== undefined && !isKnownTriple(fields.targetTriple)
            ? [unknownTripleProblem(`${ctx.where}.targetTriple`, fields.targetTriple)]
            : []),
    ],
    inputs: { covers: isCompileEntry, describe: describeUnitChanges },
};
