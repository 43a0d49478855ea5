// CargoDepsImage warm starts, the pure part: which earlier image a miss may start from, how deep a
// chain of warm starts may grow, and what to remove from target/ and CARGO_HOME after the cook so
// the image holds what a cold build of the same key holds. The buildah steps are in warmBuild.ts.
//
// The key never changes for a warm start: a warm-started image and a cold one are interchangeable,
// and the key alone decides hits. A warm start only makes a miss cheaper.
import * as path from "path";
import { canonicalJson, sha256Hex } from "../core/keys";
import { WARM_COMPAT_ANNOTATION, WARM_DEPTH_ANNOTATION, WARM_PARENT_ANNOTATION, WARM_PARENT_KEY_ANNOTATION } from "../oci/annotations";

/** Warm starts in a row before the next miss builds cold again. */
export const DEFAULT_MAX_WARM_DEPTH = 5;
/** The alias a default-branch build moves, the fallback parent when the state names none. */
export const LATEST_ALIAS = "latest";

/**
 * cargo arguments that make piped cargo print its download total ("Downloaded 19 crates (1.3 MB)"):
 * without a progress bar it prints none. Appended to the default Dockerfile's CARGO_ARGS by the
 * builder, so the key (which holds the `cargoArgs` field, not this) does not change.
 */
export const CARGO_PROGRESS_ARGS = ['--config', 'term.progress.when="always"', "--config", "term.progress.width=80"];

/** The cook of the default Dockerfile, as the component hands it to the builder. */
export interface CookSpec {
    /** Warm starts allowed (the `warmStart` field, default true). */
    warmStart: boolean;
    /** The `warmStartDepth` field (default DEFAULT_MAX_WARM_DEPTH). */
    maxDepth: number;
}

/** The cook of an artifact's fields: `warmStart` (default true), `warmStartDepth` (default 5). */
export function cookSpecOf(fields: { warmStart?: boolean; warmStartDepth?: number }): CookSpec {
    return { warmStart: fields.warmStart !== false, maxDepth: fields.warmStartDepth ?? DEFAULT_MAX_WARM_DEPTH };
}

/** Problems of the warm-start fields a field type cannot check, each naming the field and the fix. */
export function warmStartFieldProblems(where: string, fields: { warmStart?: unknown; warmStartDepth?: unknown; dockerfile?: unknown }): string[] {
    const problems: string[] = [];
    if (fields.warmStart === true && fields.dockerfile !== undefined) {
        problems.push(`${where}.warmStart needs warmrun's own Dockerfile (the builder runs its cook): remove dockerfile, or warmStart`);
    }
    const depth = fields.warmStartDepth;
    if (typeof depth === "number" && (depth < 1 || depth > 100)) {
        problems.push(`${where}.warmStartDepth ${depth} is out of range: warm starts in a row before a cold build, 1 to 100 (default ${DEFAULT_MAX_WARM_DEPTH}); use warmStart: false for none`);
    }
    return problems;
}

/** The earlier image of the same artifact the state records (its outputs before the replace). */
export interface WarmCandidate {
    tag: string;
    key: string;
    /** The digest the state recorded; the tag may have moved since. */
    digest?: string;
}

/** Files of the skeleton that choose the toolchain or change how cargo compiles. */
const TOOLCHAIN_FILES = ["rust-toolchain", "rust-toolchain.toml", ".cargo/config", ".cargo/config.toml"];

/**
 * What a parent must have been built with: the same build arguments (BASE is the base image's
 * pinned digest, CARGO_ARGS the cargo arguments), the same target stage and the same toolchain
 * files. A base image rebuilt under the same key has another digest, so it gives another value:
 * its layers would not be the parent's.
 */
export function compatOf(spec: { buildArgs: Record<string, string>; target?: string; contextFiles: { path: string; text?: string }[] }): string {
    const toolchain: Record<string, string> = {};
    for (const f of spec.contextFiles) if (TOOLCHAIN_FILES.includes(f.path)) toolchain[f.path] = sha256Hex(f.text ?? "");
    return sha256Hex(canonicalJson({ buildArgs: spec.buildArgs, target: spec.target ?? null, toolchain }));
}

