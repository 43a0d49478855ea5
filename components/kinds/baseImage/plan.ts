// BaseImage's plan: the Containerfile, its context after ignore rules, build args, upstream keys
// and the digests of its external images make the key; the build sees exactly the files the key
// saw, and builds the Containerfile with those images pinned by digest.
import * as fs from "fs";
import * as path from "path";
import { hashFileSet, parseIgnoreFile } from "../../core/fileset";
import { PlanContext } from "../../core/kind";
import { containerfileEntry, ImagePlan } from "../../images/imagePlan";
import { pinImagesOf } from "../../images/planPins";
import { BASE_IMAGE_KIND, BaseImageFields } from "./fields";

export const BASE_IMAGE_RECIPE_VERSION = 1;

export async function plan(fields: BaseImageFields, ctx: Pick<PlanContext, "name" | "projectRoot" | "upstream" | "statCache" | "resolveImage">): Promise<ImagePlan> {
    const containerfileText = fs.readFileSync(fields.containerfile, "utf8");
    const context: string = fields.context ?? path.dirname(fields.containerfile);
    const ignoreFile = path.join(context, ".dockerignore");
    const ignore = [...(fs.existsSync(ignoreFile) ? parseIgnoreFile(fs.readFileSync(ignoreFile, "utf8")) : []), ...(fields.ignore ?? [])];
    const files = await hashFileSet({ root: context, ignore }, ctx.statCache);
    const buildArgs: Record<string, string> = fields.buildArgs ?? {};
    const pins = await pinImagesOf(fields, ctx, fields.containerfile, containerfileText, buildArgs);
    return {
        material: {
            kind: BASE_IMAGE_KIND,
            recipeVersion: BASE_IMAGE_RECIPE_VERSION,
            files: [...files, containerfileEntry(containerfileText)],
            params: { buildArgs, target: fields.target ?? null },
            upstream: ctx.upstream,
            ...(pins.images ? { images: pins.images } : {}),
        },
        build: {
            contextFiles: files.map((f) => ({ path: f.path, from: path.join(context, f.path), executable: f.executable })),
            containerfileText: pins.text,
            buildArgs,
            target: fields.target,
        },
        base: pins.base,
        messages: pins.messages,
    };
}
