// BaseImage's fields: a Containerfile and its build context.
import { KindDefinition } from "../../core/kind";
import { buildArgsProblems, PIN_EXTERNAL_IMAGES } from "../../images/imagePlan";

export const BASE_IMAGE_KIND = "BaseImage";

export interface BaseImageFields {
    containerfile: string;
    context?: string;
    ignore?: string[];
    buildArgs?: Record<string, string>;
    pinExternalImages?: boolean;
    target?: string;
}

export const baseImage: KindDefinition<BaseImageFields> = {
    name: BASE_IMAGE_KIND,
    fields: {
        containerfile: { type: "string", required: true, path: "file", description: "Containerfile/Dockerfile, relative to the project" },
        context: { type: "string", path: "dir", description: "build context directory (default: the Containerfile's directory)" },
        ignore: { type: "string[]", description: ".dockerignore-style rules, after context/.dockerignore" },
        buildArgs: { type: "object", description: "build arguments (strings); BASE and UPSTREAM_<NAME> come from upstreams" },
        target: { type: "string", description: "build stage to stop at" },
        pinExternalImages: PIN_EXTERNAL_IMAGES,
    },
    validate: (fields, ctx) => buildArgsProblems(fields.buildArgs, ctx.where),
};
