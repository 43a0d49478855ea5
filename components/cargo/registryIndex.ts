// Entries of a Cargo registry's sparse index for locked versions, fetched over HTTPS once and cached under
// the cache directory, so a warm key computation needs neither the network nor cargo.
//
// Each line of a crate's index file is one published version: name, vers, deps (with name, package for
// renames, req, features, optional, default_features, target, kind), features, features2, cksum, v.
// The entry of a locked version is cached on its own (`<name>@<version>.json`): published entries do not
// change. What the index does not say, whether a crate is a proc macro and whether it has a build
// script, comes from the crate's own manifest, read from the crate archive (a local Cargo cache first,
// else one download, checked against the lock's checksum) and cached the same way; it is asked only for
// crates that may be proc macros (those depending on proc-macro2, quote or syn).
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as tar from "tar-stream";
import { parse as parseToml } from "smol-toml";

/** The root of the default registry's sparse index. */
export const DEFAULT_SPARSE_INDEX = "https://index.crates.io/";
/** How Cargo.lock names the default registry. */
export const DEFAULT_REGISTRY_SOURCE = "registry+https://github.com/rust-lang/crates.io-index";

export interface IndexDep {
    name: string;
    req: string;
    features: string[];
    optional: boolean;
    default_features: boolean;
    target: string | null;
    kind: "normal" | "build" | "dev" | null;
    package?: string;
}

export interface IndexEntry {
    name: string;
    vers: string;
    deps: IndexDep[];
    features: Record<string, string[]>;
    features2?: Record<string, string[]>;
    cksum: string;
    links?: string | null;
    v?: number;
    yanked?: boolean;
}

export interface CrateFacts {
    procMacro: boolean;
    buildScript: boolean;
}

/** The path of a crate's file under a sparse index root (`se/rd/serde`, `3/s/syn`, `2/cc`). */
export function sparseIndexPath(name: string): string {
    const n = name.toLowerCase();
    if (n.length <= 2) return `${n.length}/${n}`;
    if (n.length === 3) return `3/${n[0]}/${n}`;
    return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

export type IndexLookup =
    | { ok: true; entry: IndexEntry }
    | { ok: false; reason: "unreachable"; detail: string }
    | { ok: false; reason: "no-crate" }
    | { ok: false; reason: "no-version"; versions: string[] };

export interface RegistryIndexOptions {
    /** Where entries are cached: `<cacheDir>/cargo-index/...`. */
    cacheDir: string;
    /** Never touch the network (a cold entry is then "unreachable"). */
    offline?: boolean;
    /** Cargo's home, whose registry caches are read before downloading a crate (default $CARGO_HOME or ~/.cargo). */
    cargoHome?: string;
    /** Per-request timeout. */
    timeoutMs?: number;
}

const MAX_PARALLEL = 16;

/** A small limiter, so a cold computation keeps a bounded number of requests in flight. */
class Limiter {
    private active = 0;
    private waiting: Array<() => void> = [];
    constructor(private readonly max: number) {}
    async run<T>(task: () => Promise<T>): Promise<T> {
        if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
        this.active++;
        try {
            return await task();
        } finally {
            this.active--;
            this.waiting.shift()?.();
        }
    }
}

function readText(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
}

function writeAtomic(file: string, text: string | Buffer): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
}

function parseLines(text: string): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        try {
            out.push(JSON.parse(line) as IndexEntry);
        } catch {
            // A damaged line: skipped, the version then counts as missing and is fetched again.
        }
    }
    return out;
}

/**
 * Where the entries of the index at `url` are cached under a cache directory: `<name>/<version>.json`
 * for an entry, `<name>/<version>.facts.json` for a crate's proc-macro and build-script facts.
 */
