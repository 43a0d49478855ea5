// Cargo's feature resolver and the walk of what a build compiles, over a resolved package graph.
//
// The graph is what Cargo.lock pins: every package (workspace members, path packages, registry crates)
// with its declared dependencies, each declaration bound to the locked package it resolves to. The
// resolver activates features the way Cargo does (resolver "2": host dependencies, meaning build
// dependencies, proc macros and everything under them, are resolved apart from the rest;
// dev-dependencies count only when tests are built; dependencies of platforms other than the target
// never count. Resolver "1" unifies across all of these), with `dep:`, `?/` and `crate/feature`,
// implicit features of optional dependencies, and default features. Then the walk starts from the
// selected members' targets and follows the dependencies that really produce compilation units: build
// dependencies only of packages with a build script, dev-dependencies only of members whose tests are
// built, optional ones only when activated, platform-specific ones only when they match the platform the
// unit is built for (the host for build scripts and proc macros and what they use).
import { platformMatches, TargetCfg } from "./cfg";

export type DepKind = "normal" | "build" | "dev";

export interface DepDecl {
    /** The name the dependent uses (the key in its manifest; differs from `package` when renamed). */
    name: string;
    /** The package's real name. */
    package: string;
    req?: string;
    kind: DepKind;
    optional: boolean;
    defaultFeatures: boolean;
    features: string[];
    /** `cfg(...)` or a triple, or null. */
    target: string | null;
}

export interface PackageNode {
    /** Unique: `name version source`. */
    id: string;
    name: string;
    version: string;
    /** Registry or other source of the lock; undefined for path packages. */
    source?: string;
    checksum?: string;
    /** The feature table (explicit features), before implicit optional-dependency features are added. */
    features: Record<string, string[]>;
    deps: DepDecl[];
    procMacro: boolean;
    hasBuildScript: boolean;
    /** Whether the package has a library target others can depend on. */
    hasLib: boolean;
    member: boolean;
    /** Where the package comes from, for messages (e.g. a manifest path or `the index entry of x 1.0.0`). */
    origin: string;
}

export interface Edge {
    decl: DepDecl;
    /** Id of the package the declaration resolves to. */
    to: string;
}

export interface PackageGraph {
    packages: Map<string, PackageNode>;
    /** Per package id, its declarations that resolve to a locked package. */
    edges: Map<string, Edge[]>;
}

export interface Spec {
    /** Id of a selected workspace member. */
    id: string;
    /** Feature values requested on it (`f`, `dep:d`, `d/f`, `d?/f`). */
    features: string[];
    defaultFeatures: boolean;
    allFeatures: boolean;
    /** Whether its default targets (lib and bins) are built: false when `--bin x` names another package's binary. */
    rootUnits: boolean;
    /** Whether its tests, examples or benches are built, which compile its dev-dependencies. */
    tests: boolean;
}

export interface ResolveOptions {
    resolver: 1 | 2;
    specs: Spec[];
    target: TargetCfg;
    host: TargetCfg;
    /** Whether tests of the selected members are built (dev-dependencies take part in feature resolution). */
    devUnits: boolean;
}

type FeatureValue =
    | { t: "feature"; name: string }
    | { t: "dep"; dep: string }
    | { t: "depFeature"; dep: string; feature: string; weak: boolean };

function parseFeatureValue(v: string): FeatureValue {
    if (v.startsWith("dep:")) return { t: "dep", dep: v.slice(4) };
    const slash = v.indexOf("/");
    if (slash > 0) {
        const weak = v[slash - 1] === "?";
        return { t: "depFeature", dep: v.slice(0, weak ? slash - 1 : slash), feature: v.slice(slash + 1), weak };
    }
    return { t: "feature", name: v };
}

const featureMaps = new WeakMap<DepDecl[], WeakMap<Record<string, string[]>, Map<string, FeatureValue[]>>>();

/** The feature map Cargo builds: explicit features plus `name = ["dep:name"]` for optional deps not named by `dep:`. */
export function featureMapOf(pkg: PackageNode): Map<string, FeatureValue[]> {
    let byFeatures = featureMaps.get(pkg.deps);
    if (!byFeatures) featureMaps.set(pkg.deps, (byFeatures = new WeakMap()));
    let cached = byFeatures.get(pkg.features);
    if (!cached) byFeatures.set(pkg.features, (cached = buildFeatureMap(pkg)));
    return cached;
}

function buildFeatureMap(pkg: PackageNode): Map<string, FeatureValue[]> {
    const map = new Map<string, FeatureValue[]>();
    const hidden = new Set<string>();
    for (const [name, values] of Object.entries(pkg.features)) {
        const fvs = values.map(parseFeatureValue);
        for (const fv of fvs) if (fv.t === "dep") hidden.add(fv.dep);
        map.set(name, fvs);
    }
    for (const d of pkg.deps) {
        if (d.optional && !hidden.has(d.name) && !map.has(d.name)) map.set(d.name, [{ t: "dep", dep: d.name }]);
    }
    return map;
}

