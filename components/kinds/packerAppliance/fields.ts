// PackerAppliance's fields: a `packer build` keyed by everything the build reads.
import { pathProblem } from "../../core/fileset";
import * as path from "path";
import { FieldContext, KindDefinition } from "../../core/kind";

export const PACKER_KIND = "PackerAppliance";
export const RUNNERS = ["warmrun", "command"] as const;

export interface PackerFields {
    template: string;
    root?: string;
    ignore?: string[];
    varFiles?: string[];
    vars?: Record<string, string>;
    secretVars?: Record<string, string>;
    sourceFiles?: Record<string, string>;
    sshKey?: boolean;
    only?: string[];
    manifest?: string;
    vmdk?: boolean;
    ova?: boolean;
    outputDir?: string;
    runner?: (typeof RUNNERS)[number];
}

/** What a field table cannot check: lists of files, maps of files, secrets. Resolves the files' paths. */
function packerProblems(fields: PackerFields, ctx: FieldContext): string[] {
    const { where } = ctx;
    const problems: string[] = [];
    const resolveFile = (field: string, rel: string): string | undefined => {
        const abs = path.resolve(ctx.projectRoot, rel);
        const problem = pathProblem(abs, rel, "file");
        if (!problem) return abs;
        problems.push(`${where}.${field}: ${problem}`);
        return undefined;
    };
    if (Array.isArray(fields.varFiles)) fields.varFiles = fields.varFiles.map((f: string, i: number) => resolveFile(`varFiles[${i}]`, f) ?? f);
    for (const map of ["vars", "sourceFiles", "secretVars"] as const) {
        if (fields[map] && Object.values(fields[map]!).some((v) => typeof v !== "string")) problems.push(`${where}.${map}: every value must be a string (quote numbers and booleans)`);
    }
    if (fields.sourceFiles && !problems.length) {
        fields.sourceFiles = Object.fromEntries(Object.entries(fields.sourceFiles).map(([v, f]) => [v, resolveFile(`sourceFiles.${v}`, f) ?? f]));
    }
    for (const [v, key] of Object.entries((fields.secretVars ?? {}) as Record<string, unknown>)) {
        if (typeof key !== "string") continue;
        if (!key.includes(":") || key.startsWith("warmrun:")) problems.push(`${where}.secretVars.${v}: "${key}" must be a config key of another namespace, e.g. appliance:${v}`);
        else if (!ctx.secretKeys.has(key)) problems.push(`${where}.secretVars.${v}: ${key} is not set as a secret: set it with \`pulumi config set --secret ${key}\``);
    }
    if (fields.runner !== undefined && !(RUNNERS as readonly string[]).includes(fields.runner)) problems.push(`${where}.runner "${ctx.raw.runner}" is not one of ${RUNNERS.join(", ")}`);
    if (fields.sourceFiles && fields.vars) {
        for (const v of Object.keys(fields.sourceFiles)) if (v in fields.vars) problems.push(`${where}: variable ${v} is set in both vars and sourceFiles; keep one`);
    }
    return problems;
}

export const packerAppliance: KindDefinition<PackerFields> = {
    name: PACKER_KIND,
    fields: {
        template: { type: "string", required: true, path: "file", description: "Packer template (.pkr.hcl or .json), relative to the project" },
        root: { type: "string", path: "dir", description: "directory of the build's files (scripts, http), hashed into the key (default: the template's directory)" },
        ignore: { type: "string[]", description: ".dockerignore-style rules for files under root that do not count" },
        varFiles: { type: "string[]", description: "Packer var files (-var-file), relative to the project" },
        vars: { type: "object", description: "Packer variables (-var), strings" },
        secretVars: { type: "object", description: "Packer variable -> stack config key holding a secret (passed as PKR_VAR_<name>)" },
        sourceFiles: { type: "object", description: "Packer variable -> source file (disk image, kernel): hashed into the key, passed as its absolute path" },
        sshKey: { type: "boolean", description: "make a throwaway ed25519 key per build, passed as ssh_private_key_file and ssh_public_key" },
        only: { type: "string[]", description: "builds to run (-only)" },
        manifest: { type: "string", description: "the manifest post-processor's output, relative to the template (default packer-manifest.json)" },
        vmdk: { type: "boolean", description: "also convert the disk to a streamOptimized VMDK (default false)" },
        ova: { type: "boolean", description: "also pack an OVA (OVF descriptor + VMDK) (default false)" },
        outputDir: { type: "string", description: "where the appliance's files are written or downloaded (default <cacheDir>/appliances/<name>)" },
        runner: { type: "string", description: "warmrun (default: packer runs inside warmrun's provider) or command (@pulumi/command local.Command)" },
    },
    validate: packerProblems,
};
