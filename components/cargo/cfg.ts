// Cargo's platform filters: `[target.'cfg(...)'.dependencies]`, `[target.<triple>.dependencies]` and the
// `target` field of registry index entries, evaluated for a target triple the way Cargo evaluates them
// (with the cfg values rustc prints for that target, plus the `--cfg` and `-C target-feature` rustflags).
import { WarmrunError } from "../core/errors";

/** A target's cfg: bare names (`unix`, `debug_assertions`) and key="value" pairs (a key may have many values). */
export interface TargetCfg {
    triple: string;
    names: Set<string>;
    values: Map<string, Set<string>>;
}

/** The default triple of a CargoDepsImage. */
export const DEFAULT_TARGET = "x86_64-unknown-linux-gnu";

// `rustc --print cfg --target <triple>` of rustc 1.95, the values Cargo sees for a target without rustflags.
const X86_64_FEATURES = ["fxsr", "sse", "sse2"];
const X86_64_WINDOWS_FEATURES = ["cmpxchg16b", "fxsr", "sse", "sse2", "sse3"];
const ATOMIC_64 = ["8", "16", "32", "64", "ptr"];
const ATOMIC_128 = ["8", "16", "32", "64", "128", "ptr"];
const AARCH64_DARWIN_FEATURES = [
    "aes", "crc", "dit", "dotprod", "dpb", "dpb2", "fcma", "fhm", "flagm", "fp16", "frintts", "jsconv", "lor", "lse", "neon",
    "paca", "pacg", "pan", "pmuv3", "ras", "rcpc", "rcpc2", "rdm", "sb", "sha2", "sha3", "ssbs", "vh",
];

interface TripleSpec {
    arch: string;
    os: string;
    family: "unix" | "windows";
    env: string;
    vendor: string;
    features: string[];
    atomics: string[];
}

const TRIPLES: Record<string, TripleSpec> = {
    "x86_64-unknown-linux-gnu": { arch: "x86_64", os: "linux", family: "unix", env: "gnu", vendor: "unknown", features: X86_64_FEATURES, atomics: ATOMIC_64 },
    "x86_64-unknown-linux-musl": { arch: "x86_64", os: "linux", family: "unix", env: "musl", vendor: "unknown", features: ["crt-static", ...X86_64_FEATURES], atomics: ATOMIC_64 },
    "aarch64-unknown-linux-gnu": { arch: "aarch64", os: "linux", family: "unix", env: "gnu", vendor: "unknown", features: ["neon"], atomics: ATOMIC_128 },
    "aarch64-unknown-linux-musl": { arch: "aarch64", os: "linux", family: "unix", env: "musl", vendor: "unknown", features: ["crt-static", "neon"], atomics: ATOMIC_128 },
    "x86_64-pc-windows-msvc": { arch: "x86_64", os: "windows", family: "windows", env: "msvc", vendor: "pc", features: X86_64_WINDOWS_FEATURES, atomics: ATOMIC_128 },
    "x86_64-pc-windows-gnu": { arch: "x86_64", os: "windows", family: "windows", env: "gnu", vendor: "pc", features: X86_64_WINDOWS_FEATURES, atomics: ATOMIC_128 },
    "x86_64-apple-darwin": {
        arch: "x86_64", os: "macos", family: "unix", env: "", vendor: "apple",
        features: ["cmpxchg16b", "fxsr", "sse", "sse2", "sse3", "sse4.1", "ssse3"], atomics: ATOMIC_128,
    },
    "aarch64-apple-darwin": { arch: "aarch64", os: "macos", family: "unix", env: "", vendor: "apple", features: AARCH64_DARWIN_FEATURES, atomics: ATOMIC_128 },
};

export const KNOWN_TRIPLES: readonly string[] = Object.keys(TRIPLES).sort();

export function isKnownTriple(triple: string): boolean {
    return Object.prototype.hasOwnProperty.call(TRIPLES, triple);
}

/** The problem of an unknown triple, naming the setting (`where`) and the choices. */
export function unknownTripleProblem(where: string, triple: string): string {
    return `${where}: unknown target triple "${triple}"; set it to one of ${KNOWN_TRIPLES.join(", ")}`;
}

/**
 * The cfg of a known triple, with rustflags applied (`--cfg name`, `--cfg key="value"`, `-C target-feature=+f,-g`).
 * `where` names the setting for the error on an unknown triple (e.g. `warmrun:artifacts.deps.target`).
 */
export function targetCfg(triple: string, rustflags: string[] = [], where = "target"): TargetCfg {
    const spec = TRIPLES[triple];
    if (!spec || !isKnownTriple(triple)) {
        throw new WarmrunError(unknownTripleProblem(where, triple));
    }
    const values = new Map<string, Set<string>>();
    const put = (k: string, v: string): void => {
        let s = values.get(k);
        if (!s) values.set(k, (s = new Set()));
        s.add(v);
    };
    put("panic", "unwind");
    put("target_abi", "");
    put("target_arch", spec.arch);
    put("target_endian", "little");
    put("target_env", spec.env);
    put("target_family", spec.family);
    for (const f of spec.features) put("target_feature", f);
    for (const a of spec.atomics) put("target_has_atomic", a);
    put("target_os", spec.os);
    put("target_pointer_width", "64");
    put("target_vendor", spec.vendor);
    const names = new Set(["debug_assertions", spec.family]);
    applyRustflags({ triple, names, values }, rustflags);
    return { triple, names, values };
}

