// What a CargoDepsImage's cook step compiles for its target, as key material: the external compilation
// units (package, version, source, checksum, features, host or target), the toolchain, the cargo config
// keys and profiles that change compilation, `[patch]` and `[replace]`. Two workspaces that compile the
// same units with the same settings get the same material, however their manifests are written.
//
// External packages' own dependencies and features come from their registry index entries (see
// registryIndex.ts). When some cannot be had (offline, a git dependency, a vendored source), the
// material falls back to the whole masked lock and manifests of the recipe, which can only change more
// often than the units would, never less, and a warning says so.
import { WarmrunError } from "../core/errors";
import { sha256Hex } from "../core/keys";
import { KeyMemo, memoDigest } from "./keyMemo";
import { cargoRecipe } from "./recipe";
import { RecipeSource } from "./workspace";
import { DEFAULT_TARGET, TargetCfg, targetCfg } from "./cfg";
import { CargoConfig, configBuildTarget, ConfigKey, configKey, parseCargoConfig, sparseIndexUrl } from "./cargoConfig";
import { compiledUnits, DepKind, PackageGraph, resolveFeatures, Spec } from "./features";
import { byString, inRoot, isTable } from "./manifest";
import { LoadedWorkspace, loadWorkspace, parseTomlText } from "./members";
import { CrateFacts, IndexEntry, IndexLookup, mayBeProcMacro, RegistryIndexOptions, SparseIndex } from "./registryIndex";
import { parseToolchain, ToolchainKey } from "./toolchain";
import { buildGraph, checkDirectDependencies, ExternalData, lockId, LockedPackage, parseLock, ParsedLock, registryPackages } from "./unitGraph";

/** Bumped when the material's meaning changes. */
export const COMPILE_KEY_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Cargo arguments

export interface CargoArgs {
    packages: string[];
    workspace: boolean;
    exclude: string[];
    bins: string[];
    allBins: boolean;
    lib: boolean;
    /** Tests, examples or benches are built: dev-dependencies are compiled. */
    tests: boolean;
    features: string[];
    allFeatures: boolean;
    noDefaultFeatures: boolean;
    profile: string;
    target?: string;
    /** Arguments that do not change what is compiled (`--locked`, `-j 2`, `-v`...). */
    ignored: string[];
}

const VALUE_FLAGS = new Set(["-p", "--package", "--exclude", "--bin", "--example", "--test", "--bench", "-F", "--features", "--profile", "--target", "-j", "--jobs", "--manifest-path", "--target-dir", "--color", "--message-format", "--config", "-Z"]);

