// FileBundle's plan: the files under root (include globs, ignore rules) and the params make the key.
import * as fs from "fs";
import { KeyMaterial } from "../../core/keys";
import { hashFileSet, parseIgnoreFile, StatCache } from "../../core/fileset";
import { WarmrunError } from "../../core/errors";
import { Plan, PlanContext } from "../../core/kind";
import { BUNDLE_KIND, FileBundleFields } from "./fields";

export const BUNDLE_RECIPE_VERSION = 1;

export interface BundleBuildSpec {
    root: string;
    include?: string[];
    ignore?: string[];
    params: Record<string, unknown>;
    upstream: Record<string, string>;
}

/** The ignore rules of a bundle: its ignoreFile (or root/.dockerignore), then inline rules. */
export function bundleIgnoreRules(fields: FileBundleFields): string[] {
    const file = fields.ignoreFile ?? `${fields.root}/.dockerignore`;
    const fromFile = fs.existsSync(file) ? parseIgnoreFile(fs.readFileSync(file, "utf8")) : [];
    return [...fromFile, ...(fields.ignore ?? [])];
}

export async function bundleKeyMaterial(name: string, fields: FileBundleFields, upstream: Record<string, string>, cache: StatCache): Promise<KeyMaterial> {
    const files = await hashFileSet({ root: fields.root, include: fields.include, ignore: bundleIgnoreRules(fields) }, cache);
    if (files.length === 0) {
        throw new WarmrunError(`warmrun:artifacts.${name}: no file under ${fields.root} is selected (check include and ignore)`);
    }
    return { kind: BUNDLE_KIND, recipeVersion: BUNDLE_RECIPE_VERSION, files, params: fields.params ?? {}, upstream };
}

export async function plan(fields: FileBundleFields, ctx: PlanContext): Promise<Plan<BundleBuildSpec>> {
    const material = await bundleKeyMaterial(ctx.name, fields, ctx.upstream, ctx.statCache);
    return {
        material,
        build: { root: fields.root, include: fields.include, ignore: bundleIgnoreRules(fields), params: material.params, upstream: material.upstream },
    };
}
