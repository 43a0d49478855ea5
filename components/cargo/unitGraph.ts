// The package graph Cargo.lock pins: each locked package with its declared dependencies (from a local
// manifest or from its registry index entry), each declaration bound to the locked package it resolves
// to. A lock that does not fit the manifests, or an index entry that does not fit the lock, is one clear
// error naming Cargo.lock and the command that fixes it.
import { WarmrunError } from "../core/errors";
import { CrateFacts, IndexEntry } from "./registryIndex";
import { DepDecl, Edge, PackageGraph, PackageNode } from "./features";
import { inRoot, isTable } from "./manifest";
import { LoadedWorkspace, LocalPackage } from "./members";
import { compareVersions, parseVersion, satisfies } from "./versionReq";

export interface LockedPackage {
    name: string;
    version: string;
    source?: string;
    checksum?: string;
    /** Raw `dependencies` references: `name`, `name version` or `name version (source)`. */
    dependencies: string[];
}

export interface ParsedLock {
    packages: LockedPackage[];
}

const parsedLocks = new WeakMap<Record<string, unknown>, ParsedLock>();

/** The lock's packages (memoized per parsed document, which parseTomlText shares for equal texts). */
export function parseLock(doc: Record<string, unknown>): ParsedLock {
    const cached = parsedLocks.get(doc);
    if (cached) return cached;
    const parsed = parseLockUncached(doc);
    parsedLocks.set(doc, parsed);
    return parsed;
}

function parseLockUncached(doc: Record<string, unknown>): ParsedLock {
    const metadata = isTable(doc.metadata) ? doc.metadata : {};
    const packages: LockedPackage[] = [];
    for (const p of Array.isArray(doc.package) ? doc.package.filter(isTable) : []) {
        const name = String(p.name);
        const version = String(p.version);
        const source = typeof p.source === "string" ? p.source : undefined;
        // Lock format 1 keeps checksums in [metadata].
        const checksum =
            typeof p.checksum === "string"
                ? p.checksum
                : source !== undefined
                  ? (metadata[`checksum ${name} ${version} (${source})`] as string | undefined)
                  : undefined;
        const dependencies = Array.isArray(p.dependencies) ? p.dependencies.filter((d): d is string => typeof d === "string") : [];
        packages.push({ name, version, source, checksum, dependencies });
    }
    return { packages };
}

export function lockId(p: { name: string; version: string; source?: string }): string {
    return `${p.name} ${p.version} ${p.source ?? "path"}`;
}

function parseRef(ref: string): { name: string; version?: string; source?: string } {
    const m = /^(\S+)(?: (\S+))?(?: \((.+)\))?$/.exec(ref.trim());
    return m ? { name: m[1], version: m[2], source: m[3] } : { name: ref };
}

const entryDecls = new WeakMap<IndexEntry, { features: Record<string, string[]>; deps: DepDecl[] }>();

/** An index entry's features (features2 merged) and non-dev dependencies, computed once per entry object. */
function declsOfEntry(entry: IndexEntry): { features: Record<string, string[]>; deps: DepDecl[] } {
    let d = entryDecls.get(entry);
    if (!d) {
        d = {
            features: { ...entry.features, ...(entry.features2 ?? {}) },
            deps: entry.deps
                .filter((x) => (x.kind ?? "normal") !== "dev")
                .map((x) => ({
                    name: x.name,
                    package: x.package ?? x.name,
                    req: x.req,
                    kind: (x.kind ?? "normal") as DepDecl["kind"],
                    optional: x.optional,
                    defaultFeatures: x.default_features,
                    features: x.features ?? [],
                    target: x.target ?? null,
                })),
        };
        entryDecls.set(entry, d);
    }
    return d;
}

/** What the graph needs from outside the workspace: index entries and crate facts, by lock id. */
export interface ExternalData {
    entries: Map<string, IndexEntry>;
    facts: Map<string, CrateFacts>;
}

function lockError(label: string, what: string, fix: string): WarmrunError {
    return new WarmrunError(`${inRoot(label, "Cargo.lock")} ${what}; ${fix}`);
}

/**
 * What the key's fallback (no index entries) can still check of a lock: every local package's
 * dependency on a crate that is not a path (normal and build, not optional) is locked at a version
 * its requirement accepts, as `cargo build --locked` wants. With index entries, buildGraph checks
 * the whole graph. Dev and optional dependencies are left to cargo (no false alarm).
 */
