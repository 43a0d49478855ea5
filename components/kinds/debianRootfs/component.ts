// DebianRootfs's wiring: the Artifact builds from the plan's spec as it is.
import { KindComponentModule, requireToolsOnMiss } from "../../core/publish";
import { DebianRootfsFields } from "./fields";
import { RootfsBuildSpec } from "./plan";

export const check: KindComponentModule<DebianRootfsFields, RootfsBuildSpec>["check"] = async (args) =>
    requireToolsOnMiss(args, ["debootstrap"], "run `npm run setup` (it installs debootstrap)");

export const wire: KindComponentModule<DebianRootfsFields, RootfsBuildSpec>["wire"] = (_parent, args) => ({ build: args.plan.build });
