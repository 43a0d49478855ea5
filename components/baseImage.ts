// BaseImage: a Containerfile, its context (ignore rules applied), build args and upstream keys
// make the key; built with buildah (daemonless) or Docker (through @pulumi/docker-build).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "./artifact";
import { computeKey, KeyMaterial, sha256Hex, FileEntry } from "./keys";
import { hashFileSet, parseIgnoreFile } from "./fileset";
import { KindArgs, publish, upstreamKeysOf, Published } from "./kind";
import { HOST_CA_BUNDLE, ImageBuildSpec } from "./builders/buildah";
import { chooseBuilder, dockerBuildOnMiss, upstreamBuildArgs } from "./imageBuild";
import { repositoryFor } from "./registry";
import { shortKey } from "./keys";
import { layerCacheRepository } from "./images/layerCache";

export const BASE_IMAGE_KIND = "BaseImage";
export const BASE_IMAGE_RECIPE_VERSION = 1;

export interface ImagePlan {
    material: KeyMaterial;
    spec: Omit<ImageBuildSpec, "buildArgs"> & { buildArgs: Record<string, string> };
}

/** The Containerfile enters the key as a file of its own, whatever its name or place. */
export function containerfileEntry(text: string): FileEntry {
    return { path: "@containerfile", sha256: sha256Hex(text), executable: false };
}

export async function baseImagePlan(fields: Record<string, any>, upstream: Record<string, string>, args: KindArgs): Promise<ImagePlan> {
    const containerfileText = fs.readFileSync(fields.containerfile, "utf8");
    const context: string = fields.context ?? path.dirname(fields.containerfile);
    const ignoreFile = path.join(context, ".dockerignore");
    const ignore = [...(fs.existsSync(ignoreFile) ? parseIgnoreFile(fs.readFileSync(ignoreFile, "utf8")) : []), ...(fields.ignore ?? [])];
    const files = await hashFileSet({ root: context, ignore }, args.statCache);
    const buildArgs: Record<string, string> = fields.buildArgs ?? {};
    return {
        material: {
            kind: BASE_IMAGE_KIND,
            recipeVersion: BASE_IMAGE_RECIPE_VERSION,
            files: [...files, containerfileEntry(containerfileText)],
            params: { buildArgs, target: fields.target ?? null },
            upstream,
        },
        spec: {
            contextFiles: files.map((f) => ({ path: f.path, from: path.join(context, f.path), executable: f.executable })),
            containerfileText,
            buildArgs,
            target: fields.target,
            // Step reuse: the registry holds each step's layer; never part of the key.
            layerCache: layerCacheRepository(args.registry.host, repositoryFor(args.registry, args.spec.name)),
        },
    };
}

/**
 * Publishes an image kind: its build spec gets the upstreams' pinned references as build args
 * (BASE, UPSTREAM_<NAME>); with the Docker builder, @pulumi/docker-build builds on a miss.
 */
export function publishImage(parent: pulumi.ComponentResource, name: string, kind: string, args: KindArgs, plan: Promise<ImagePlan>, workDir: string): Published {
    const builder = chooseBuilder(args.builder);
    const refs = pulumi.all(args.upstreamRefs);
    const spec: pulumi.Output<ImageBuildSpec & { builder: string; pushedDigest?: string }> = pulumi
        .all([refs, plan])
        .apply(([r, p]) => ({
            ...p.spec,
            buildArgs: { ...upstreamBuildArgs(r), ...p.spec.buildArgs },
            builder,
            ...(args.trustHostCertificates !== false && fs.existsSync(HOST_CA_BUNDLE) ? { hostCaBundle: HOST_CA_BUNDLE } : {}),
        }));
    if (builder === "buildah") return publish(parent, name, kind, args, plan.then((p) => p.material), spec);

    const repository = repositoryFor(args.registry, name);
    const tag = plan.then((p) => shortKey(computeKey(p.material)));
    const hit = tag.then(async (t) => (await args.lookup(repository, t)) !== undefined);
    const specPromise = new Promise<ImageBuildSpec>((resolve) => spec.apply((s) => { resolve(s); return s; }));
    const pushed = dockerBuildOnMiss(parent, name, args.registry, repository, tag, hit, specPromise, workDir);
    return publish(parent, name, kind, args, plan.then((p) => p.material), pulumi.all([spec, pushed]).apply(([s, d]) => ({ ...s, pushedDigest: d })));
}

export class BaseImage extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:BaseImage", name, {}, opts);
        const plan = upstreamKeysOf(args).then((upstream) => baseImagePlan(args.spec.fields, upstream, args));
        ({ key: this.key, artifact: this.artifact } = publishImage(this, name, BASE_IMAGE_KIND, args, plan, args.workDir));
        this.registerOutputs({});
    }
}
