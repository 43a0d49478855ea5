// Stack outputs as CI variables: names (WARMRUN_<ARTIFACT>[_SUFFIX]), and the $GITHUB_OUTPUT /
// $GITHUB_ENV and dotenv file formats. Pure functions; scripts/ci-outputs.ts reads the stack.
import { createHash } from "crypto";
import { WarmrunError } from "../core/errors";

/** The per-artifact outputs CI gets, and the suffix of each variable name. */
export const CI_FIELDS = {
    pinned: "",
    ref: "_REF",
    digest: "_DIGEST",
    key: "_KEY",
    cacheHit: "_CACHE_HIT",
} as const;
export type CiField = keyof typeof CI_FIELDS;
export const CI_FIELD_NAMES = Object.keys(CI_FIELDS) as CiField[];

/** How `pulumi stack output --json` shows a secret without --show-secrets. */
export const SECRET_PLACEHOLDER = "[secret]";

/** rust-deps -> WARMRUN_RUST_DEPS; with a field, its suffix: WARMRUN_RUST_DEPS_DIGEST. */
export function variableName(artifact: string, field: CiField = "pinned"): string {
    return `WARMRUN_${artifact.toUpperCase().replace(/[^A-Z0-9]/g, "_")}${CI_FIELDS[field]}`;
}

export interface CiVariable {
    name: string;
    value: string;
    artifact?: string;
    field?: CiField;
}

export interface SelectOptions {
    /** Artifacts to include (default: all in the outputs). */
    artifacts?: string[];
    /** Fields to include (default: all of CI_FIELDS). */
    fields?: CiField[];
}

/**
 * The variables of a stack's outputs (`pulumi stack output --json`): WARMRUN_REGISTRY, then per
 * artifact the chosen fields. Secret values are left out, never written as their placeholder.
 */
export function ciVariables(stackOutputs: any, opts: SelectOptions = {}): { variables: CiVariable[]; skipped: string[] } {
    const outputs: Record<string, any> = stackOutputs?.outputs ?? {};
    const names = opts.artifacts ?? Object.keys(outputs).sort();
    const fields = opts.fields ?? CI_FIELD_NAMES;
    const unknown = names.filter((n) => !(n in outputs));
    if (unknown.length) {
        throw new WarmrunError(`the stack has no output for ${unknown.join(", ")}: its artifacts are ${Object.keys(outputs).sort().join(", ") || "none (run pulumi up first)"}`);
    }
    const variables: CiVariable[] = [];
    const skipped: string[] = [];
    const owner = new Map<string, string>();
    const add = (v: CiVariable) => {
        const clash = owner.get(v.name);
        if (clash !== undefined) throw new WarmrunError(`artifacts ${clash} and ${v.artifact} both map to the variable ${v.name}: rename one of them`);
        owner.set(v.name, v.artifact ?? "");
        variables.push(v);
    };
    if (typeof stackOutputs?.registry === "string" && stackOutputs.registry !== SECRET_PLACEHOLDER) add({ name: "WARMRUN_REGISTRY", value: stackOutputs.registry, artifact: "(registry)" });
    for (const artifact of names) {
        for (const field of fields) {
            const raw = outputs[artifact]?.[field];
            const name = variableName(artifact, field);
            if (raw === undefined || raw === null) continue;
            if (raw === SECRET_PLACEHOLDER) {
                skipped.push(name);
                continue;
            }
            add({ name, value: String(raw), artifact, field });
        }
    }
    return { variables, skipped };
}

/** A heredoc delimiter that does not occur in the value (stable for a given value). */
function delimiterFor(value: string): string {
    let d = `WARMRUN_EOF_${createHash("sha256").update(value).digest("hex").slice(0, 16)}`;
    while (value.includes(d)) d += "_";
    return d;
}

/** $GITHUB_OUTPUT / $GITHUB_ENV lines: NAME=value, or NAME<<DELIMITER ... for multi-line values. */
export function renderGithubFile(vars: CiVariable[]): string {
    return vars
        .map((v) => {
            if (!v.value.includes("\n") && !v.value.includes("\r")) return `${v.name}=${v.value}\n`;
            const d = delimiterFor(v.value);
            return `${v.name}<<${d}\n${v.value}\n${d}\n`;
        })
        .join("");
}

/** Reads a $GITHUB_OUTPUT / $GITHUB_ENV file as the runner does. */
export function parseGithubFile(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line === "") continue;
        const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
        if (heredoc) {
            const body: string[] = [];
            let j = i + 1;
            while (j < lines.length && lines[j] !== heredoc[2]) body.push(lines[j++]);
            if (j >= lines.length) throw new Error(`unterminated value of ${heredoc[1]}`);
            out[heredoc[1]] = body.join("\n");
            i = j;
        } else {
            const eq = line.indexOf("=");
            if (eq < 0) throw new Error(`not a NAME=value line: ${line}`);
            out[line.slice(0, eq)] = line.slice(eq + 1);
        }
    }
    return out;
}

/** A dotenv file: values single-quoted unless plain; multi-line values double-quoted with \n. */
export function renderDotenv(vars: CiVariable[]): string {
    return vars
        .map((v) => {
            if (/^[A-Za-z0-9_./:@+=,-]*$/.test(v.value)) return `${v.name}=${v.value}\n`;
            if (!/[\n\r']/.test(v.value)) return `${v.name}='${v.value}'\n`;
            return `${v.name}="${v.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$").replace(/\r/g, "\\r").replace(/\n/g, "\\n")}"\n`;
        })
        .join("");
}

export const TARGETS = ["github-output", "github-env", "dotenv"] as const;
export type Target = (typeof TARGETS)[number];

export function renderFor(target: Target, vars: CiVariable[]): string {
    return target === "dotenv" ? renderDotenv(vars) : renderGithubFile(vars);
}
