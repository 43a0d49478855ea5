// FileBundle's wiring: the Artifact builds from the plan's spec as it is.
import { KindComponentModule } from "../../core/publish";
import { FileBundleFields } from "./fields";
import { BundleBuildSpec } from "./plan";

export const wire: KindComponentModule<FileBundleFields, BundleBuildSpec>["wire"] = (_parent, args) => ({ build: args.plan.build });
