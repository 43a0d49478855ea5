// CargoDepsImage's plan: the key material from cargo/depsKey.ts (what the cook step compiles); the
// build context is the recipe's skeleton, or, with the user's own Dockerfile, the real workspace. A
// user's Dockerfile may name external images: they are pinned by digest (the default Dockerfile starts
// FROM ${BASE} only).
import * as fs from "fs";
import * as path from "path";
import { hashFileSet, parseIgnoreFile } from "../../core/fileset";
import { PlanContext } from "../../core/kind";
import { ImagePlan, ImageSpec } from "../../images/imagePlan";
import { cargoRecipe } from "../../cargo/recipe";
import { dirSource } from "../../cargo/workspace";
import { diskMemo } from "../../cargo/keyMemo";
import { skeleton } from "../../cargo/skeleton";
import { cargoDepsKeyMaterial, DEFAULT_CARGO_ARGS, DEFAULT_DEPS_DOCKERFILE } from "../../cargo/depsKey";
import { pinImagesOf } from "../../images/planPins";
import { cookSpecOf } from "../../images/warmStart";
import { CargoDepsFields } from "./fields";

export async function plan(
    fields: CargoDepsFields,
    ctx: Pick<PlanContext, "name" | "where" | "projectRoot" | "upstream" | "statCache" | "resolveImage" | "cacheDir">,
): Promise<ImagePlan> {
    const workspace = fields.workspace;
    const source = dirSource(workspace, { statCache: ctx.statCache });
    const dockerfileText = fields.dockerfile ? fs.readFileSync(fields.dockerfile, "utf8") : undefined;
    const cargoArgs = fields.cargoArgs ?? DEFAULT_CARGO_ARGS;
    const buildArgs: Record<string, string> = { ...(dockerfileText ? {} : { CARGO_ARGS: cargoArgs.join(" ") }), ...(fields.buildArgs ?? {}) };
    const pins = fields.dockerfile && dockerfileText !== undefined ? await pinImagesOf(fields, ctx, fields.dockerfile, dockerfileText, buildArgs) : undefined;
    const key = await cargoDepsKeyMaterial(source, {
        bin: fields.bin,
        dockerfileText,
        cargoArgs,
        buildArgs: fields.buildArgs,
        target: fields.target,
        targetTriple: fields.targetTriple,
        targetField: `${ctx.where}.targetTriple`,
        argsField: `${ctx.where}.cargoArgs`,
        upstream: ctx.upstream,
        images: pins?.images,
        cacheDir: ctx.cacheDir,
        memo: diskMemo(ctx.cacheDir),
    });
    let contextFiles: ImageSpec["contextFiles"];
    if (dockerfileText !== undefined) {
        // A cargo-chef Dockerfile of the user's own plans and cooks from the real workspace.
        const ignoreFile = path.join(workspace, ".dockerignore");
        const ignore = fs.existsSync(ignoreFile) ? parseIgnoreFile(fs.readFileSync(ignoreFile, "utf8")) : ["target"];
        const files = await hashFileSet({ root: workspace, ignore }, ctx.statCache);
        contextFiles = files.map((f) => ({ path: f.path, from: path.join(workspace, f.path), executable: f.executable }));
    } else {
        const recipe = await cargoRecipe(source, { bin: fields.bin });
        contextFiles = Object.entries(skeleton(recipe)).map(([p, text]) => ({ path: p, text }));
    }
    return {
        material: key.material,
        // With warmrun's own Dockerfile the builder runs the cook itself, and may warm-start it; not in the key.
        build: { contextFiles, containerfileText: pins?.text ?? DEFAULT_DEPS_DOCKERFILE, buildArgs, target: fields.target, ...(dockerfileText === undefined ? { cook: cookSpecOf(fields) } : {}) },
        ...(pins ? { base: pins.base, messages: pins.messages } : {}),
        warnings: key.warnings,
    };
}
