// FileBundle's fields: a directory published as a single-layer OCI artifact.
import { pathProblem } from "../../core/fileset";
import * as path from "path";
import { KindDefinition } from "../../core/kind";

export const BUNDLE_KIND = "FileBundle";

export interface FileBundleFields {
    root: string;
    include?: string[];
    ignore?: string[];
    ignoreFile?: string;
    params?: Record<string, unknown>;
}

export const fileBundle: KindDefinition<FileBundleFields> = {
    name: BUNDLE_KIND,
    fields: {
        root: { type: "string", required: true, path: "dir", description: "directory of the files, relative to the project" },
        include: { type: "string[]", description: "globs of files to include (default: all)" },
        ignore: { type: "string[]", description: ".dockerignore-style rules" },
        ignoreFile: { type: "string", description: "file of ignore rules, relative to root (default: .dockerignore if present)" },
        params: { type: "object", description: "extra parameters that enter the key" },
    },
    validate(fields, ctx) {
        // ignoreFile is relative to root, so it is checked once root is resolved.
        if (typeof fields.ignoreFile !== "string" || !path.isAbsolute(fields.root ?? "")) return [];
        const ignoreFile = path.resolve(fields.root, fields.ignoreFile);
        const problem = pathProblem(ignoreFile, fields.ignoreFile, "file");
        if (problem) return [`${ctx.where}.ignoreFile: ${problem.replace(/ \(relative to the project\)$/, ` (relative to ${ctx.raw.root})`)}`];
        fields.ignoreFile = ignoreFile;
        return [];
    },
};