export function indexCacheDir(cacheDir: string, url: string): string {
    const key = crypto.createHash("sha256").update(url).digest("hex").slice(0, 12);
    const host = url.replace(/^[a-z]+:\/\//, "").replace(/[^A-Za-z0-9.-]+/g, "_").slice(0, 40);
    return path.join(cacheDir, "cargo-index", `${host}-${key}`);
}

/** One sparse index (one registry), with its cache. */
export class SparseIndex {
    private readonly dir: string;
    private readonly memo = new Map<string, Promise<IndexLookup>>();
    private readonly files = new Map<string, Promise<{ text?: string; status: number; error?: string }>>();
    private readonly factsMemo = new Map<string, Promise<CrateFacts | undefined>>();
    private readonly limiter = new Limiter(MAX_PARALLEL);
    private dlTemplate?: Promise<string | undefined>;
    /** How many HTTP requests this index made (for tests and benchmarks). */
    requests = 0;

    constructor(
        /** Root URL of the sparse index, ending in "/". */
        readonly url: string,
        private readonly opts: RegistryIndexOptions,
    ) {
        this.dir = indexCacheDir(opts.cacheDir, url);
    }

    private async fetchText(url: string): Promise<{ text?: string; status: number; error?: string }> {
        if (this.opts.offline) return { status: 0, error: "offline" };
        return this.limiter.run(async () => {
            this.requests++;
            try {
                const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30000), headers: { "user-agent": "warmrun" } });
                if (res.status === 404 || res.status === 410 || res.status === 451) return { status: res.status };
                if (!res.ok) return { status: res.status, error: `HTTP ${res.status}` };
                return { status: res.status, text: await res.text() };
            } catch (e) {
                const cause = (e as { cause?: { message?: string } }).cause?.message;
                return { status: 0, error: cause ?? (e as Error).message };
            }
        });
    }

    /** The whole index file of a crate, fetched once per run. */
    private crateFile(name: string): Promise<{ text?: string; status: number; error?: string }> {
        let p = this.files.get(name);
        if (!p) {
            p = this.fetchText(this.url + sparseIndexPath(name));
            this.files.set(name, p);
        }
        return p;
    }

    /** The entry of `name` at `version`: from the cache, else from the index (then cached). */
    entry(name: string, version: string): Promise<IndexLookup> {
        const key = `${name}@${version}`;
        let p = this.memo.get(key);
        if (!p) {
            p = this.lookup(name, version);
            this.memo.set(key, p);
        }
        return p;
    }

    private async lookup(name: string, version: string): Promise<IndexLookup> {
        const lower = name.toLowerCase();
        const one = path.join(this.dir, lower, `${version}.json`);
        const cached = readText(one);
        if (cached !== undefined) {
            try {
                return { ok: true, entry: JSON.parse(cached) as IndexEntry };
            } catch {
                // fall through and fetch again
            }
        }
        const res = await this.crateFile(lower);
        if (res.text === undefined) {
            if (res.status === 404 || res.status === 410 || res.status === 451) return { ok: false, reason: "no-crate" };
            return { ok: false, reason: "unreachable", detail: res.error ?? `HTTP ${res.status}` };
        }
        const entries = parseLines(res.text);
        const found = entries.find((e) => e.vers === version);
        if (!found) return { ok: false, reason: "no-version", versions: entries.map((e) => e.vers) };
        writeAtomic(one, JSON.stringify(found));
        return { ok: true, entry: found };
    }

    private downloadUrl(name: string, version: string): Promise<string | undefined> {
        if (!this.dlTemplate) {
            this.dlTemplate = this.fetchText(`${this.url}config.json`).then((r) => {
                if (r.text === undefined) return undefined;
                try {
                    return String((JSON.parse(r.text) as { dl?: string }).dl ?? "") || undefined;
                } catch {
                    return undefined;
                }
            });
        }
        return this.dlTemplate.then((dl) => {
            if (dl === undefined) return undefined;
            const lower = name.toLowerCase();
            const markers: Record<string, string> = {
                "{crate}": name,
                "{version}": version,
                "{prefix}": path.posix.dirname(sparseIndexPath(lower)),
                "{lowerprefix}": path.posix.dirname(sparseIndexPath(lower)),
                "{sha256-checksum}": "",
            };
            if (!/\{(crate|version|prefix|lowerprefix|sha256-checksum)\}/.test(dl)) return `${dl.replace(/\/+$/, "")}/${name}/${version}/download`;
            return dl.replace(/\{(crate|version|prefix|lowerprefix|sha256-checksum)\}/g, (m) => markers[m]);
        });
    }

    /**
     * Whether a crate is a proc macro and has a build script, from its manifest in the crate archive;
     * undefined when the archive cannot be had. `checksum` is the lock's (the archive must match it).
     */
    facts(name: string, version: string, checksum: string | undefined): Promise<CrateFacts | undefined> {
        const key = `${name}@${version}`;
        let p = this.factsMemo.get(key);
        if (!p) {
            p = this.readFacts(name, version, checksum);
            this.factsMemo.set(key, p);
        }
        return p;
    }

    private async readFacts(name: string, version: string, checksum: string | undefined): Promise<CrateFacts | undefined> {
        const file = path.join(this.dir, name.toLowerCase(), `${version}.facts.json`);
        const cached = readText(file);
        if (cached !== undefined) {
            try {
                return JSON.parse(cached) as CrateFacts;
            } catch {
                // fetch again
            }
        }
        const facts = (await this.factsFromCargoHome(name, version, checksum)) ?? (await this.factsFromDownload(name, version, checksum));
        if (facts) writeAtomic(file, JSON.stringify(facts));
        return facts;
    }

    private cargoHome(): string {
        return this.opts.cargoHome ?? process.env.CARGO_HOME ?? path.join(os.homedir(), ".cargo");
    }

    private async factsFromCargoHome(name: string, version: string, checksum: string | undefined): Promise<CrateFacts | undefined> {
        const registry = path.join(this.cargoHome(), "registry");
        let caches: string[] = [];
        try {
            caches = fs.readdirSync(path.join(registry, "cache"));
        } catch {
            return undefined;
        }
        for (const c of caches) {
            const archive = path.join(registry, "cache", c, `${name}-${version}.crate`);
            let data: Buffer;
            try {
                data = fs.readFileSync(archive);
            } catch {
                continue;
            }
            if (checksum && crypto.createHash("sha256").update(data).digest("hex") !== checksum) continue;
            const facts = await factsOfArchive(name, version, data);
            if (facts) return facts;
        }
        return undefined;
    }

    private async factsFromDownload(name: string, version: string, checksum: string | undefined): Promise<CrateFacts | undefined> {
        if (this.opts.offline) return undefined;
        const url = await this.downloadUrl(name, version);
        if (url === undefined) return undefined;
        const data = await this.limiter.run(async () => {
            this.requests++;
            try {
                const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30000), headers: { "user-agent": "warmrun" } });
                return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
            } catch {
                return undefined;
            }
        });
        if (data === undefined) return undefined;
        if (checksum && crypto.createHash("sha256").update(data).digest("hex") !== checksum) return undefined;
        return factsOfArchive(name, version, data);
    }
}