/** Annotations every CargoDepsImage build carries, so a later miss can judge it as a parent. */
export function warmAnnotations(compat: string, depth: number, parent?: { digest: string; key: string }): Record<string, string> {
    return {
        [WARM_COMPAT_ANNOTATION]: compat,
        [WARM_DEPTH_ANNOTATION]: String(depth),
        ...(parent ? { [WARM_PARENT_ANNOTATION]: parent.digest, [WARM_PARENT_KEY_ANNOTATION]: parent.key } : {}),
    };
}

/**
 * The previous image of a replaced artifact, from the provider's diff: the diff sees the state's
 * outputs (tag, key, digest) and the new inputs; the create that follows in the same deployment
 * sees only the new inputs. (A check cannot carry it: the engine checks a replacement's inputs again
 * without the old ones.) Undefined unless the key changed, in the same place, with warm starts on.
 */
export function warmCandidateOf(olds: any, news: any): WarmCandidate | undefined {
    const build = news?.build;
    if (!build || typeof build !== "object" || !build.cook || build.cook.warmStart !== true) return undefined;
    if (!olds || typeof olds.key !== "string" || typeof olds.tag !== "string" || olds.key === news.key) return undefined;
    if (olds.repository !== news.repository || olds.registry?.host !== news.registry?.host) return undefined;
    return { tag: olds.tag, key: olds.key, ...(typeof olds.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(olds.digest) ? { digest: olds.digest } : {}) };
}

/** Where the diff leaves a candidate for the create of the same artifact and key. */
export function candidateSlot(inputs: { name?: string; key?: string }): string {
    return `${inputs.name}\u0000${inputs.key}`;
}

/** A candidate parent as the registry answered for it. */
export interface ParentAnswer {
    /** "state" (the previous image of this stack) or "latest" (the default branch's). */
    source: "state" | "latest";
    tag: string;
    /** Undefined: the registry has no such tag (any more). */
    digest?: string;
    annotations?: Record<string, string>;
    /** Layer digests of the candidate's manifest. */
    layers?: string[];
}

export interface ParentChoice {
    parent?: { digest: string; key: string; depth: number; source: "state" | "latest"; tag: string };
    /** Why each rejected candidate could not be the parent, "<tag>: <reason>". */
    rejected: string[];
}

/**
 * The first candidate that can be the parent: the same artifact and compat, not this very key,
 * a chain that may grow one more, built on the current base (its layers start with the base's).
 */
export function chooseParent(
    answers: ParentAnswer[],
    want: { artifact: string; key: string; compat: string; maxDepth: number; baseLayers?: string[] },
    artifactAnnotation: string,
    keyAnnotation: string,
): ParentChoice {
    const rejected: string[] = [];
    const seen = new Set<string>();
    for (const a of answers) {
        const why = (reason: string) => rejected.push(`${a.tag}: ${reason}`);
        if (a.digest === undefined) {
            if (a.source === "state") why("gone from the registry");
            continue;
        }
        if (seen.has(a.digest)) continue;
        seen.add(a.digest);
        const ann = a.annotations ?? {};
        const key = ann[keyAnnotation];
        if (ann[artifactAnnotation] !== want.artifact) why(`an image of another artifact (${ann[artifactAnnotation] ?? "none"})`);
        else if (key === undefined) why("carries no key");
        else if (key === want.key) why("holds this very key");
        else if (ann[WARM_COMPAT_ANNOTATION] === undefined) why("built before warm starts (no compat annotation)");
        else if (ann[WARM_COMPAT_ANNOTATION] !== want.compat) why("built from another base image, toolchain or cargo arguments");
        else {
            const depth = Number.parseInt(ann[WARM_DEPTH_ANNOTATION] ?? "", 10);
            if (!Number.isInteger(depth) || depth < 0) why("no valid chain depth");
            else if (depth + 1 > want.maxDepth) why(`chain of ${depth} warm starts reached the bound ${want.maxDepth}: a cold build starts a new chain`);
            else if (want.baseLayers && !startsWith(a.layers ?? [], want.baseLayers)) why("its layers do not start with the base image's");
            else return { parent: { digest: a.digest, key, depth, source: a.source, tag: a.tag }, rejected };
        }
    }
    return { rejected };
}

