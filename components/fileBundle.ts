// FileBundle: a directory published as a single-layer OCI artifact, keyed by its files.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { Artifact, RegistryArgs } from "./artifact";
import { computeKey, inputSummary, KeyMaterial, shortKey } from "./keys";
import { hashFileSet, parseIgnoreFile, StatCache } from "./fileset";
import { BUNDLE_KIND, BUNDLE_RECIPE_VERSION, BundleBuildSpec } from "./builders/bundle";
import { WarmrunError } from "./errors";
import { ArtifactSpec } from "./config";
import { repositoryFor } from "./registry";
import { announceCacheStatus, TagLookup } from "./preview";

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

export interface KindArgs {
    spec: ArtifactSpec;
    registry: RegistryArgs;
    /** Keys of this artifact's upstreams, by name. */
    upstreamKeys: Record<string, Promise<string>>;
    statCache: StatCache;
    /** How to ask the registry for a tag at preview; the real registry when absent. */
    lookup?: TagLookup;
}

export class FileBundle extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:FileBundle", name, {}, opts);
        const fields = args.spec.fields as FileBundleFields;
        const material = (async () => {
            const upstream: Record<string, string> = {};
            for (const [n, k] of Object.entries(args.upstreamKeys)) upstream[n] = await k;
            return bundleKeyMaterial(name, fields, upstream, args.statCache);
        })();
        this.key = material.then(computeKey);
        const repository = repositoryFor(args.registry, name);
        const tag = this.key.then(shortKey);
        const checkedKey = announceCacheStatus(this, name, args.registry, repository, this.key, tag, args.lookup);
        const build: Promise<BundleBuildSpec> = material.then((m) => ({
            root: fields.root,
            include: fields.include,
            ignore: bundleIgnoreRules(fields),
            params: m.params,
            upstream: m.upstream,
        }));
        this.artifact = new Artifact(
            name,
            {
                name,
                kind: BUNDLE_KIND,
                key: checkedKey,
                registry: args.registry,
                repository,
                tag,
                aliasTags: [],
                inputs: material.then(inputSummary),
                build,
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