/** Parses `cargo build` arguments into what decides the compiled units. */
export function parseCargoArgs(args: string[]): CargoArgs {
    const out: CargoArgs = {
        packages: [], workspace: false, exclude: [], bins: [], allBins: false, lib: false, tests: false, features: [],
        allFeatures: false, noDefaultFeatures: false, profile: "dev", ignored: [],
    };
    for (let i = 0; i < args.length; i++) {
        let a = args[i];
        let v: string | undefined;
        const eq = a.indexOf("=");
        if (a.startsWith("--") && eq > 0) [a, v] = [a.slice(0, eq), a.slice(eq + 1)];
        else if (/^-[pFjZ].+/.test(a)) [a, v] = [a.slice(0, 2), a.slice(2)];
        if (VALUE_FLAGS.has(a) && v === undefined) v = args[++i];
        switch (a) {
            case "build":
            case "b":
                break;
            case "test":
            case "t":
            case "bench":
                out.tests = true;
                break;
            case "-p":
            case "--package":
                out.packages.push(...String(v).split(",").filter(Boolean));
                break;
            case "--workspace":
            case "--all":
                out.workspace = true;
                break;
            case "--exclude":
                out.exclude.push(String(v));
                break;
            case "--bin":
                out.bins.push(String(v));
                break;
            case "--bins":
                out.allBins = true;
                break;
            case "--lib":
                out.lib = true;
                break;
            case "--tests":
            case "--test":
            case "--benches":
            case "--bench":
            case "--examples":
            case "--example":
            case "--all-targets":
                out.tests = true;
                break;
            case "-F":
            case "--features":
                out.features.push(...String(v).split(/[\s,]+/).filter(Boolean));
                break;
            case "--all-features":
                out.allFeatures = true;
                break;
            case "--no-default-features":
                out.noDefaultFeatures = true;
                break;
            case "-r":
            case "--release":
                out.profile = "release";
                break;
            case "--profile":
                out.profile = String(v);
                break;
            case "--target":
                out.target = String(v);
                break;
            default:
                out.ignored.push(v === undefined ? args[i] : `${a}=${v}`);
        }
    }
    if (out.tests && out.profile === "dev") out.profile = "dev";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Units

export interface ExternalUnit {
    name: string;
    version: string;
    /** The lock's source, or `path+<dir>` for a path package outside the members (a [patch]). */
    source: string;
    checksum: string | null;
    features: string[];
    kind: DepKind;
    forHost: boolean;
}

export interface UnitsInput {
    workspace: LoadedWorkspace;
    lock: ParsedLock;
    external: ExternalData;
    target: string;
    /** The triple build scripts and proc macros run on (default: the target). */
    host?: string;
    args: CargoArgs;
    /** Rustflags for the target and the host (they add `--cfg` values and target features). */
    rustflags?: string[];
    hostRustflags?: string[];
    /** Keep only this package (or the package holding this binary) and its local closure, like the recipe's `bin`. */
    bin?: string;
    /** Where messages point for the target, e.g. `warmrun:artifacts.deps.targetTriple`. */
    targetField?: string;
    /** How messages name the cargo arguments, e.g. `warmrun:artifacts.deps.cargoArgs`. */
    argsField?: string;
}

export interface UnitsResult {
    resolver: 1 | 2;
    target: string;
    host: string;
    units: ExternalUnit[];
    /** Names of the selected members. */
    selected: string[];
}

function globRe(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

/** Member directories reachable by path dependencies from `start` (any kind). */
function localClosure(ws: LoadedWorkspace, start: string[]): Set<string> {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length) {
        const d = stack.pop() as string;
        if (seen.has(d)) continue;
        seen.add(d);
        for (const dep of ws.packages.get(d)?.deps ?? []) if (dep.localDir !== undefined) stack.push(dep.localDir);
    }
    return seen;
}

function selectMembers(ws: LoadedWorkspace, args: CargoArgs, bin: string | undefined, argsField: string): string[] {
    let universe = ws.members;
    if (bin !== undefined) {
        const named = ws.members.filter((d) => {
            const p = ws.packages.get(d);
            return p !== undefined && (p.name === bin || p.bins.includes(bin));
        });
        if (named.length === 0) {
            const choices = ws.members.flatMap((d) => [ws.packages.get(d)?.name ?? "", ...(ws.packages.get(d)?.bins ?? [])]);
            throw new WarmrunError(`no package or binary named "${bin}" in the workspace at ${ws.label}; choose one of: ${[...new Set(choices)].filter(Boolean).sort(byString).join(", ")}`);
        }
        const keep = localClosure(ws, [...named, ...(ws.rootPackage ? [""] : [])]);
        universe = ws.members.filter((d) => keep.has(d));
    }
    const name = (d: string): string => ws.packages.get(d)?.name ?? "";
    let selected: string[];
    if (args.workspace) selected = universe;
    else if (args.packages.length) {
        selected = [];
        for (const spec of args.packages) {
            const n = spec.replace(/@.*$/, "");
            const re = globRe(n);
            const hit = universe.filter((d) => re.test(name(d)));
            if (hit.length === 0) {
                throw new WarmrunError(`${argsField}: package "${spec}" is not a member of the workspace at ${ws.label}; choose one of: ${universe.map(name).sort(byString).join(", ")}`);
            }
            selected.push(...hit);
        }
    } else if (ws.defaultMembers && bin === undefined) selected = ws.defaultMembers.filter((d) => universe.includes(d));
    else if (ws.rootPackage) selected = [""];
    else selected = universe;
    const excluded = args.exclude.map(globRe);
    return [...new Set(selected)].filter((d) => !excluded.some((re) => re.test(name(d))));
}

/** Which of the command line's features a member gets (Cargo's rules for resolver 2; resolver 1: the root package gets the plain ones). */
function memberFeatures(ws: LoadedWorkspace, dir: string, requested: string[]): string[] {
    const pkg = ws.packages.get(dir);
    if (!pkg) return [];
    const optional = new Set(pkg.deps.filter((d) => d.optional).map((d) => d.name));
    const depNames = new Set(pkg.deps.map((d) => d.name));
    const hasFeature = (f: string): boolean => Object.prototype.hasOwnProperty.call(pkg.features, f) || optional.has(f);
    const out: string[] = [];
    for (const f of requested) {
        const slash = f.indexOf("/");
        if (slash < 0) {
            if (ws.resolver === 1 ? dir === "" || ws.members.length === 1 : hasFeature(f)) out.push(f);
            continue;
        }
        const dep = f.slice(0, slash).replace(/\?$/, "");
        const feat = f.slice(slash + 1);
        if (depNames.has(dep)) out.push(f);
        else if (dep === pkg.name && hasFeature(feat)) out.push(feat);
    }
    return out;
}

/** The external compilation units of a build: pure, from the workspace, the lock and the index data. */
export function compileUnits(input: UnitsInput): UnitsResult {
    const { workspace: ws, args } = input;
    const targetTriple = args.target ?? input.target;
    const hostTriple = input.host ?? targetTriple;
    const field = input.targetField ?? "target";
    const target: TargetCfg = targetCfg(targetTriple, input.rustflags ?? [], field);
    const host: TargetCfg = hostTriple === targetTriple && !input.hostRustflags ? target : targetCfg(hostTriple, input.hostRustflags ?? input.rustflags ?? [], field);
    const graph = buildGraph(ws, input.lock, input.external);
    const selected = selectMembers(ws, args, input.bin, input.argsField ?? "the cargo arguments");
    const idOfDir = new Map<string, string>();
    for (const node of graph.packages.values()) {
        if (!node.member) continue;
        for (const p of ws.packages.values()) if (p.member && p.name === node.name && (p.version === node.version || !idOfDir.has(p.dir))) idOfDir.set(p.dir, node.id);
    }
    const specs: Spec[] = selected.map((dir) => {
        const pkg = ws.packages.get(dir);
        const hasBin = args.bins.length === 0 || args.bins.some((b) => pkg?.bins.includes(b));
        const rootUnits = args.bins.length === 0 && !args.allBins ? true : hasBin && (args.allBins ? (pkg?.bins.length ?? 0) > 0 : true);
        return {
            id: idOfDir.get(dir) as string,
            features: memberFeatures(ws, dir, args.features),
            defaultFeatures: !args.noDefaultFeatures,
            allFeatures: args.allFeatures,
            rootUnits: rootUnits || args.lib,
            tests: args.tests,
        };
    });
    const opts = { resolver: ws.resolver, specs, target, host, devUnits: args.tests };
    const resolved = resolveFeatures(graph, opts, (pkg, dep) => {
        throw new WarmrunError(
            `${inRoot(ws.label, "Cargo.lock")} does not lock ${pkg.name}'s optional dependency ${dep.package} ${dep.req ?? ""}, which the selected features enable (${pkg.origin}); run \`cargo update -p ${dep.package}\` (or \`cargo generate-lockfile\`) and commit Cargo.lock`,
        );
    });
    const units: ExternalUnit[] = [];
    for (const u of compiledUnits(graph, opts, resolved)) {
        const node = graph.packages.get(u.id);
        if (!node || node.member) continue;
        const local = node.source === undefined ? [...ws.packages.values()].find((p) => p.name === node.name && p.version === node.version) : undefined; // path packages only: few
        units.push({
            name: node.name,
            version: node.version,
            source: node.source ?? `path+${local?.dir ?? node.name}`,
            checksum: node.checksum ?? null,
            features: u.features,
            kind: u.kind,
            forHost: u.forHost,
        });
    }
    units.sort((a, b) => byString(a.name, b.name) || byString(a.version, b.version) || byString(a.source, b.source) || Number(a.forHost) - Number(b.forHost));
    return { resolver: ws.resolver, target: targetTriple, host: hostTriple, units, selected: selected.map((d) => ws.packages.get(d)?.name ?? d).sort(byString) };
}

// ---------------------------------------------------------------------------------------------
// Index data

/** Where index entries and crate facts come from (a SparseIndex per registry, or a test's own). */
export interface IndexProvider {
    entry(pkg: LockedPackage): Promise<IndexLookup | undefined>;
    /** Proc-macro and build-script facts; without `force`, only for crates that may be proc macros (others: a library with a build script). */
    facts(pkg: LockedPackage, entry: IndexEntry, force?: boolean): Promise<CrateFacts | undefined>;
}

/**
 * Sparse indexes per registry, honouring the workspace's source replacement. `indexes` (by URL) may be
 * shared between computations, e.g. a replay's commits, so each entry is read once.
 */
export function sparseIndexProvider(
    config: CargoConfig,
    opts: RegistryIndexOptions,
    indexes: Map<string, SparseIndex> = new Map(),
): IndexProvider & { indexes: Map<string, SparseIndex> } {
    const indexOf = (source: string): SparseIndex | undefined => {
        const url = sparseIndexUrl(source, config);
        if (url === undefined) return undefined;
        let idx = indexes.get(url);
        if (!idx) indexes.set(url, (idx = new SparseIndex(url, opts)));
        return idx;
    };
    return {
        indexes,
        entry: async (pkg) => {
            const idx = pkg.source ? indexOf(pkg.source) : undefined;
            return idx ? idx.entry(pkg.name, pkg.version) : undefined;
        },
        facts: async (pkg, entry, force) => {
            if (!force && !mayBeProcMacro(entry)) return { procMacro: false, buildScript: true };
            const idx = pkg.source ? indexOf(pkg.source) : undefined;
            return idx ? idx.facts(pkg.name, pkg.version, pkg.checksum) : undefined;
        },
    };
}

/** Fetches what the graph needs; a reason string when something cannot be had (the caller falls back). */
export async function externalData(label: string, lock: ParsedLock, provider: IndexProvider): Promise<ExternalData | string> {
    const entries = new Map<string, IndexEntry>();
    const facts = new Map<string, CrateFacts>();
    const registry = registryPackages(lock);
    const inRegistry = new Set(registry);
    const others = lock.packages.filter((p) => p.source !== undefined && !inRegistry.has(p));
    if (others.length) return `${others[0].name} ${others[0].version} comes from ${others[0].source}, which has no registry index`;
    const problems: string[] = [];
    await Promise.all(
        registry.map(async (p) => {
            const found = await provider.entry(p);
            if (found === undefined) {
                problems.push(`${p.name} ${p.version} comes from ${p.source}, which has no sparse index warmrun can read`);
                return;
            }
            if (!found.ok) {
                if (found.reason === "unreachable") {
                    problems.push(`the index entry of ${p.name} ${p.version} could not be fetched (${found.detail})`);
                    return;
                }
                const what = found.reason === "no-crate" ? `the crate ${p.name}, which the registry does not have` : `${p.name} ${p.version}, a version the registry's index does not have`;
                throw new WarmrunError(`${inRoot(label, "Cargo.lock")} locks ${what}; run \`cargo update -p ${p.name}\` and commit Cargo.lock`);
            }
            if (p.checksum && found.entry.cksum !== p.checksum) {
                throw new WarmrunError(
                    `${inRoot(label, "Cargo.lock")}: the checksum of ${p.name} ${p.version} differs from the registry index's; run \`cargo update -p ${p.name}\` (or \`cargo generate-lockfile\`) and commit Cargo.lock`,
                );
            }
            entries.set(lockId(p), found.entry);
            if (!mayBeProcMacro(found.entry)) return;
            const f = await provider.facts(p, found.entry);
            if (f === undefined) problems.push(`the crate ${p.name} ${p.version} could not be read to tell whether it is a proc macro`);
            else facts.set(lockId(p), f);
        }),
    );
    if (problems.length) return problems.sort(byString)[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : "");
    return { entries, facts };
}

// ---------------------------------------------------------------------------------------------
// Key material

export interface CompileKeyOptions {
    /** The triple the cook step builds for (default x86_64-unknown-linux-gnu); `--target` in the args or the config's build.target win. */
    target?: string;
    /** The build machine's triple (default: the target). */
    host?: string;
    cargoArgs?: string[];
    bin?: string;
    /** For the index cache (`<cacheDir>/cargo-index`). */
    cacheDir: string;
    offline?: boolean;
    /** Index data from elsewhere (tests); default: the sparse indexes of the lock's sources. */
    index?: IndexProvider;
    /** Sparse indexes by URL, shared with other computations (see sparseIndexProvider). */
    indexes?: Map<string, SparseIndex>;
    /** How messages name the target setting. */
    targetField?: string;
    /** How messages name the cargo arguments. */
    argsField?: string;
    /**
     * Keep complete results here (keyMemo.ts: diskMemo, memoryMemo) and answer an unchanged workspace
     * from it; used only with a source that gives content digests, and the default index.
     */
    memo?: KeyMemo<CompileKeyResult>;
}

export interface CompileKeyMaterial {
    version: number;
    target: string;
    host: string;
    resolver: 1 | 2 | null;
    args: { profile: string; tests: boolean; ignored: string[] };
    /** The compiled external units; null in the fallback. */
    units: Array<Omit<ExternalUnit, "kind">> | null;
    /** When the units could not be computed: digests of the recipe's masked lock and manifests. */
    fallback: { reason: string; files: Record<string, string> } | null;
    toolchain: ToolchainKey | null;
    config: ConfigKey;
    profiles: Record<string, unknown>;
    patch: unknown;
    replace: unknown;
}

export interface CompileKeyResult {
    material: CompileKeyMaterial;
    /** The units with how each is reached (for reports); empty in the fallback. */
    units: ExternalUnit[];
    warnings: string[];
}

function sortedJson(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortedJson);
    if (!isTable(value)) return value instanceof Date ? value.toISOString() : value;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(byString)) out[k] = sortedJson(value[k]);
    return out;
}

