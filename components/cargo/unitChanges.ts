// The compile material of a CargoDepsImage (units.ts) as named input entries, one per compiled
// external crate (`unit:tokio` -> `1.41.0 [macros,rt] <digest of source and checksum>`), the
// toolchain, the rustflags and linker for the target, each profile used, the cargo config and manifest
// tables that change compilation, and the cargo arguments. The entries enter the key and the input
// summary recorded in state, so a later diff names what changed from the two summaries alone:
// `tokio 1.40.0 -> 1.41.0`, `serde +derive`, `rustflags for x86_64-unknown-linux-gnu`.
//
// This module loads nothing heavy: the kind's definition (always loaded) uses it to describe diffs.
import type { CompileKeyMaterial } from "./units";
import type { ToolchainKey } from "./toolchain";
import { canonicalJson, sha256Hex } from "../core/keys";

const HOST = " (host)";

/** How the compile material's entries are named; anything else is not ours to describe. */
const PREFIXES = ["unit:", "rustflags:", "linker:", "profile:", "config:", "manifest:", "cargo:", "recipe:"];

export function isCompileEntry(name: string): boolean {
    return name === "toolchain" || PREFIXES.some((p) => name.startsWith(p));
}

function byString(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function json(value: unknown): string {
    return canonicalJson(value ?? null);
}

/**
 * The entries of a compile material. Together they hold every part of it but the fallback's reason
 * (a message, which must not move the key): two materials with equal entries compile the same.
 */
export function compileInputEntries(m: CompileKeyMaterial): Record<string, string> {
    let out = entriesOf.get(m);
    if (!out) entriesOf.set(m, (out = entriesUncached(m)));
    return out;
}

/** Per material object: a memo's answer (the same object for an unchanged workspace) is turned into entries once. */
const entriesOf = new WeakMap<CompileKeyMaterial, Record<string, string>>();

function entriesUncached(m: CompileKeyMaterial): Record<string, string> {
    const out: Record<string, string> = {};
    const units = new Map<string, string[]>();
    for (const u of m.units ?? []) {
        const name = `unit:${u.name}${u.forHost ? HOST : ""}`;
        const digest = sha256Hex(json({ source: u.source, checksum: u.checksum })).slice(0, 16);
        units.set(name, [...(units.get(name) ?? []), `${u.version} [${u.features.join(",")}] ${digest}`]);
    }
    for (const [name, values] of units) out[name] = values.sort(byString).join("; ");
    out["cargo:units"] = m.units ? "resolved" : "unresolved";
    for (const [file, sha] of Object.entries(m.fallback?.files ?? {})) out[`recipe:${file}`] = sha;
    out["cargo:version"] = String(m.version);
    out["cargo:target"] = m.target;
    out["cargo:host"] = m.host;
    out["cargo:resolver"] = m.resolver === null ? "unresolved" : String(m.resolver);
    out["cargo:args"] = json(m.args);
    out.toolchain = json(m.toolchain);
    out[`rustflags:${m.target}`] = json(m.config.rustflags);
    if (m.config.linker !== null) out[`linker:${m.target}`] = m.config.linker;
    for (const [table, value] of [["env", m.config.env], ["patch", m.config.patch], ["source", m.config.source], ["unstable", m.config.unstable]] as const) {
        if (value !== null) out[`config:${table}`] = json(value);
    }
    if (m.patch !== null) out["manifest:patch"] = json(m.patch);
    if (m.replace !== null) out["manifest:replace"] = json(m.replace);
    for (const [name, profile] of Object.entries(m.profiles)) out[`profile:${name}`] = json(profile);
    return out;
}

interface UnitValue {
    version: string;
    features: string[];
    digest: string;
}

function parseUnits(value: string | undefined): UnitValue[] {
    if (value === undefined) return [];
    return value.split("; ").map((v) => {
        const m = /^(\S+) \[([^\]]*)\] (\S+)$/.exec(v);
        return m ? { version: m[1], features: m[2] ? m[2].split(",") : [], digest: m[3] } : { version: v, features: [], digest: "" };
    });
}