function startsWith(layers: string[], prefix: string[]): boolean {
    return prefix.length <= layers.length && prefix.every((d, i) => layers[i] === d);
}


// ---------------------------------------------------------------------------------------------
// cargo's JSON messages

export interface CargoArtifactMessage {
    reason: "compiler-artifact";
    package_id: string;
    target: { kind: string[]; name: string };
    filenames: string[];
    executable?: string | null;
    fresh: boolean;
}

export interface CargoBuildScriptMessage {
    reason: "build-script-executed";
    package_id: string;
    out_dir: string;
}

export type CargoMessage = CargoArtifactMessage | CargoBuildScriptMessage | { reason: string };

/** The JSON lines of `cargo build --message-format=json-render-diagnostics`; other lines are skipped. */
export function parseCargoMessages(stdout: string): CargoMessage[] {
    const out: CargoMessage[] = [];
    for (const line of stdout.split("\n")) {
        const t = line.trim();
        if (!t.startsWith("{")) continue;
        try {
            const m = JSON.parse(t);
            if (m && typeof m.reason === "string") out.push(m);
        } catch {
            /* a line that is not a message */
        }
    }
    return out;
}

export interface PackageRef {
    name: string;
    version: string;
    /** "registry", "path", "git" or another source kind. */
    source: string;
}

/**
 * Reads a package id in either of cargo's forms: `registry+https://...#serde@1.0.200`,
 * `path+file:///app/crates/x#0.1.0` (name = last path part), or the older `serde 1.0.200 (registry+...)`.
 */
