// Qcow2Image's wiring: the disk is built from the upstream image's pinned reference.
import * as pulumi from "@pulumi/pulumi";
import { KindComponentModule } from "../../core/publish";
import { Qcow2Fields } from "./fields";
import { Qcow2BuildSpec } from "./plan";

export const wire: KindComponentModule<Qcow2Fields, Qcow2BuildSpec>["wire"] = (_parent, args) => {
    const upstream = args.spec.upstream;
    const upstreamRef = upstream.length === 1 ? args.upstreamRefs[upstream[0]] : pulumi.output<string | undefined>(undefined);
    return { build: pulumi.output(upstreamRef).apply((ref) => ({ ...args.plan.build, ...(ref ? { upstreamRef: ref } : {}) })) };
};
