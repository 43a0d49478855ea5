// DebianRootfs's plan: suite, variant, package list and mirror make the key.
import { KeyMaterial } from "../../core/keys";
import { Plan, PlanContext } from "../../core/kind";
import { DebianRootfsFields, ROOTFS_KIND } from "./fields";

export const ROOTFS_RECIPE_VERSION = 1;

export interface RootfsBuildSpec {
    suite: string;
    variant: string;
    packages: string[];
    /** Empty: debootstrap's own default mirror. */
    mirror: string;
}

export function rootfsBuildSpec(fields: DebianRootfsFields): RootfsBuildSpec {
    return {
        suite: fields.suite,
        variant: fields.variant ?? "minbase",
        packages: [...new Set<string>(fields.packages ?? [])].sort(),
        mirror: fields.mirror ?? "",
    };
}

export function rootfsKeyMaterial(spec: RootfsBuildSpec, upstream: Record<string, string>): KeyMaterial {
    return { kind: ROOTFS_KIND, recipeVersion: ROOTFS_RECIPE_VERSION, files: [], params: { ...spec, mirror: spec.mirror || "debootstrap default" }, upstream };
}

export async function plan(fields: DebianRootfsFields, ctx: PlanContext): Promise<Plan<RootfsBuildSpec>> {
    const spec = rootfsBuildSpec(fields);
    return { material: rootfsKeyMaterial(spec, ctx.upstream), build: spec };
}
