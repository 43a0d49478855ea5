// Hand-made registry index entries and the locks that pin them, for unit tests of the feature
// resolver and the compile key (no network, no cargo).
import * as fs from "fs";
import * as path from "path";
import { RecipeSource } from "../../components/cargo/workspace";
import { DEFAULT_REGISTRY_SOURCE, IndexDep, IndexEntry, IndexLookup, indexCacheDir } from "../../components/cargo/registryIndex";
import { cargoCompileKeyMaterial, CompileKeyResult, IndexProvider } from "../../components/cargo/units";
import { tempDir } from "./tmp";

const SRC = DEFAULT_REGISTRY_SOURCE;

export function memSource(files: Record<string, string>): RecipeSource {
    return { label: "ws", list: async () => Object.keys(files).sort(), read: async (p) => files[p] };
}

export function dep(name: string, extra: Partial<IndexDep> = {}): IndexDep {
    return { name, req: "^1", features: [], optional: false, default_features: true, target: null, kind: "normal", ...extra };
}

export function entry(name: string, deps: IndexDep[] = [], features: Record<string, string[]> = {}, vers = "1.0.0"): IndexEntry {
    return { name, vers, deps, features, cksum: `ck-${name}-${vers}`, v: 2 };
}

/** An index of entries, and a lock locking every entry plus the members with their dependencies. */
export class World {
    entries = new Map<string, IndexEntry>();
    procMacros = new Set<string>();
    fetched = 0;
    constructor(list: IndexEntry[]) {
        for (const e of list) this.entries.set(`${e.name}@${e.vers}`, e);
    }
    provider(unreachable = false): IndexProvider {
        return {
            entry: async (p): Promise<IndexLookup> => {
                this.fetched++;
                if (unreachable) return { ok: false, reason: "unreachable", detail: "connect ECONNREFUSED" };
                const e = this.entries.get(`${p.name}@${p.version}`);
                return e ? { ok: true, entry: e } : { ok: false, reason: "no-version", versions: [] };
            },
            facts: async (p) => ({ procMacro: this.procMacros.has(p.name), buildScript: true }),
        };
    }
    /** Cargo.lock: members (name -> dependency names) and every entry, each entry's dependencies locked. */
    lock(members: Record<string, string[]>, overrides: Record<string, string> = {}): string {
        const lines: string[] = ["version = 4", ""];
        for (const [m, deps] of Object.entries(members)) {
            lines.push("[[package]]", `name = "${m}"`, `version = "0.1.0"`);
            if (deps.length) lines.push(`dependencies = [${deps.map((d) => `"${d}"`).join(", ")}]`);
            lines.push("");
        }
        for (const e of this.entries.values()) {
            const deps = e.deps.filter((d) => d.kind !== "dev").map((d) => d.package ?? d.name).filter((n) => [...this.entries.values()].some((x) => x.name === n));
            lines.push("[[package]]", `name = "${e.name}"`, `version = "${e.vers}"`, `source = "${SRC}"`, `checksum = "${overrides[e.name] ?? e.cksum}"`);
            if (deps.length) lines.push(`dependencies = [${[...new Set(deps)].map((d) => `"${d}"`).join(", ")}]`);
            lines.push("");
        }
        return lines.join("\n");
    }
}

export const member = (name: string, body: string, edition = "2021"): string => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "${edition}"\n\n${body}\n`;

export async function units(world: World, files: Record<string, string>, opts: { args?: string[]; target?: string } = {}): Promise<CompileKeyResult> {
    return cargoCompileKeyMaterial(memSource(files), { cacheDir: "/nonexistent", index: world.provider(), cargoArgs: opts.args, target: opts.target });
}

export function summary(r: CompileKeyResult): string[] {
    return r.units.map((u) => `${u.name}${u.forHost ? " (host)" : ""} [${u.features.join(",")}] ${u.kind}`);
}

/**
 * Writes index entries (and, for each, facts saying it is a library with a build script) where a
 * SparseIndex of `url` under `cacheDir` reads them, so a computation needs no network.
 */
export function writeIndexCache(cacheDir: string, url: string, entries: IndexEntry[]): void {
    const dir = indexCacheDir(cacheDir, url);
    for (const e of entries) {
        fs.mkdirSync(path.join(dir, e.name), { recursive: true });
        fs.writeFileSync(path.join(dir, e.name, `${e.vers}.json`), JSON.stringify(e));
        fs.writeFileSync(path.join(dir, e.name, `${e.vers}.facts.json`), JSON.stringify({ procMacro: false, buildScript: true }));
    }
}

/** A cache directory holding the index entries of examples/rust-workspace's locked crates (test/fixtures/cargo-index). */
export function exampleIndexCache(): string {
    const dir = tempDir("warmrun-cargo-cache-");
    fs.cpSync(path.join(__dirname, "..", "fixtures", "cargo-index"), path.join(dir, "cargo-index"), { recursive: true });
    return dir;
}
