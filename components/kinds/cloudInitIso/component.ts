// CloudInitIso's wiring: the rendered seed reaches the provider only as a Pulumi secret (no plaintext
// in state, outputs or logs); the Artifact is the ISO file, whose path and sha256 CI also gets.
import * as pulumi from "@pulumi/pulumi";
import { KindComponentModule } from "../../core/publish";
import { CloudInitFields } from "./fields";
import { IsoPlanBuild } from "./plan";

export const wire: KindComponentModule<CloudInitFields, IsoPlanBuild>["wire"] = (_parent, args) => ({
    build: pulumi.secret(args.plan.build.iso),
    secretOutputs: ["build"],
    path: args.plan.build.path,
    outputs: (artifact) => ({
        path: artifact.details.apply((d) => d?.path as string),
        sha256: artifact.details.apply((d) => d?.sha256 as string),
    }),
});
