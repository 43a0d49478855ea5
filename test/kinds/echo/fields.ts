// Echo: a kind that exists only for tests. It publishes a text, repeated, as a one-blob artifact.
// Registered through the one list of kinds (test/unit/kinds/index.test.ts), it shows what a kind
// folder needs and nothing more.
import { KindDefinition } from "../../../components/core/kind";

export const ECHO_KIND = "Echo";

export interface EchoFields {
    text: string;
    times?: number;
}

export const echo: KindDefinition<EchoFields> = {
    name: ECHO_KIND,
    fields: {
        text: { type: "string", required: true, description: "the text to publish" },
        times: { type: "integer", description: "how many times (default 1)" },
    },
    validate: (fields, ctx) => (fields.times !== undefined && fields.times < 1 ? [`${ctx.where}.times must be at least 1, not ${fields.times}`] : []),
};
