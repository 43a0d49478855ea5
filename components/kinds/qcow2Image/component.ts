// Qcow2Image's wiring: the disk is built from the upstream image's pinned reference.
import * as pulumi from "@pulumi/pulumi";
import { KindComponentModule, requireToolsOnMiss } from "../../core/publish";
import { Qcow2Fields } from "./fields";
import { Qcow2BuildSpec } from "./plan";

/** A miss builds with mke2fs and qemu-img, or with the user's own command (and qemu-img to check its disk). */
export const check: KindComponentModule<Qcow2Fields, Qcow2BuildSpec>["check"] = async (args) => {
    const command = args.plan.build.command;
    const tools = command ? [command[0], "qemu-img"] : ["mke2fs", "qemu-img"];
    requireToolsOnMiss(args, tools, command ? `install ${command[0]}, or fix warmrun:artifacts.${args.spec.name}.command; \`npm run setup\` installs qemu-utils` : "run `npm run setup` (it installs e2fsprogs and qemu-utils)");
};

export const wire: KindComponentModule<Qcow2Fields, Qcow2BuildSpec>["wire"] = (_parent, args) => {
    const upstream = args.spec.upstream;
    const upstreamRef = upstream.length === 1 ? args.upstreamRefs[upstream[0]] : pulumi.output<string | undefined>(undefined);
    return { build: pulumi.output(upstreamRef).apply((ref) => ({ ...args.plan.build, ...(ref ? { upstreamRef: ref } : {}) })) };
};