function applyRustflags(cfg: TargetCfg, flags: string[]): void {
    for (let i = 0; i < flags.length; i++) {
        let flag = flags[i];
        let arg: string | undefined;
        if (flag === "--cfg" || flag === "-C") arg = flags[++i];
        else if (flag.startsWith("--cfg=")) [flag, arg] = ["--cfg", flag.slice(6)];
        else if (flag.startsWith("-C") && flag.length > 2) [flag, arg] = ["-C", flag.slice(2)];
        if (arg === undefined) continue;
        if (flag === "--cfg") {
            const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*"(.*)")?$/.exec(arg.trim());
            if (!m) continue;
            if (m[2] === undefined) cfg.names.add(m[1]);
            else {
                let s = cfg.values.get(m[1]);
                if (!s) cfg.values.set(m[1], (s = new Set()));
                s.add(m[2]);
            }
        } else if (flag === "-C" && arg.startsWith("target-feature=")) {
            let s = cfg.values.get("target_feature");
            if (!s) cfg.values.set("target_feature", (s = new Set()));
            for (const f of arg.slice("target-feature=".length).split(",")) {
                if (f.startsWith("+")) s.add(f.slice(1));
                else if (f.startsWith("-")) s.delete(f.slice(1));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// cfg expressions

export type CfgExpr =
    | { op: "name"; name: string }
    | { op: "eq"; key: string; value: string }
    | { op: "all" | "any"; args: CfgExpr[] }
    | { op: "not"; arg: CfgExpr };

class CfgSyntaxError extends Error {}

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) i++;
        else if ("(),=".includes(c)) tokens.push(text[i++]);
        else if (c === '"') {
            const end = text.indexOf('"', i + 1);
            if (end < 0) throw new CfgSyntaxError("unterminated string");
            tokens.push(text.slice(i, end + 1));
            i = end + 1;
        } else {
            const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
            if (!m) throw new CfgSyntaxError(`unexpected character "${c}"`);
            tokens.push(m[0]);
            i += m[0].length;
        }
    }
    return tokens;
}

/** Parses the inside of `cfg(...)`. */
export function parseCfg(text: string): CfgExpr {
    const tokens = tokenize(text);
    let pos = 0;
    const expect = (t: string): void => {
        if (tokens[pos] !== t) throw new CfgSyntaxError(`expected "${t}"`);
        pos++;
    };
    const expr = (): CfgExpr => {
        const ident = tokens[pos++];
        if (ident === undefined || !/^[A-Za-z_]/.test(ident)) throw new CfgSyntaxError("expected an identifier");
        if ((ident === "all" || ident === "any" || ident === "not") && tokens[pos] === "(") {
            pos++;
            const args: CfgExpr[] = [];
            while (tokens[pos] !== ")") {
                args.push(expr());
                if (tokens[pos] === ",") pos++;
                else if (tokens[pos] !== ")") throw new CfgSyntaxError('expected "," or ")"');
            }
            expect(")");
            if (ident === "not") {
                if (args.length !== 1) throw new CfgSyntaxError("not() takes one argument");
                return { op: "not", arg: args[0] };
            }
            return { op: ident, args };
        }
        if (tokens[pos] === "=") {
            pos++;
            const v = tokens[pos++];
            if (v === undefined || !v.startsWith('"')) throw new CfgSyntaxError("expected a string");
            return { op: "eq", key: ident, value: v.slice(1, -1) };
        }
        return { op: "name", name: ident };
    };
    const e = expr();
    if (pos !== tokens.length) throw new CfgSyntaxError("trailing input");
    return e;
}

export function evalCfg(e: CfgExpr, cfg: TargetCfg): boolean {
    switch (e.op) {
        case "name":
            return cfg.names.has(e.name);
        case "eq":
            return cfg.values.get(e.key)?.has(e.value) ?? false;
        case "all":
            return e.args.every((a) => evalCfg(a, cfg));
        case "any":
            return e.args.some((a) => evalCfg(a, cfg));
        case "not":
            return !evalCfg(e.arg, cfg);
    }
}

const platformCache = new Map<string, CfgExpr | string>();

/**
 * Whether a dependency's platform filter (`cfg(...)` or a triple; undefined/null for none) holds for `cfg`.
 * `where` names the manifest for a syntax error.
 */
export function platformMatches(platform: string | null | undefined, cfg: TargetCfg, where = "Cargo.toml"): boolean {
    if (platform === null || platform === undefined) return true;
    let parsed = platformCache.get(platform);
    if (parsed === undefined) {
        const t = platform.trim();
        if (t.startsWith("cfg(") && t.endsWith(")")) {
            try {
                parsed = parseCfg(t.slice(4, -1));
            } catch (e) {
                if (!(e instanceof CfgSyntaxError)) throw e;
                throw new WarmrunError(`${where}: target "${platform}" is not a valid cfg expression (${e.message}); fix the [target] table there`);
            }
        } else parsed = t;
        platformCache.set(platform, parsed);
    }
    return typeof parsed === "string" ? parsed === cfg.triple : evalCfg(parsed, cfg);
}
