// The wiring BaseImage and CargoDepsImage share: the upstreams' pinned references join the build
// arguments (BASE, UPSTREAM_<NAME>), and with the Docker builder a miss builds through @pulumi/docker-build.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { CheckArgs, KindArgs, requireToolsOnMiss, Wiring } from "../core/publish";
import { HOST_CA_BUNDLE, ImageBuildSpec } from "./buildah";
import { chooseBuilder, dockerBuildOnMiss, upstreamBuildArgs } from "./docker";
import { ImageSpec } from "./imagePlan";
import { onlyDeclared } from "./containerfileArgs";

/** On a miss built by buildah, buildah must be there (a Docker build needs only the daemon, which chose it). */
export async function checkImage(args: CheckArgs): Promise<void> {
    if (args.publication.hit || chooseBuilder(args.stack.builder) !== "buildah") return;
    requireToolsOnMiss(args, ["buildah"], "run `npm run setup` (it installs buildah), or set warmrun:builder to docker where a Docker daemon runs");
}

export function wireImage(parent: pulumi.ComponentResource, args: KindArgs<unknown, ImageSpec>): Wiring {
    const builder = chooseBuilder(args.stack.builder);
    const plan = args.plan.build;
    const spec: pulumi.Output<ImageBuildSpec & { builder: string }> = pulumi.all(args.upstreamRefs).apply((refs) => ({
        ...plan,
        // Upstream references only as the ARGs the Containerfile declares (no unconsumed-argument warnings).
        buildArgs: { ...onlyDeclared(upstreamBuildArgs(refs), plan.containerfileText), ...plan.buildArgs },
        builder,
        ...(args.stack.trustHostCertificates !== false && fs.existsSync(HOST_CA_BUNDLE) ? { hostCaBundle: HOST_CA_BUNDLE } : {}),
    }));
    if (builder === "buildah" || args.publication.hit) return { build: spec };
    const specPromise = new Promise<ImageBuildSpec>((resolve) => spec.apply((s) => { resolve(s); return s; }));
    const p = args.publication;
    const pushed = dockerBuildOnMiss(parent, args.spec.name, args.registry, p.ref, p.tag, specPromise, args.stack.workDir);
    return { build: pulumi.all([spec, pushed]).apply(([s, d]) => ({ ...s, pushedDigest: d })) };
}
