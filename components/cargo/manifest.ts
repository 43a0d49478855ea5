// The data every part of the recipe works on: a Cargo manifest or lock file as a TOML table, paths
// relative to the workspace root, and where a dependency entry points.
import * as path from "path";
import { parse as parseToml, stringify as stringifyToml, TomlError } from "smol-toml";
import { WarmrunError } from "../core/errors";

export type Table = Record<string, unknown>;

export function isTable(value: unknown): value is Table {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function tablesOf(value: unknown): Table[] {
    return Array.isArray(value) ? value.filter(isTable) : [];
}

export function stringOf(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

export function byString(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** Normalizes a relative path to forward slashes without "./" or a trailing slash; "" is the root. */
export function normalizeRel(p: string): string {
    const n = path.posix.normalize(p.replace(/\\/g, "/")).replace(/\/+$/, "");
    return n === "." ? "" : n;
}

/** `dir` joined with `rel`, or undefined when the result leaves the root. */
export function joinInside(dir: string, rel: string): string | undefined {
    if (path.posix.isAbsolute(rel.replace(/\\/g, "/"))) return undefined;
    const joined = normalizeRel(path.posix.join(dir || ".", rel));
    return joined === ".." || joined.startsWith("../") ? undefined : joined;
}

export function manifestPathOf(dir: string): string {
    return dir ? `${dir}/Cargo.toml` : "Cargo.toml";
}

export function inRoot(label: string, rel: string): string {
    return `${label.replace(/\/+$/, "")}/${rel}`;
}

/**
 * A regular expression for a Cargo `members` glob: `*`, `?` and `[...]` stay within one path segment,
 * a `**` segment spans any number of them.
 */
export function memberGlobToRegExp(pattern: string): RegExp {
    const segments = normalizeRel(pattern).split("/");
    if (segments.length === 1 && segments[0] === "**") return /^.*$/;
    let re = "";
    segments.forEach((segment, i) => {
        if (segment === "**") {
            re += i === 0 ? "(?:[^/]+/)*" : "(?:/[^/]+)*";
            return;
        }
        if (i > 0 && !(i === 1 && segments[0] === "**")) re += "/";
        for (let j = 0; j < segment.length; j++) {
            const c = segment[j];
            if (c === "*") re += "[^/]*";
            else if (c === "?") re += "[^/]";
            else if (c === "[") {
                const close = segment.indexOf("]", j + 2);
                if (close < 0) {
                    re += "\\[";
                    continue;
                }
                let body = segment.slice(j + 1, close);
                const negated = body.startsWith("!");
                if (negated) body = body.slice(1);
                re += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
                j = close;
            } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
        }
    });
    return new RegExp(`^${re}$`);
}
// ---------------------------------------------------------------------------------------------
// TOML

export function parseTomlFile(text: string, where: string): Table {
    try {
        return parseToml(text) as Table;
    } catch (e) {
        if (e instanceof TomlError) {
            const reason = e.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
            throw new WarmrunError(`${where} is not valid TOML (line ${e.line}, column ${e.column}: ${reason}); fix the syntax there`);
        }
        throw e;
    }
}

/** A deep copy with the keys of every table sorted; arrays keep their order (it can matter). */
export function sortedCopy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortedCopy);
    if (!isTable(value)) return value;
    const out: Table = {};
    for (const k of Object.keys(value).sort(byString)) out[k] = sortedCopy(value[k]);
    return out;
}

/** One text per meaning: sorted keys, the serializer's own layout, no comments. */
export function canonicalToml(doc: Table): string {
    return `${stringifyToml(sortedCopy(doc)).trimEnd()}\n`;
}
// ---------------------------------------------------------------------------------------------
// Packages and their dependencies

export interface LocalPackage {
    dir: string;
    doc: Table;
    name: string;
    /** Directories of the local packages this one depends on by path (any kind of dependency). */
    localDeps: Set<string>;
    hasExternalDep: boolean;
}

const DEPENDENCY_TABLES = ["dependencies", "dev-dependencies", "dev_dependencies", "build-dependencies", "build_dependencies"];

/** Every dependency table of a manifest, target-specific ones included. */
export function dependencyTables(doc: Table): Table[] {
    const tables: Table[] = [];
    const collect = (t: Table): void => {
        for (const name of DEPENDENCY_TABLES) if (isTable(t[name])) tables.push(t[name] as Table);
    };
    collect(doc);
    if (isTable(doc.target)) for (const cfg of Object.values(doc.target)) if (isTable(cfg)) collect(cfg);
    return tables;
}

export interface Context {
    label: string;
    workspaceDeps: Table;
}

/** Where a dependency entry points: a local package directory, or undefined for an external crate. */
export function localDirOf(ctx: Context, manifestPath: string, manifestDir: string, depName: string, entry: unknown): string | undefined {
    if (!isTable(entry)) return undefined;
    if (entry.workspace === true) {
        const inherited = ctx.workspaceDeps[depName];
        if (inherited === undefined) {
            throw new WarmrunError(
                `${inRoot(ctx.label, manifestPath)}: dependency "${depName}" has workspace = true but the root Cargo.toml has no [workspace.dependencies] entry "${depName}"; add it there`,
            );
        }
        return localDirOf(ctx, "Cargo.toml", "", depName, inherited);
    }
    const depPath = stringOf(entry.path);
    if (depPath === undefined) return undefined;
    const dir = joinInside(manifestDir, depPath);
    if (dir === undefined) {
        throw new WarmrunError(
            `${inRoot(ctx.label, manifestPath)}: dependency "${depName}" has path "${depPath}", outside the workspace root ${ctx.label}; move the crate under the root or build from a root that contains it`,
        );
    }
    return dir;
}
