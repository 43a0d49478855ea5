// FileBundle: a directory published as a single-layer OCI artifact, keyed by its files.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "../../core/artifact";
import { KeyMaterial } from "../../core/keys";
import { hashFileSet, parseIgnoreFile, StatCache } from "../../core/fileset";
import { BUNDLE_KIND, BUNDLE_RECIPE_VERSION, BundleBuildSpec } from "./build";
import { WarmrunError } from "../../core/errors";
import { KindArgs, publish, upstreamKeysOf } from "../../core/publish";

export interface FileBundleFields {
    root: string;
    include?: string[];
    ignore?: string[];
    ignoreFile?: string;
    params?: Record<string, unknown>;
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

export class FileBundle extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:FileBundle", name, {}, opts);
        const fields = args.spec.fields as FileBundleFields;
        const material = upstreamKeysOf(args).then((upstream) => bundleKeyMaterial(name, fields, upstream, args.statCache));
        const build: Promise<BundleBuildSpec> = material.then((m) => ({
            root: fields.root,
            include: fields.include,
            ignore: bundleIgnoreRules(fields),
            params: m.params,
            upstream: m.upstream,
        }));
        ({ key: this.key, artifact: this.artifact } = publish(this, name, BUNDLE_KIND, args, material, build));
        this.registerOutputs({});
    }
}
