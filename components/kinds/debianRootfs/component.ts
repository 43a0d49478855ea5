// DebianRootfs component: keyed by suite, variant, package list and mirror.
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "../../core/artifact";
import { KeyMaterial } from "../../core/keys";
import { KindArgs, publish, upstreamKeysOf } from "../../core/publish";
import { ROOTFS_KIND, ROOTFS_RECIPE_VERSION, RootfsBuildSpec } from "./build";

export function rootfsBuildSpec(fields: Record<string, any>): RootfsBuildSpec {
    return {
        suite: fields.suite,
        variant: fields.variant ?? "minbase",
        packages: [...new Set<string>(fields.packages ?? [])].sort(),
        mirror: fields.mirror ?? "",
    };
}

export class DebianRootfs extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:DebianRootfs", name, {}, opts);
        const spec = rootfsBuildSpec(args.spec.fields);
        const material: Promise<KeyMaterial> = upstreamKeysOf(args).then((upstream) => ({
            kind: ROOTFS_KIND,
            recipeVersion: ROOTFS_RECIPE_VERSION,
            files: [],
            params: { ...spec, mirror: spec.mirror || "debootstrap default" },
            upstream,
        }));
        ({ key: this.key, artifact: this.artifact } = publish(this, name, ROOTFS_KIND, args, material, spec));
        this.registerOutputs({});
    }
}
