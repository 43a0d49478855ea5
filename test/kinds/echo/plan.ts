// Echo's plan: the text and the count make the key; the build spec is the text to publish.
import { Plan, PlanContext } from "../../../components/core/kind";
import { EchoFields, ECHO_KIND } from "./fields";

export interface EchoBuild {
    text: string;
}

export async function plan(fields: EchoFields, ctx: PlanContext): Promise<Plan<EchoBuild>> {
    const times = fields.times ?? 1;
    return {
        material: { kind: ECHO_KIND, recipeVersion: 1, files: [], params: { text: fields.text, times }, upstream: ctx.upstream },
        build: { text: fields.text.repeat(times) },
    };
}