const BUILTIN_INHERITS: Record<string, string> = { test: "dev", bench: "release", doc: "dev" };

/** The profiles a build uses (the selected one and what it inherits; test/bench too when tests are built), manifest then config. */
export function profilesKey(rootDoc: Record<string, unknown>, config: CargoConfig, profile: string, tests: boolean): Record<string, unknown> {
    const fromManifest = isTable(rootDoc.profile) ? rootDoc.profile : {};
    const fromConfig = isTable(config.doc.profile) ? config.doc.profile : {};
    const merge = (a: unknown, b: unknown): unknown => {
        if (!isTable(a) || !isTable(b)) return b === undefined ? a : b;
        const out: Record<string, unknown> = { ...a };
        for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
        return out;
    };
    const out: Record<string, unknown> = {};
    const add = (name: string): void => {
        for (let n: string | undefined = name, guard = 0; n !== undefined && !(n in out) && guard < 16; guard++) {
            const t = merge(fromManifest[n], fromConfig[n]);
            out[n] = sortedJson(t ?? null);
            const inherits: string | undefined = isTable(t) && typeof t.inherits === "string" ? t.inherits : BUILTIN_INHERITS[n];
            n = n === "dev" || n === "release" ? undefined : inherits;
        }
    };
    add(profile);
    if (tests) add(profile === "release" || profile === "bench" ? "bench" : "test");
    return out;
}