type Fk = "n" | "h";

export interface ResolvedFeatures {
    /** Activated features per slot(id, fk) (fk "n": normal or dev, "h": host). */
    features: Map<number, Set<string>>;
    /** Activated optional dependencies (by the name the dependent uses) per slot(id, fk). */
    dependencies: Map<number, Set<string>>;
    /** A number per (package, fk): the maps' keys, so no key string is made per look-up. */
    slot(id: string, fk: Fk): number;
    trackForHost: boolean;
}

/** Cargo's FeatureResolver over the graph. Throws (through `onMissing`) when an activated optional dependency is not locked. */
export function resolveFeatures(graph: PackageGraph, opts: ResolveOptions, onMissing: (pkg: PackageNode, dep: DepDecl) => never): ResolvedFeatures {
    const v2 = opts.resolver === 2;
    const decoupleDev = v2 && !opts.devUnits;
    const trackForHost = v2;
    const features = new Map<number, Set<string>>();
    const dependencies = new Map<number, Set<string>>();
    const deferred = new Map<number, Map<string, Set<string>>>();
    const processed = new Set<number>();
    const numbers = new Map<string, number>();
    const slot = (id: string, fk: Fk): number => {
        let n = numbers.get(id);
        if (n === undefined) numbers.set(id, (n = numbers.size));
        return n * 2 + (fk === "h" ? 1 : 0);
    };
    const featureMaps = new Map<string, Map<string, FeatureValue[]>>();
    const featureMap = (id: string): Map<string, FeatureValue[]> => {
        let m = featureMaps.get(id);
        if (!m) featureMaps.set(id, (m = featureMapOf(graph.packages.get(id) as PackageNode)));
        return m;
    };
    const depsCache = new Map<number, Array<{ edge: Edge; fk: Fk }>>();
    const deps = (id: string, fk: Fk): Array<{ edge: Edge; fk: Fk }> => {
        const key = slot(id, fk);
        let out = depsCache.get(key);
        if (out) return out;
        out = [];
        const pkg = graph.packages.get(id) as PackageNode;
        for (const edge of graph.edges.get(id) ?? []) {
            const d = edge.decl;
            if (d.kind === "dev" && (!pkg.member || decoupleDev)) continue;
            if (d.target !== null && v2) {
                const cfg = d.kind === "build" || fk === "h" ? opts.host : opts.target;
                if (!platformMatches(d.target, cfg, pkg.origin)) continue;
            }
            const to = graph.packages.get(edge.to) as PackageNode;
            const depFk: Fk = fk === "n" && trackForHost && (d.kind === "build" || to.procMacro) ? "h" : fk;
            out.push({ edge, fk: depFk });
        }
        depsCache.set(key, out);
        return out;
    };
    const entry = <T>(m: Map<number, Set<T>>, key: number): Set<T> => {
        let s = m.get(key);
        if (!s) m.set(key, (s = new Set()));
        return s;
    };
    const fvsFromDependency = (to: string, d: DepDecl): FeatureValue[] => {
        const fvs = d.features.map(parseFeatureValue);
        if (d.defaultFeatures && featureMap(to).has("default")) fvs.push({ t: "feature", name: "default" });
        return fvs;
    };

    const activatePkg = (id: string, fk: Fk, fvs: FeatureValue[]): void => {
        for (const fv of fvs) activateFv(id, fk, fv);
        const key = slot(id, fk);
        if (processed.has(key)) return;
        processed.add(key);
        // Activated from here on even with no feature, so a unit with no features is still recorded.
        entry(features, key);
        for (const { edge, fk: depFk } of deps(id, fk)) {
            if (edge.decl.optional) continue;
            activatePkg(edge.to, depFk, fvsFromDependency(edge.to, edge.decl));
        }
    };
    const activateFv = (id: string, fk: Fk, fv: FeatureValue): void => {
        if (fv.t === "feature") activateRec(id, fk, fv.name);
        else if (fv.t === "dep") activateDependency(id, fk, fv.dep);
        else activateDepFeature(id, fk, fv.dep, fv.feature, fv.weak);
    };
    const activateRec = (id: string, fk: Fk, feature: string): void => {
        const enabled = entry(features, slot(id, fk));
        if (enabled.has(feature)) return;
        enabled.add(feature);
        for (const fv of featureMap(id).get(feature) ?? []) activateFv(id, fk, fv);
    };
    const checkLocked = (id: string, depName: string): void => {
        if ((graph.edges.get(id) ?? []).some((e) => e.decl.name === depName)) return;
        const pkg = graph.packages.get(id) as PackageNode;
        const decl = pkg.deps.find((d) => d.name === depName && d.kind !== "dev");
        if (decl) onMissing(pkg, decl);
    };
    const activateDependency = (id: string, fk: Fk, depName: string): void => {
        const key = slot(id, fk);
        entry(dependencies, key).add(depName);
        checkLocked(id, depName);
        const waiting = deferred.get(key);
        const toEnable = waiting?.get(depName);
        waiting?.delete(depName);
        for (const { edge, fk: depFk } of deps(id, fk)) {
            if (edge.decl.name !== depName) continue;
            if (toEnable) for (const f of toEnable) activateFv(edge.to, depFk, parseFeatureValue(f));
            activatePkg(edge.to, depFk, fvsFromDependency(edge.to, edge.decl));
        }
    };
    const activateDepFeature = (id: string, fk: Fk, depName: string, depFeature: string, weak: boolean): void => {
        if (!weak) checkLocked(id, depName);
        for (const { edge, fk: depFk } of deps(id, fk)) {
            if (edge.decl.name !== depName) continue;
            if (edge.decl.optional) {
                if (weak && !(dependencies.get(slot(id, fk))?.has(depName) ?? false)) {
                    let waiting = deferred.get(slot(id, fk));
                    if (!waiting) deferred.set(slot(id, fk), (waiting = new Map()));
                    let fs = waiting.get(depName);
                    if (!fs) waiting.set(depName, (fs = new Set()));
                    fs.add(depFeature);
                    continue;
                }
                activateFv(id, fk, { t: "dep", dep: depName });
                if (!weak && featureMap(id).has(depName)) activateRec(id, fk, depName);
            }
            activateFv(edge.to, depFk, parseFeatureValue(depFeature));
        }
    };

    for (const spec of opts.specs) {
        const pkg = graph.packages.get(spec.id) as PackageNode;
        const fvs = spec.features.map(parseFeatureValue);
        const map = featureMap(spec.id);
        if (spec.defaultFeatures && map.has("default")) fvs.push({ t: "feature", name: "default" });
        if (spec.allFeatures) for (const k of map.keys()) fvs.push({ t: "feature", name: k });
        activatePkg(spec.id, trackForHost && pkg.procMacro ? "h" : "n", fvs);
    }
    return { features, dependencies, slot, trackForHost };
}