export function parsePackageId(id: string): PackageRef | undefined {
    const old = /^(\S+) (\S+) \(([a-z]+)\+/.exec(id);
    if (old) return { name: old[1], version: old[2], source: old[3] === "sparse" ? "registry" : old[3] };
    const m = /^([a-z]+)\+([^#]*)#(.+)$/.exec(id);
    if (!m) return undefined;
    const source = m[1] === "sparse" ? "registry" : m[1];
    const frag = m[3];
    const at = frag.lastIndexOf("@");
    if (at > 0) return { name: frag.slice(0, at), version: frag.slice(at + 1), source };
    const urlPath = m[2].split("?")[0].replace(/\/+$/, "");
    return { name: urlPath.slice(urlPath.lastIndexOf("/") + 1), version: frag, source };
}

export interface UnitCount {
    /** compiler-artifact messages: every unit of the build. */
    units: number;
    /** Of those, the ones cargo compiled (not fresh). */
    compiled: number;
    fresh: number;
}

export function countUnits(messages: CargoMessage[]): UnitCount {
    const arts = messages.filter((m): m is CargoArtifactMessage => m.reason === "compiler-artifact");
    const compiled = arts.filter((a) => !a.fresh).length;
    return { units: arts.length, compiled, fresh: arts.length - compiled };
}

/** `Compiling` status lines in cargo's human output: the units it compiled, as a reader counts them. */
export function countCompilingLines(text: string): number {
    return text.split(/[\r\n]/).filter((l) => /^\s*Compiling \S+ v\d/.test(l.replace(/\x1b\[[0-9;]*m/g, ""))).length;
}

/**
 * A log filter for a cook's output: drops cargo's progress frames (`    Building [==>  ] 3/37: x\r`,
 * printed only so cargo prints its download total), keeps every line. Chunks may split anywhere.
 */
export function cargoProgressFilter(): (chunk: string) => string {
    let pending = "";
    return (chunk: string) => {
        const text = pending + chunk;
        let out = "";
        let start = 0;
        for (let i = 0; i < text.length; i++) {
            const c = text[i];
            if (c !== "\r" && c !== "\n") continue;
            const segment = text.slice(start, i + 1);
            if (!(c === "\r" && /^\s*Building \[/.test(segment))) out += segment;
            start = i + 1;
        }
        pending = text.slice(start);
        // A partial line that cannot be a frame is shown now; a frame's start waits for its end.
        if (!/^\s*(B(u(i(l(d(i(n(g( (\[.*)?)?)?)?)?)?)?)?)?)?$/.test(pending)) {
            out += pending;
            pending = "";
        }
        return out;
    };
}

// ---------------------------------------------------------------------------------------------
// Pruning target/

/** One entry of the listing of a target directory, relative to it (forward slashes). */
export interface TargetEntry {
    path: string;
    dir: boolean;
    /** Modification time (ms); needed for incremental/ entries. */
    mtimeMs?: number;
}

const HASH = /-([0-9a-f]{16})(?=\.|$)/;

function hashOf(name: string): string | undefined {
    const all = [...name.matchAll(new RegExp(HASH.source, "g"))];
    return all.length ? all[all.length - 1][1] : undefined;
}

/** Directories under target/ that are profile directories (they hold .fingerprint). */
export function profileDirs(entries: TargetEntry[]): string[] {
    return entries.filter((e) => e.dir && path.posix.basename(e.path) === ".fingerprint").map((e) => path.posix.dirname(e.path));
}

export interface PrunePlan {
    /** Paths relative to target/ to remove (whole directories where they are directories). */
    remove: string[];
    /** Metadata hashes of the units this build used. */
    keptHashes: Set<string>;
    /** Registry packages this build compiled, `name-version`. */
    packages: Set<string>;
}

/**
 * What target/ keeps after a warm cook: every file of the units cargo listed (fresh or not) and
 * nothing else under each profile directory's deps/, .fingerprint/, build/, incremental/ and its
 * top level. Units are known by the metadata hash in their file names; a unit listed only by its
 * uplifted file (a workspace binary, `target/debug/<name>`) is known by the deps/ file that is the
 * same file (`identityOf`: device and inode, or content).
 */
export function planTargetPrune(
    messages: CargoMessage[],
    entries: TargetEntry[],
    opts: { targetDir: string; cookStartedMs: number; identityOf: (rel: string) => string | undefined },
): PrunePlan {
    const rel = (abs: string): string | undefined => {
        const r = path.posix.relative(opts.targetDir, abs);
        return r.startsWith("..") || path.posix.isAbsolute(r) ? undefined : r;
    };
    const profiles = profileDirs(entries);
    const profileOf = (r: string): string | undefined => profiles.filter((p) => r.startsWith(p + "/")).sort((a, b) => b.length - a.length)[0];
    const kept = new Set<string>();
    const uplifted = new Set<string>();
    const usedProfiles = new Set<string>();
    const packages = new Set<string>();
    const byPath = new Map(entries.map((e) => [e.path, e]));
    for (const m of messages) {
        if (m.reason === "build-script-executed") {
            const r = rel((m as CargoBuildScriptMessage).out_dir);
            const dir = r && path.posix.basename(path.posix.dirname(r));
            const h = dir && hashOf(dir);
            if (h) kept.add(h);
            const p = r && profileOf(r);
            if (p) usedProfiles.add(p);
            continue;
        }
        if (m.reason !== "compiler-artifact") continue;
        const a = m as CargoArtifactMessage;
        const pkg = parsePackageId(a.package_id);
        if (pkg && pkg.source === "registry") packages.add(`${pkg.name}-${pkg.version}`);
        let unitHash: string | undefined;
        const upliftedHere: string[] = [];
        for (const f of a.filenames) {
            const r = rel(f);
            if (!r) continue;
            const p = profileOf(r);
            if (!p) continue;
            usedProfiles.add(p);
            const inner = r.slice(p.length + 1);
            const top = inner.split("/")[0];
            if (top === "deps" || top === "build") {
                const seg = top === "build" ? inner.split("/")[1] : path.posix.basename(inner);
                const h = hashOf(seg);
                if (h) unitHash = h;
            } else if (top === "examples" && hashOf(path.posix.basename(inner))) {
                unitHash = hashOf(path.posix.basename(inner));
            } else {
                uplifted.add(r);
                upliftedHere.push(r);
            }
        }
        if (unitHash) kept.add(unitHash);
        else {
            // Listed only by its uplifted copy: find the deps/ file that is the same file.
            for (const up of upliftedHere) {
                const h = sameFileInDeps(up, a.target.name, entries, profileOf(up)!, opts.identityOf);
                if (h) kept.add(h);
            }
        }
    }
    const remove: string[] = [];
    for (const e of entries) {
        const p = profileOf(e.path);
        if (!p) {
            // A profile directory (or a target triple's directory) this build did not use at all.
            if (profiles.includes(e.path) && !usedProfiles.has(e.path)) remove.push(e.path);
            continue;
        }
        if (!usedProfiles.has(p)) continue;
        const inner = e.path.slice(p.length + 1);
        const parts = inner.split("/");
        if (parts.length === 1) {
            if (e.dir) continue; // deps/, build/, .fingerprint/, incremental/, examples/ and unknown directories stay
            const name = parts[0];
            if (name === ".cargo-lock" || uplifted.has(e.path)) continue;
            if (name.endsWith(".d") && [...uplifted].some((u) => path.posix.dirname(u) === p && stripExt(path.posix.basename(u)) === name.slice(0, -2))) continue;
            remove.push(e.path);
            continue;
        }
        if (parts.length !== 2) continue;
        const [area, name] = parts;
        if (area === "deps" || area === "build" || area === ".fingerprint") {
            const h = hashOf(name);
            if (!h || !kept.has(h)) remove.push(e.path);
        } else if (area === "examples") {
            if (uplifted.has(e.path)) continue;
            if (name.endsWith(".d") && uplifted.has(`${p}/examples/${name.slice(0, -2)}`)) continue;
            const h = hashOf(name);
            if (!h || !kept.has(h)) remove.push(e.path);
        } else if (area === "incremental") {
            // Incremental state of the workspace's own crates: named by a crate id, not the unit
            // hash; the cook compiles every workspace unit anew, so what it did not touch is stale.
            if ((e.mtimeMs ?? 0) < opts.cookStartedMs) remove.push(e.path);
        }
    }
    return { remove: remove.sort(), keptHashes: kept, packages };
}

function stripExt(name: string): string {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(0, dot) : name;
}

function sameFileInDeps(uplifted: string, targetName: string, entries: TargetEntry[], profile: string, identityOf: (rel: string) => string | undefined): string | undefined {
    const id = identityOf(uplifted);
    if (id === undefined) return undefined;
    const base = path.posix.basename(uplifted);
    const ext = base.includes(".") ? base.slice(base.lastIndexOf(".")) : "";
    const stems = new Set([targetName, targetName.replace(/-/g, "_"), stripExt(base), stripExt(base).replace(/-/g, "_")]);
    for (const e of entries) {
        if (e.dir || path.posix.dirname(e.path) !== `${profile}/deps`) continue;
        const name = path.posix.basename(e.path);
        const h = hashOf(name);
        if (!h) continue;
        const stem = name.slice(0, name.lastIndexOf(`-${h}`));
        const rest = name.slice(name.lastIndexOf(`-${h}`) + h.length + 1);
        if (!stems.has(stem) || rest !== ext) continue;
        if (identityOf(e.path) === id) return h;
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Pruning CARGO_HOME's registry

/**
 * What CARGO_HOME/registry keeps: the .crate files and unpacked sources of the registry packages
 * the build compiled (`name-version`), and the index cache entries of the packages in Cargo.lock.
 * `entries` are paths relative to CARGO_HOME/registry: cache/<index>/<file>, src/<index>/<dir>,
 * index/<index>/.cache/<...>/<name>.
 */
export function planRegistryPrune(entries: string[], compiled: Set<string>, lockNames: Set<string>): string[] {
    const lower = new Set([...lockNames].map((n) => n.toLowerCase()));
    const remove: string[] = [];
    for (const e of entries) {
        const parts = e.split("/");
        if (parts[0] === "cache" && parts.length === 3 && parts[2].endsWith(".crate")) {
            if (!compiled.has(parts[2].slice(0, -".crate".length))) remove.push(e);
        } else if (parts[0] === "src" && parts.length === 3) {
            if (!compiled.has(parts[2])) remove.push(e);
        } else if (parts[0] === "index" && parts[2] === ".cache" && parts.length >= 4) {
            const name = parts[parts.length - 1];
            // Sparse-index cache files are named by the package, lower case; other files stay.
            if (!name.startsWith(".") && !lower.has(name.toLowerCase())) remove.push(e);
        }
    }
    return remove.sort();
}