function featureDiff(a: string[], b: string[]): string {
    const sa = new Set(a);
    const sb = new Set(b);
    return [...b.filter((x) => !sa.has(x)).map((x) => `+${x}`), ...a.filter((x) => !sb.has(x)).map((x) => `-${x}`)].join(" ");
}

function unitLine(label: string, before: UnitValue[], after: UnitValue[]): string {
    if (before.length === 0) return `${label} added`;
    if (after.length === 0) return `${label} removed`;
    if (before.length === 1 && after.length === 1) {
        const [x, y] = [before[0], after[0]];
        const parts: string[] = [];
        if (x.version !== y.version) parts.push(`${x.version} -> ${y.version}`);
        else if (x.digest !== y.digest) parts.push("source or checksum changed");
        const f = featureDiff(x.features, y.features);
        if (f) parts.push(f);
        return `${label} ${parts.join(" ")}`;
    }
    const versions = (us: UnitValue[]): string => us.map((u) => u.version).join(", ");
    return versions(before) === versions(after) ? `${label} features changed` : `${label} ${versions(before)} -> ${versions(after)}`;
}

function channelOf(value: string | undefined): string {
    if (value === undefined) return "none";
    const t = JSON.parse(value) as ToolchainKey | null;
    return t ? (t.channel ?? t.path ?? "custom") : "none";
}

/**
 * One line per change between two input summaries, for the compile entries only (isCompileEntry):
 * the changed units first, then toolchain, config, arguments and profiles. `old` undefined: a first build.
 */
export function describeUnitChanges(old: Record<string, string> | undefined, now: Record<string, string>): string[] {
    if (!old) return ["first build"];
    const names = [...new Set([...Object.keys(old), ...Object.keys(now)])].filter((n) => isCompileEntry(n) && old[n] !== now[n]).sort(byString);
    const changed = new Set(names);
    const lines: string[] = [];
    const say = (name: string, line: string): void => {
        if (changed.delete(name)) lines.push(line);
    };
    const arrow = (name: string, what: string): void => say(name, `${what} ${old[name] ?? "none"} -> ${now[name] ?? "none"}`);
    arrow("cargo:target", "target");
    if (changed.has("cargo:units")) {
        say("cargo:units", now["cargo:units"] === "unresolved" ? "the compiled crates could not be resolved: the key follows Cargo.lock and the manifests" : "the compiled crates are now resolved from the registry index");
    }
    for (const name of names.filter((n) => n.startsWith("recipe:"))) say(name, `${name.slice("recipe:".length)} changed`);
    for (const name of names.filter((n) => n.startsWith("unit:"))) say(name, unitLine(name.slice("unit:".length), parseUnits(old[name]), parseUnits(now[name])));
    if (old["cargo:resolver"] !== "unresolved" && now["cargo:resolver"] !== "unresolved") arrow("cargo:resolver", "resolver");
    else changed.delete("cargo:resolver");
    if (changed.has("toolchain")) {
        const [a, b] = [channelOf(old.toolchain), channelOf(now.toolchain)];
        say("toolchain", a !== b ? `toolchain ${a} -> ${b}` : "toolchain components or targets");
    }
    for (const name of names.filter((n) => n.startsWith("rustflags:"))) say(name, `rustflags for ${name.slice("rustflags:".length)}`);
    for (const name of names.filter((n) => n.startsWith("linker:"))) say(name, `linker for ${name.slice("linker:".length)}`);
    say("config:env", "[env] of .cargo/config.toml");
    say("config:source", "source replacement ([source] of .cargo/config.toml)");
    say("config:unstable", "[unstable] of .cargo/config.toml");
    const patchInConfig = changed.delete("config:patch");
    if (changed.delete("manifest:patch") || patchInConfig) lines.push("[patch]");
    say("manifest:replace", "[replace]");
    say("cargo:args", "cargo arguments");
    for (const name of names.filter((n) => n.startsWith("profile:"))) say(name, `profile ${name.slice("profile:".length)}`);
    arrow("cargo:host", "host");
    say("cargo:version", "the compile key's version");
    return lines;
}
