// CargoDepsImage: an image with a workspace's external dependencies compiled, keyed by the
// normalized cargo-chef style recipe (computed here, so preview needs no cargo), the Dockerfile,
// the cargo arguments and the base image's key.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "./artifact";
import { KeyMaterial } from "./keys";
import { hashFileSet, parseIgnoreFile } from "./fileset";
import { KindArgs, upstreamKeysOf } from "./kind";
import { cargoRecipe, dirSource, recipeEntries, skeleton, CARGO_DEPS_KIND, CARGO_RECIPE_VERSION } from "./cargoRecipe";
import { containerfileEntry, ImagePlan, publishImage } from "./baseImage";
import { cookSpecOf } from "./images/warmStart";

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

export async function cargoDepsPlan(fields: Record<string, any>, upstream: Record<string, string>, args: KindArgs): Promise<ImagePlan> {
    const workspace: string = fields.workspace;
    const recipe = await cargoRecipe(dirSource(workspace), { bin: fields.bin });
    const userDockerfile: string | undefined = fields.dockerfile;
    const containerfileText = userDockerfile ? fs.readFileSync(userDockerfile, "utf8") : DEFAULT_DEPS_DOCKERFILE;
    const cargoArgs: string[] = fields.cargoArgs ?? ["--locked"];
    const buildArgs: Record<string, string> = { ...(userDockerfile ? {} : { CARGO_ARGS: cargoArgs.join(" ") }), ...(fields.buildArgs ?? {}) };
    const material: KeyMaterial = {
        kind: CARGO_DEPS_KIND,
        recipeVersion: CARGO_RECIPE_VERSION,
        files: [...recipeEntries(recipe), containerfileEntry(containerfileText)],
        params: { bin: fields.bin ?? null, cargoArgs: userDockerfile ? null : cargoArgs, buildArgs: fields.buildArgs ?? {}, target: fields.target ?? null },
        upstream,
    };
    let contextFiles: ImagePlan["spec"]["contextFiles"];
    if (userDockerfile) {
        // A cargo-chef Dockerfile of the user's own plans and cooks from the real workspace.
        const ignoreFile = path.join(workspace, ".dockerignore");
        const ignore = fs.existsSync(ignoreFile) ? parseIgnoreFile(fs.readFileSync(ignoreFile, "utf8")) : ["target"];
        const files = await hashFileSet({ root: workspace, ignore }, args.statCache);
        contextFiles = files.map((f) => ({ path: f.path, from: path.join(workspace, f.path), executable: f.executable }));
    } else {
        contextFiles = Object.entries(skeleton(recipe)).map(([p, text]) => ({ path: p, text }));
    }
    // With warmrun's own Dockerfile the builder runs the cook itself, and may warm-start it; not in the key.
    const cook = userDockerfile ? {} : { cook: cookSpecOf(fields) };
    return { material, spec: { contextFiles, containerfileText, buildArgs, target: fields.target, ...cook } };
}

export class CargoDepsImage extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:CargoDepsImage", name, {}, opts);
        const plan = upstreamKeysOf(args).then((upstream) => cargoDepsPlan(args.spec.fields, upstream, args));
        ({ key: this.key, artifact: this.artifact } = publishImage(this, name, CARGO_DEPS_KIND, args, plan, args.workDir));
        this.registerOutputs({});
    }
}