async function readWorkspaceExtras(source: RecipeSource, label: string): Promise<{ config: CargoConfig; toolchainTexts: { legacy?: string; toml?: string } }> {
    const [plain, toml, legacy, tc] = await Promise.all(
        [".cargo/config", ".cargo/config.toml", "rust-toolchain", "rust-toolchain.toml"].map((p) => source.read(p)),
    );
    return { config: parseCargoConfig({ plain, toml }, label), toolchainTexts: { legacy, toml: tc } };
}

/**
 * The key material of what the cook step compiles: units when every locked registry crate's index entry
 * can be had (cached under `cacheDir`, else fetched), otherwise the conservative fallback with a warning.
 */
export async function cargoCompileKeyMaterial(source: RecipeSource, opts: CompileKeyOptions): Promise<CompileKeyResult> {
    const memoOptions = { target: opts.target ?? null, host: opts.host ?? null, cargoArgs: opts.cargoArgs ?? [], bin: opts.bin ?? null };
    const memo = opts.index === undefined ? opts.memo : undefined;
    const digest = memo ? await memoDigest(source, memoOptions) : undefined;
    if (memo && digest !== undefined) {
        const known = memo.get(digest);
        if (known) return known;
    }
    const result = await computeCompileKey(source, opts);
    // The fallback is never kept: the index may be reachable next time.
    if (memo && digest !== undefined && result.material.fallback === null && result.warnings.length === 0) memo.set(digest, result);
    return result;
}

