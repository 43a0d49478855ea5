// .cargo/config(.toml): the keys that change what a build compiles for its target, parsed and made
// canonical, so comments, layout and settings of other targets never count; and where registry crates
// come from (source replacement), which decides the index their entries are read from.
import { WarmrunError } from "../core/errors";
import { platformMatches, TargetCfg } from "./cfg";
import { isTable, Table } from "./manifest";
import { parseTomlText } from "./members";
import { DEFAULT_REGISTRY_SOURCE, DEFAULT_SPARSE_INDEX } from "./registryIndex";

export interface CargoConfig {
    /** `.cargo/config.toml` or `.cargo/config`, or null without one. */
    file: string | null;
    doc: Table;
}

/** Like Cargo, `.cargo/config` wins when both files exist. */
export function parseCargoConfig(files: { plain?: string; toml?: string }, label = "."): CargoConfig {
    const [file, text] = files.plain !== undefined ? [".cargo/config", files.plain] : files.toml !== undefined ? [".cargo/config.toml", files.toml] : [null, undefined];
    if (file === null || text === undefined) return { file: null, doc: {} };
    return { file, doc: parseTomlText(text, `${label.replace(/\/+$/, "")}/${file}`) };
}

function sorted(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sorted);
    if (!isTable(value)) return value instanceof Date ? value.toISOString() : value;
    const out: Table = {};
    for (const k of Object.keys(value).sort()) out[k] = sorted(value[k]);
    return out;
}

function flagList(value: unknown): string[] | undefined {
    if (typeof value === "string") return value.split(/\s+/).filter(Boolean);
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
    return undefined;
}

/** `build.target` of the config: a triple, or undefined. More than one target is an error naming the key. */
export function configBuildTarget(config: CargoConfig, label = "."): string | undefined {
    const build = isTable(config.doc.build) ? config.doc.build : {};
    const t = build.target;
    if (typeof t === "string") return t;
    if (Array.isArray(t)) {
        if (t.length === 1 && typeof t[0] === "string") return t[0];
        if (t.length > 1) {
            throw new WarmrunError(`${label.replace(/\/+$/, "")}/${config.file}: build.target lists ${t.length} targets; a CargoDepsImage builds one: keep one there`);
        }
    }
    return undefined;
}

/**
 * The rustflags Cargo passes when compiling for `cfg.triple`: every matching `target.<triple>.rustflags`
 * and `target.'cfg(..)'.rustflags` joined, else `build.rustflags`.
 */
export function targetRustflags(config: CargoConfig, cfg: TargetCfg): string[] {
    const target = isTable(config.doc.target) ? config.doc.target : {};
    const found: string[] = [];
    let any = false;
    const triple = target[cfg.triple];
    if (isTable(triple)) {
        const f = flagList(triple.rustflags);
        if (f) {
            any = true;
            found.push(...f);
        }
    }
    for (const [spec, t] of Object.entries(target).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (!spec.startsWith("cfg(") || !isTable(t)) continue;
        const f = flagList(t.rustflags);
        if (f && platformMatches(spec, cfg, config.file ?? ".cargo/config.toml")) {
            any = true;
            found.push(...f);
        }
    }
    if (any) return found;
    const build = isTable(config.doc.build) ? config.doc.build : {};
    return flagList(build.rustflags) ?? [];
}

export interface ConfigKey {
    rustflags: string[];
    linker: string | null;
    env: unknown;
    patch: unknown;
    source: unknown;
    unstable: unknown;
}

/** The config keys that change compilation for the target, canonical. */
export function configKey(config: CargoConfig, cfg: TargetCfg): ConfigKey {
    const doc = config.doc;
    const target = isTable(doc.target) ? doc.target : {};
    const triple = isTable(target[cfg.triple]) ? (target[cfg.triple] as Table) : {};
    return {
        rustflags: targetRustflags(config, cfg),
        linker: typeof triple.linker === "string" ? triple.linker : null,
        env: sorted(doc.env ?? null),
        patch: sorted(doc.patch ?? null),
        source: sorted(doc.source ?? null),
        unstable: sorted(doc.unstable ?? null),
    };
}

/**
 * The sparse index URL of a lock source, after source replacement (`[source.<name>] replace-with`,
 * `registry = "sparse+..."`) and `[registries.<name>] index`; undefined when the crates come from a place
 * without a sparse index (a git index, a local registry, a vendored directory, git).
 */
export function sparseIndexUrl(lockSource: string, config: CargoConfig): string | undefined {
    const sources = isTable(config.doc.source) ? config.doc.source : {};
    const registries = isTable(config.doc.registries) ? config.doc.registries : {};
    const urlOf = (name: string): string | undefined => {
        if (name === "crates-io") return DEFAULT_REGISTRY_SOURCE;
        const s = sources[name];
        if (isTable(s) && typeof s.registry === "string") return s.registry.startsWith("sparse+") ? s.registry : `registry+${s.registry}`;
        const r = registries[name];
        if (isTable(r) && typeof r.index === "string") return r.index.startsWith("sparse+") ? r.index : `registry+${r.index}`;
        return undefined;
    };
    // Which named source is this lock source?
    const same = (a: string, b: string): boolean => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
    let name: string | undefined;
    if (same(lockSource, DEFAULT_REGISTRY_SOURCE)) name = "crates-io";
    else for (const n of [...Object.keys(sources), ...Object.keys(registries)]) if (urlOf(n) !== undefined && same(urlOf(n) as string, lockSource)) name = n;
    let url = lockSource;
    const seen = new Set<string>();
    while (name !== undefined && !seen.has(name)) {
        seen.add(name);
        const s = sources[name];
        if (isTable(s) && typeof s["replace-with"] === "string") {
            const next = s["replace-with"];
            const t = sources[next];
            if (isTable(t) && (t.directory !== undefined || t["local-registry"] !== undefined || t.git !== undefined)) return undefined;
            const u = urlOf(next);
            if (u === undefined) return undefined;
            url = u;
            name = next;
            continue;
        }
        break;
    }
    if (same(url, DEFAULT_REGISTRY_SOURCE)) return DEFAULT_SPARSE_INDEX;
    if (url.startsWith("sparse+")) return url.slice("sparse+".length).replace(/\/*$/, "/");
    return undefined;
}
