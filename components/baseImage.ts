// BaseImage: a Containerfile, its context (ignore rules applied), build args and upstream keys
// make the key; built with buildah (daemonless) or Docker (through @pulumi/docker).
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
import { WarmrunError } from "./errors";
import { BaseRef, PinnedImage, resolveBase } from "./images/pinning";
import { pinImagesOf } from "./images/planPins";

export const BASE_IMAGE_KIND = "BaseImage";
export const BASE_IMAGE_RECIPE_VERSION = 1;

export interface ImagePlan {
    material: KeyMaterial;
    /** containerfileText is the one to build: external images pinned by digest. */
    spec: Omit<ImageBuildSpec, "buildArgs"> & { buildArgs: Record<string, string>; base?: BaseRef };
    /** The external images, resolved at preview (components/images/pinning.ts). */
    pinned?: PinnedImage[];
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
    const pin = await pinImagesOf(fields, args, fields.containerfile, containerfileText, buildArgs, upstream);
    return {
        material: {
            kind: BASE_IMAGE_KIND,
            recipeVersion: BASE_IMAGE_RECIPE_VERSION,
            files: [...files, containerfileEntry(containerfileText)],
            params: { buildArgs, target: fields.target ?? null },
            upstream,
            ...(Object.keys(pin.images).length ? { images: pin.images } : {}),
        },
        spec: {
            contextFiles: files.map((f) => ({ path: f.path, from: path.join(context, f.path), executable: f.executable })),
            containerfileText: pin.text,
            buildArgs,
            target: fields.target,
            base: pin.base,
        },
        pinned: pin.pinned,
    };
}

/**
 * Publishes an image kind: its build spec gets the upstreams' pinned references as build args
 * (BASE, UPSTREAM_<NAME>); with the Docker builder, @pulumi/docker builds on a miss.
 */
export function publishImage(parent: pulumi.ComponentResource, name: string, kind: string, args: KindArgs, planned: Promise<ImagePlan>, workDir: string): Published {
    const builder = chooseBuilder(args.builder);
    const refs = pulumi.all(args.upstreamRefs);
    // A problem (an image that cannot be pinned, a missing Cargo.lock) is the program's error: its message, no stack trace.
    const plan = planned.then(
        (p) => {
            for (const i of p.pinned ?? []) pulumi.log.info(`${name}: ${i.use} ${i.ref} (line ${i.line}) ${i.givenDigest ? "is pinned as written" : `is ${i.digest}: the build uses ${i.pinned}`}`, parent);
            return p;
        },
        (e) => {
            throw e instanceof WarmrunError ? new pulumi.RunError(e.message) : e;
        },
    );
    const spec: pulumi.Output<ImageBuildSpec & { builder: string; pushedDigest?: string }> = pulumi
        .all([refs, plan])
        .apply(([r, p]) => ({
            ...p.spec,
            buildArgs: { ...upstreamBuildArgs(r), ...p.spec.buildArgs },
            // The base the provenance annotations name: the external image's or the upstream's pinned reference.
            base: resolveBase(p.spec.base, { ...upstreamBuildArgs(r), ...p.spec.buildArgs }) ?? null,
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