async function computeCompileKey(source: RecipeSource, opts: CompileKeyOptions): Promise<CompileKeyResult> {
    const label = source.label ?? ".";
    const args = parseCargoArgs(opts.cargoArgs ?? []);
    const [ws, lockText] = await Promise.all([loadWorkspace(source), source.read("Cargo.lock")]);
    if (lockText === undefined) throw new WarmrunError(`${inRoot(label, "Cargo.lock")} is missing: run \`cargo generate-lockfile\` and commit it`);
    const lock = parseLock(parseTomlText(lockText, inRoot(label, "Cargo.lock")));
    const requested = opts.target ?? DEFAULT_TARGET;
    const { config, toolchainTexts } = await readWorkspaceExtras(source, label);
    const fromConfig = args.target === undefined ? configBuildTarget(config, label) : undefined;
    const target = args.target ?? fromConfig ?? requested;
    const host = opts.host ?? target;
    // Where the triple was set, for the message on an unknown one.
    const targetField =
        args.target !== undefined ? `${opts.argsField ?? "the cargo arguments"} (--target)` : fromConfig !== undefined ? `${inRoot(label, config.file as string)} build.target` : (opts.targetField ?? "target");
    const baseCfg = targetCfg(target, [], targetField);
    const cfgKey = configKey(config, baseCfg);
    const hostFlags = configKey(config, targetCfg(host, [], targetField)).rustflags;
    const toolchain = parseToolchain(toolchainTexts, target, label);
    const rootPatch = sortedJson(ws.rootDoc.patch ?? null);
    const replace = sortedJson(ws.rootDoc.replace ?? null);
    const common = {
        version: COMPILE_KEY_VERSION,
        target,
        host,
        args: { profile: args.profile, tests: args.tests, ignored: [...args.ignored].sort(byString) },
        toolchain,
        config: cfgKey,
        profiles: profilesKey(ws.rootDoc, config, args.profile, args.tests),
        patch: rootPatch,
        replace,
    };
    const provider = opts.index ?? sparseIndexProvider(config, { cacheDir: opts.cacheDir, offline: opts.offline }, opts.indexes);
    const data = await externalData(label, lock, provider);
    if (typeof data === "string") {
        checkDirectDependencies(label, ws, lock);
        const recipe = await cargoRecipe(source, { bin: opts.bin });
        const files: Record<string, string> = {};
        for (const [p, text] of Object.entries(recipe.files)) if (p.endsWith("Cargo.toml") || p === "Cargo.lock") files[p] = sha256Hex(text);
        return {
            material: { ...common, resolver: null, units: null, fallback: { reason: data, files } },
            units: [],
            warnings: [
                `${label}: ${data}; the key falls back to the whole Cargo.lock and manifests, so it may change when the compiled crates do not (it never misses a change); run with the index reachable once to key the compiled crates`,
            ],
        };
    }
    const input: UnitsInput = {
        workspace: ws, lock, external: data, target, host, args: { ...args, target }, rustflags: cfgKey.rustflags,
        hostRustflags: host === target ? undefined : hostFlags, bin: opts.bin, targetField, argsField: opts.argsField,
    };
    let result = compileUnits(input);
    // A proc macro without dependencies changes only its own unit (host, all requests unified), so its
    // crate is read only once it is known to be compiled.
    const warnings: string[] = [];
    const leaves = lock.packages.filter((p) => {
        const e = data.entries.get(lockId(p));
        return e !== undefined && !data.facts.has(lockId(p)) && !e.deps.some((d) => d.kind !== "dev") && result.units.some((u) => u.name === p.name && u.version === p.version);
    });
    let relabelled = false;
    await Promise.all(
        leaves.map(async (p) => {
            const f = await provider.facts(p, data.entries.get(lockId(p)) as IndexEntry, true);
            if (f === undefined) warnings.push(`${label}: the crate ${p.name} ${p.version} could not be read to tell whether it is a proc macro; it is keyed as a library`);
            else {
                data.facts.set(lockId(p), f);
                relabelled ||= f.procMacro;
            }
        }),
    );
    if (relabelled) result = compileUnits(input);
    const units = result.units.map(({ kind: _kind, ...u }) => u);
    return { material: { ...common, resolver: result.resolver, units, fallback: null }, units: result.units, warnings: warnings.sort(byString) };
}
