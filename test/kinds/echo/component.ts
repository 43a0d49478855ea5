// Echo's wiring: the Artifact builds from the plan's spec as it is.
import { KindComponentModule } from "../../../components/core/publish";
import { EchoFields } from "./fields";
import { EchoBuild } from "./plan";

export const wire: KindComponentModule<EchoFields, EchoBuild>["wire"] = (_parent, args) => ({ build: args.plan.build });