/** Proc-macro and build-script facts from a `.crate` archive (a gzipped tar of `<name>-<version>/...`). */
export async function factsOfArchive(name: string, version: string, data: Buffer): Promise<CrateFacts | undefined> {
    let raw: Buffer;
    try {
        raw = zlib.gunzipSync(data);
    } catch {
        return undefined;
    }
    const prefix = `${name}-${version}/`;
    let manifest: string | undefined;
    let hasBuildRs = false;
    await new Promise<void>((resolve, reject) => {
        const extract = tar.extract();
        extract.on("entry", (header, stream, next) => {
            const chunks: Buffer[] = [];
            stream.on("data", (c: unknown) => chunks.push(c as Buffer));
            stream.on("end", () => {
                if (header.name === `${prefix}Cargo.toml`) manifest = Buffer.concat(chunks).toString("utf8");
                if (header.name === `${prefix}build.rs`) hasBuildRs = true;
                next();
            });
            stream.resume();
        });
        extract.on("finish", resolve);
        extract.on("error", reject);
        extract.end(raw);
    }).catch(() => undefined);
    if (manifest === undefined) return undefined;
    let doc: Record<string, any>;
    try {
        doc = parseToml(manifest) as Record<string, any>;
    } catch {
        return undefined;
    }
    const lib = doc.lib ?? {};
    const pkg = doc.package ?? doc.project ?? {};
    const build = pkg.build;
    return {
        procMacro: lib["proc-macro"] === true || lib.proc_macro === true,
        buildScript: typeof build === "string" ? true : build === false ? false : build === true || hasBuildRs,
    };
}

/** Whether the facts of a registry crate are needed: only a crate using proc-macro2, quote or syn can be a proc macro. */
export function mayBeProcMacro(entry: IndexEntry): boolean {
    if (entry.name === "proc-macro2" || entry.name === "quote" || entry.name === "syn") return false;
    return entry.deps.some((d) => (d.kind ?? "normal") === "normal" && ["proc-macro2", "quote", "syn"].includes(d.package ?? d.name));
}
