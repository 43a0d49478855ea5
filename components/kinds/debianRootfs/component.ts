// DebianRootfs's wiring: the Artifact builds from the plan's spec as it is.
import { KindComponentModule } from "../../core/publish";
import { DebianRootfsFields } from "./fields";
import { RootfsBuildSpec } from "./plan";

export const wire: KindComponentModule<DebianRootfsFields, RootfsBuildSpec>["wire"] = (_parent, args) => ({ build: args.plan.build });
