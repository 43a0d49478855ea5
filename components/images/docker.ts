// Shared by the image kinds: the Docker path (through @pulumi/docker-build, for machines with a
// daemon) and the choice between Docker and buildah.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import * as dockerBuild from "@pulumi/docker-build";
import { RegistryArgs } from "../core/artifact";
import { ImageBuildSpec, materializeContext } from "./buildah";
import { upstreamArgNames } from "./imagePlan";
import { dockerCacheArgs } from "./layerCache";

/** `auto` means Docker when a daemon answers, else buildah. */
export function chooseBuilder(choice: string | undefined, dockerAnswers: () => boolean = dockerDaemonAnswers): "docker" | "buildah" {
    if (choice === "docker" || choice === "buildah") return choice;
    return dockerAnswers() ? "docker" : "buildah";
}

export function dockerDaemonAnswers(): boolean {
    if (!process.env.DOCKER_HOST && !fs.existsSync("/var/run/docker.sock")) return false;
    try {
        execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { stdio: "ignore", timeout: 5000 });
        return true;
    } catch {
        return false;
    }
}

/** Build args an image kind passes: its own, then BASE (single upstream) and UPSTREAM_<NAME>. */
export function upstreamBuildArgs(upstreamRefs: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(upstreamArgNames(Object.keys(upstreamRefs))).map(([arg, name]) => [arg, upstreamRefs[name]]));
}

export interface DockerImagePlan {
    imageName: string;
    contextDir: string;
    /** Path of the Dockerfile (beside the context). */
    dockerfile: string;
    args: Record<string, string>;
    target?: string;
    /** Registry repository of cached steps (BaseImage step reuse), `<host>/<repository>/cache`. */
    layerCache?: string;
}

/**
 * The @pulumi/docker-build Image arguments for a miss: build the context, push under the key tag
 * (BuildKit pushes the blobs, then the manifest), with the registry as the layer cache when set.
 */
export function dockerImageArgs(plan: DockerImagePlan, registry: RegistryArgs): dockerBuild.ImageArgs {
    return {
        tags: [plan.imageName],
        push: true,
        context: { location: plan.contextDir },
        dockerfile: { location: plan.dockerfile },
        buildArgs: plan.args,
        ...(plan.target ? { target: plan.target } : {}),
        platforms: ["linux/amd64"],
        registries: [{ address: registry.host, ...(registry.username !== undefined ? { username: registry.username, password: registry.password } : {}) }],
        ...(dockerCacheArgs(plan.layerCache) as Pick<dockerBuild.ImageArgs, "cacheFrom" | "cacheTo">),
    };
}

/**
 * On a miss with the Docker builder, @pulumi/docker-build builds and pushes the image under the key tag;
 * the Artifact then records what was pushed. On a hit the caller registers no Docker resource at all.
 */
export function dockerBuildOnMiss(
    parent: pulumi.Resource,
    name: string,
    registry: RegistryArgs,
    ref: string,
    tag: string,
    spec: Promise<ImageBuildSpec>,
    workDir: string,
): pulumi.Output<string | undefined> {
    const pushed = spec.then((s) => {
        // @pulumi/docker-build reads the context at preview too, so it is written now, keyed by tag.
        const dir = path.join(workDir, `${name}-${tag}`);
        materializeContext(s, path.join(dir, "context"));
        fs.writeFileSync(path.join(dir, "Containerfile"), s.containerfileText);
        const image = new dockerBuild.Image(
            `${name}-docker`,
            dockerImageArgs({ imageName: ref, contextDir: path.join(dir, "context"), dockerfile: path.join(dir, "Containerfile"), args: s.buildArgs, target: s.target, layerCache: s.layerCache }, registry),
            { parent },
        );
        return image.digest as pulumi.Output<string | undefined>;
    });
    return pulumi.output(pushed).apply((x) => x);
}