export interface CompiledUnit {
    id: string;
    /** Built for the host (build scripts, proc macros and what they use) rather than the target. */
    forHost: boolean;
    features: string[];
    /** How it is reached first: through a build dependency or proc macro, only through dev-dependencies, or normally. */
    kind: DepKind;
}

/** The packages a build compiles, with their features, from the selected members' targets. */
export function compiledUnits(graph: PackageGraph, opts: ResolveOptions, resolved: ResolvedFeatures): CompiledUnit[] {
    const units = new Map<number, CompiledUnit>();
    const seen = new Set<number>();
    const stack: Array<{ id: string; fk: Fk; host: boolean; dev: boolean; kind: DepKind }> = [];
    for (const spec of opts.specs) {
        const pkg = graph.packages.get(spec.id) as PackageNode;
        const fk: Fk = resolved.trackForHost && pkg.procMacro ? "h" : "n";
        if (spec.rootUnits || spec.tests) stack.push({ id: spec.id, fk, host: pkg.procMacro, dev: spec.tests, kind: pkg.procMacro ? "build" : "normal" });
    }
    const rank: Record<DepKind, number> = { build: 0, normal: 1, dev: 2 };
    while (stack.length) {
        const s = stack.pop() as (typeof stack)[number];
        const fkey = resolved.slot(s.id, s.fk);
        const key = ((fkey * 2 + Number(s.host)) * 2 + Number(s.dev)) * 3 + rank[s.kind];
        if (seen.has(key)) continue;
        seen.add(key);
        const pkg = graph.packages.get(s.id) as PackageNode;
        // One unit per package and platform: the "n" slot of the id, host or not.
        const ukey = (resolved.slot(s.id, "n") >> 1) * 2 + Number(s.host);
        const prev = units.get(ukey);
        if (!prev) units.set(ukey, { id: s.id, forHost: s.host, features: [...(resolved.features.get(fkey) ?? [])].sort(), kind: s.kind });
        else if (rank[s.kind] < rank[prev.kind]) prev.kind = s.kind;
        const activated = resolved.dependencies.get(fkey);
        for (const edge of graph.edges.get(s.id) ?? []) {
            const d = edge.decl;
            if (d.kind === "dev" && !s.dev) continue;
            if (d.kind === "build" && !pkg.hasBuildScript) continue;
            if (d.optional && !(activated?.has(d.name) ?? false)) continue;
            const onHost = s.host || d.kind === "build";
            if (!platformMatches(d.target, onHost ? opts.host : opts.target, pkg.origin)) continue;
            const to = graph.packages.get(edge.to) as PackageNode;
            if (!to.hasLib) continue;
            const host = onHost || to.procMacro;
            const fk: Fk = s.fk === "n" && resolved.trackForHost && (d.kind === "build" || to.procMacro) ? "h" : s.fk;
            const kind: DepKind = host ? "build" : s.kind === "dev" || d.kind === "dev" ? "dev" : "normal";
            stack.push({ id: edge.to, fk, host, dev: false, kind });
        }
    }
    return [...units.values()];
}