export function checkDirectDependencies(label: string, ws: LoadedWorkspace, lock: ParsedLock): void {
    const byName = new Map<string, LockedPackage[]>();
    for (const p of lock.packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
    for (const pkg of ws.packages.values()) {
        for (const d of pkg.deps) {
            if (d.kind === "dev" || d.optional || d.localDir !== undefined) continue;
            const held = byName.get(d.package) ?? [];
            if (held.some((p) => d.git !== undefined || d.req === undefined || satisfies(p.version, d.req) || (p.source?.startsWith("git+") ?? false))) continue;
            throw lockError(
                label,
                `has no locked package satisfying ${pkg.name}'s dependency ${d.package} ${d.req ?? ""}`.trimEnd() + ` (${pkg.manifestPath})`,
                `run \`cargo update -p ${d.package}\` (or \`cargo generate-lockfile\`) and commit Cargo.lock`,
            );
        }
    }
}

/** What a lock gives the graph, computed once per parsed lock: packages by name and id, and each package's resolved references. */
interface LockIndex {
    byName: Map<string, LockedPackage[]>;
    byId: Map<string, LockedPackage>;
    /** A package's `dependencies` resolved to locked packages; undefined for a reference the lock does not hold. */
    references: Map<string, Array<LockedPackage | undefined>>;
    /** Per package id, the ids its references resolve to (a key of edges that depend on nothing else). */
    referenceKeys: Map<string, string>;
}

const lockIndexes = new WeakMap<ParsedLock, LockIndex>();

function lockIndexOf(lock: ParsedLock): LockIndex {
    let index = lockIndexes.get(lock);
    if (index) return index;
    const byName = new Map<string, LockedPackage[]>();
    const byId = new Map<string, LockedPackage>();
    for (const p of lock.packages) {
        const same = byName.get(p.name);
        if (same) same.push(p);
        else byName.set(p.name, [p]);
        byId.set(lockId(p), p);
    }
    const resolveRef = (ref: string): LockedPackage | undefined => {
        const r = parseRef(ref);
        const c = (byName.get(r.name) ?? []).filter((p) => (r.version === undefined || p.version === r.version) && (r.source === undefined || p.source === r.source));
        return c.length === 1 ? c[0] : c.find((p) => p.source === undefined) ?? c[0];
    };
    const references = new Map<string, Array<LockedPackage | undefined>>();
    const referenceKeys = new Map<string, string>();
    for (const [id, p] of byId) {
        const resolved = p.dependencies.map(resolveRef);
        references.set(id, resolved);
        referenceKeys.set(id, `${id}\0${resolved.map((r) => (r ? lockId(r) : "?")).join("\0")}`);
    }
    index = { byName, byId, references, referenceKeys };
    lockIndexes.set(lock, index);
    return index;
}

/** Nodes of registry packages, by index entry and what else they hold: the same for every graph of a process. */
const externalNodes = new WeakMap<IndexEntry, Map<string, PackageNode>>();
/** Edges of registry packages, by entry and referenceKeys: they depend only on the entry's declarations and the locked references. */
const externalEdges = new WeakMap<IndexEntry, Map<string, Edge[]>>();

/**
 * Builds the graph of every locked package reachable from the workspace members. `external` must hold
 * the index entry of every registry package reached (callers fetch them for `registryPackages(lock)`).
 */
export function buildGraph(ws: LoadedWorkspace, lock: ParsedLock, external: ExternalData): PackageGraph {
    const label = ws.label;
    const index = lockIndexOf(lock);
    const byName = index.byName;
    const localByName = new Map<string, LocalPackage[]>();
    for (const l of ws.packages.values()) localByName.set(l.name, [...(localByName.get(l.name) ?? []), l]);

    const localOf = (p: LockedPackage): LocalPackage | undefined => {
        if (p.source !== undefined) return undefined;
        const c = localByName.get(p.name) ?? [];
        return c.find((l) => l.version === p.version) ?? (c.length === 1 ? c[0] : undefined);
    };

    const packages = new Map<string, PackageNode>();
    const edges = new Map<string, Edge[]>();
    const nodeOf = (p: LockedPackage): PackageNode => {
        const id = lockId(p);
        const existing = packages.get(id);
        if (existing) return existing;
        const local = localOf(p);
        let node: PackageNode;
        if (local) {
            node = {
                id, name: p.name, version: p.version, features: local.features, deps: local.deps, procMacro: local.procMacro,
                hasBuildScript: local.hasBuildScript, hasLib: local.hasLib || local.procMacro, member: local.member, origin: inRoot(label, local.manifestPath),
            };
        } else if (p.source === undefined) {
            throw lockError(label, `locks the path package ${p.name} ${p.version}, but no Cargo.toml of the workspace declares it`, "run `cargo generate-lockfile` and commit Cargo.lock");
        } else {
            const entry = external.entries.get(id);
            if (!entry) throw new Error(`internal: no index entry for ${id}`);
            const facts = external.facts.get(id);
            const variant = `${p.checksum ?? ""} ${facts?.procMacro ?? false} ${facts?.buildScript ?? true}`;
            let byVariant = externalNodes.get(entry);
            if (!byVariant) externalNodes.set(entry, (byVariant = new Map()));
            const known = byVariant.get(variant);
            if (known) node = known;
            else {
                const { features, deps } = declsOfEntry(entry);
                node = {
                    id, name: p.name, version: p.version, source: p.source, checksum: p.checksum, features, deps,
                    procMacro: facts?.procMacro ?? false,
                    hasBuildScript: facts?.buildScript ?? true,
                    hasLib: true,
                    member: false,
                    origin: `the index entry of ${p.name} ${p.version}`,
                };
                byVariant.set(variant, node);
            }
        }
        packages.set(id, node);
        return node;
    };

    /** A package's declarations, each bound to the locked package it resolves to. */
    const edgesOf = (node: PackageNode): Edge[] => {
        const candidates = (index.references.get(node.id) ?? []).map((r, i) => {
            if (!r) {
                const ref = (index.byId.get(node.id) as LockedPackage).dependencies[i];
                throw lockError(label, `names the dependency "${ref}" of ${node.name} ${node.version}, which it does not lock`, "run `cargo generate-lockfile` and commit Cargo.lock");
            }
            return r;
        });
        const out: Edge[] = [];
        for (const decl of node.deps as Array<DepDecl & { localDir?: string; git?: string }>) {
            if (decl.kind === "dev" && !node.member) continue;
            let match = candidates.filter((c) => c.name === decl.package);
            if (decl.localDir !== undefined) {
                match = match.filter((c) => c.source === undefined && localOf(c)?.dir === decl.localDir);
            } else {
                if (decl.git !== undefined) match = match.filter((c) => c.source?.startsWith("git+") || c.source === undefined);
                // A path package here is a [patch] or [replace] of the registry crate; it must still satisfy the requirement.
                match = match.filter((c) => decl.req === undefined || satisfies(c.version, decl.req) || (c.source?.startsWith("git+") ?? false));
            }
            if (match.length === 0) {
                if (decl.optional) continue;
                if (node.member || node.source === undefined) {
                    throw lockError(
                        label,
                        `has no locked package satisfying ${node.name}'s dependency ${decl.package} ${decl.req ?? ""}`.trimEnd() + ` (${node.origin})`,
                        `run \`cargo update -p ${decl.package}\` (or \`cargo generate-lockfile\`) and commit Cargo.lock`,
                    );
                }
                throw lockError(
                    label,
                    `locks ${node.name} ${node.version} without its dependency ${decl.package} ${decl.req}, which its index entry declares`,
                    `run \`cargo update -p ${node.name}\` and commit Cargo.lock`,
                );
            }
            const best = match.reduce((a, b) => {
                const va = parseVersion(a.version);
                const vb = parseVersion(b.version);
                return va && vb && compareVersions(vb, va) > 0 ? b : a;
            });
            out.push({ decl, to: lockId(best) });
        }
        return out;
    };

    const lockedMembers: LockedPackage[] = [];
    for (const dir of ws.members) {
        const local = ws.packages.get(dir) as LocalPackage;
        const locked = (byName.get(local.name) ?? []).find((p) => p.source === undefined && (p.version === local.version || localOf(p) === local));
        if (!locked) {
            throw lockError(label, `has no entry for the workspace member ${local.name} (${local.manifestPath})`, "run `cargo generate-lockfile` and commit Cargo.lock");
        }
        lockedMembers.push(locked);
    }

    const stack = lockedMembers.map(nodeOf);
    const done = new Set<string>();
    while (stack.length) {
        const node = stack.pop() as PackageNode;
        if (done.has(node.id)) continue;
        done.add(node.id);
        let out: Edge[];
        const entry = node.member ? undefined : external.entries.get(node.id);
        if (entry) {
            const key = index.referenceKeys.get(node.id) as string;
            let byRefs = externalEdges.get(entry);
            if (!byRefs) externalEdges.set(entry, (byRefs = new Map()));
            const known = byRefs.get(key);
            if (known) out = known;
            else byRefs.set(key, (out = edgesOf(node)));
        } else out = edgesOf(node);
        for (const e of out) stack.push(packages.get(e.to) ?? nodeOf(index.byId.get(e.to) as LockedPackage));
        edges.set(node.id, out);
    }
    return { packages, edges };
}

/** The registry packages of a lock (those needing an index entry). */
export function registryPackages(lock: ParsedLock): LockedPackage[] {
    return lock.packages.filter((p) => p.source !== undefined && (p.source.startsWith("registry+") || p.source.startsWith("sparse+")));
}
