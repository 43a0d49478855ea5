// Cargo recipes: the part of a Rust workspace that decides which external crates are compiled and how,
// normalized so that the key of a dependencies image ignores source edits, local version bumps and formatting.
/**
 * A recipe holds, per workspace, normalized text for:
 * - every manifest of the local packages the build needs (`package.version`, `[workspace.package].version`
 *   and the `version` of path dependencies masked to "0.0.1"; `[lints]` and `[workspace.lints]` dropped;
 *   keys sorted at every depth, so comments and formatting vanish);
 * - Cargo.lock, with local packages at version "0.0.1" and only the packages the kept local packages reach;
 * - `.cargo/config(.toml)`, `rust-toolchain(.toml)` and the caller's Dockerfile, as they are.
 *
 * Dependency-free members are left out. A local package whose transitive closure of path dependencies
 * (dev- and build-dependencies included) has no external dependency, and that no kept package depends on,
 * contributes nothing to the dependencies image: it is dropped with its manifest, its Cargo.lock entry,
 * its entry in a literal `[workspace].members` / `default-members` list and any `[workspace.dependencies]`
 * path entry naming it. Adding such a crate therefore keeps the key; it is kept (and changes the key) as
 * soon as it gains an external dependency or a kept package depends on it. The root package, when the
 * root manifest has `[package]`, is always kept, as are crates named by path in `[patch]`/`[replace]`
 * (the latter keep their versions, which the patch must match).
 *
 * Path dependencies must stay under the root (a build context cannot reach outside it); one that leaves
 * it is an error naming the manifest.
 *
 * With `bin`, only the package of that name (or holding a binary target of that name), the root package
 * and their local closure are kept, and Cargo.lock is cut down to what they reach.
 *
 * Targets are part of the recipe too (a build context needs one source file per target): declared
 * `[lib]`, `[[bin]]`, `[[example]]`, `[[test]]`, `[[bench]]`, the build script, and the auto-discovered
 * src/lib.rs and src/main.rs when the source has them.
 */
import * as fs from "fs";
import * as path from "path";
import { execFile, spawn } from "child_process";
import fg from "fast-glob";
import { parse as parseToml, stringify as stringifyToml, TomlError } from "smol-toml";
import { FileEntry, KeyMaterial, sha256Hex } from "../core/keys";
import { WarmrunError } from "../core/errors";

export const CARGO_DEPS_KIND = "CargoDepsImage";
/** Bumped when the normalization changes, so keys computed the old way stop matching. */
export const CARGO_RECIPE_VERSION = 1;
/** What local package versions (and path-dependency requirements on them) are masked to. */
export const MASKED_VERSION = "0.0.1";

/** The files of a workspace, from a directory or from a commit. */
export interface RecipeSource {
    /** Text of a file, by path relative to the workspace root; undefined when there is no such file. */
    read(relPath: string): Promise<string | undefined>;
    /** Every file path under the root, relative, with forward slashes. */
    list(): Promise<string[]>;
    /** How messages name the root, e.g. the directory or `repo@commit`. */
    readonly label?: string;
}

export type CargoTargetKind = "lib" | "bin" | "example" | "test" | "bench" | "build-script";

export interface CargoTarget {
    kind: CargoTargetKind;
    name: string;
    /** Relative to the package directory. */
    path: string;
}

export interface CargoMember {
    name: string;
    /** Package directory relative to the workspace root; "" for the root package. */
    dir: string;
    targets: CargoTarget[];
}

export interface CargoRecipe {
    /** Normalized path -> normalized text. */
    files: Record<string, string>;
    /** The local packages kept in the recipe, by directory. */
    members: CargoMember[];
}

export interface CargoRecipeOptions {
    /** A Dockerfile, relative to the root, carried into the recipe as it is. */
    dockerfile?: string;
    /** Keep only the package of this name, or holding a binary of this name, and what it needs. */
    bin?: string;
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function tablesOf(value: unknown): Table[] {
    return Array.isArray(value) ? value.filter(isTable) : [];
}

function stringOf(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

function byString(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** Normalizes a relative path to forward slashes without "./" or a trailing slash; "" is the root. */
function normalizeRel(p: string): string {
    const n = path.posix.normalize(p.replace(/\\/g, "/")).replace(/\/+$/, "");
    return n === "." ? "" : n;
}

/** `dir` joined with `rel`, or undefined when the result leaves the root. */
function joinInside(dir: string, rel: string): string | undefined {
    if (path.posix.isAbsolute(rel.replace(/\\/g, "/"))) return undefined;
    const joined = normalizeRel(path.posix.join(dir || ".", rel));
    return joined === ".." || joined.startsWith("../") ? undefined : joined;
}

function manifestPathOf(dir: string): string {
    return dir ? `${dir}/Cargo.toml` : "Cargo.toml";
}

function inRoot(label: string, rel: string): string {
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
// Sources

const MISSING_FILE_CODES = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

/** The files under a directory, without target/ (build output) and .git/. */
export function dirSource(root: string): RecipeSource {
    return {
        label: root,
        list: async () =>
            (
                await fg("**/*", {
                    cwd: root,
                    dot: true,
                    onlyFiles: true,
                    followSymbolicLinks: false,
                    ignore: ["target/**", "**/.git/**"],
                })
            ).sort(byString),
        read: async (relPath) => {
            const rel = joinInside("", relPath);
            if (rel === undefined) return undefined;
            try {
                return await fs.promises.readFile(path.join(root, rel), "utf8");
            } catch (e) {
                if (MISSING_FILE_CODES.has((e as NodeJS.ErrnoException).code ?? "")) return undefined;
                throw e;
            }
        },
    };
}

export interface GitTreeOptions {
    /** Directory of the workspace inside the repository (default its top level). */
    root?: string;
    /** Blob id -> text, shared between the sources of many commits so unchanged files are read once. */
    blobCache?: Map<string, string>;
}

const GIT_MAX_BUFFER = 512 * 1024 * 1024;

/** Output of a git command in repoDir; a failure is a WarmrunError naming the command. */
export function git(repoDir: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("git", ["-C", repoDir, ...args], { maxBuffer: GIT_MAX_BUFFER, encoding: "utf8" }, (err, stdout, stderr) => {
            if (err) reject(new WarmrunError(`git ${args.join(" ")} failed in ${repoDir}: ${(stderr || err.message).trim()}`));
            else resolve(stdout);
        });
    });
}

/** Path -> blob id of the regular files of a commit (one `git ls-tree` for the whole tree). */
async function lsTree(repoDir: string, commit: string): Promise<Map<string, string>> {
    const out = await git(repoDir, ["ls-tree", "-r", "-z", "--full-tree", commit]);
    const blobs = new Map<string, string>();
    for (const record of out.split("\0")) {
        // "<mode> <type> <id>\t<path>"; symbolic links (120000) and submodules are not files of the recipe.
        const tab = record.indexOf("\t");
        if (tab < 0) continue;
        const [mode, type, id] = record.slice(0, tab).split(" ");
        if (type === "blob" && (mode === "100644" || mode === "100755")) blobs.set(record.slice(tab + 1), id);
    }
    return blobs;
}

/** The contents of many blobs through one `git cat-file --batch`. */
function catBlobs(repoDir: string, ids: string[]): Promise<Map<string, Buffer>> {
    return new Promise((resolve, reject) => {
        const child = spawn("git", ["-C", repoDir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code !== 0) {
                reject(new WarmrunError(`git cat-file failed in ${repoDir}: ${Buffer.concat(err).toString("utf8").trim()}`));
                return;
            }
            const data = Buffer.concat(out);
            const blobs = new Map<string, Buffer>();
            let pos = 0;
            while (pos < data.length) {
                const eol = data.indexOf(10, pos);
                if (eol < 0) break;
                const [id, type, size] = data.toString("utf8", pos, eol).split(" ");
                if (type === "missing" || size === undefined) {
                    pos = eol + 1;
                    continue;
                }
                const end = eol + 1 + Number(size);
                blobs.set(id, data.subarray(eol + 1, end));
                pos = end + 1;
            }
            resolve(blobs);
        });
        child.stdin.end(ids.map((id) => `${id}\n`).join(""));
    });
}

/**
 * Reads blobs by id, gathering the reads asked for in the same turn of the event loop into one
 * `git cat-file --batch`, and remembering texts in `cache`.
 */
function batchedBlobReader(repoDir: string, cache: Map<string, string>): (id: string) => Promise<string> {
    let waiting = new Map<string, Array<{ resolve: (text: string) => void; reject: (e: unknown) => void }>>();
    const flush = (): void => {
        const batch = waiting;
        waiting = new Map();
        catBlobs(repoDir, [...batch.keys()]).then(
            (blobs) => {
                for (const [id, readers] of batch) {
                    const blob = blobs.get(id);
                    if (blob === undefined) {
                        readers.forEach((r) => r.reject(new WarmrunError(`git object ${id} is missing in ${repoDir}`)));
                        continue;
                    }
                    const text = blob.toString("utf8");
                    cache.set(id, text);
                    readers.forEach((r) => r.resolve(text));
                }
            },
            (e) => batch.forEach((readers) => readers.forEach((r) => r.reject(e))),
        );
    };
    return (id) => {
        const cached = cache.get(id);
        if (cached !== undefined) return Promise.resolve(cached);
        return new Promise((resolve, reject) => {
            const readers = waiting.get(id);
            if (readers) readers.push({ resolve, reject });
            else {
                if (waiting.size === 0) setImmediate(flush);
                waiting.set(id, [{ resolve, reject }]);
            }
        });
    };
}

/** The files of a commit of a local repository, under `opts.root`; reads only the files asked for. */
export function gitTreeSource(repoDir: string, commit: string, opts: GitTreeOptions = {}): RecipeSource {
    const root = normalizeRel(opts.root ?? "");
    const prefix = root ? `${root}/` : "";
    let tree: Promise<Map<string, string>> | undefined;
    const files = (): Promise<Map<string, string>> =>
        (tree ??= lsTree(repoDir, commit).then((all) => {
            const under = new Map<string, string>();
            for (const [p, id] of all) if (p.startsWith(prefix)) under.set(p.slice(prefix.length), id);
            return under;
        }));
    const readBlob = batchedBlobReader(repoDir, opts.blobCache ?? new Map());
    return {
        label: `${repoDir}@${commit.slice(0, 12)}${root ? `:${root}` : ""}`,
        list: async () => [...(await files()).keys()].sort(byString),
        read: async (relPath) => {
            const id = (await files()).get(normalizeRel(relPath));
            return id === undefined ? undefined : readBlob(id);
        },
    };
}

// ---------------------------------------------------------------------------------------------
// TOML

function parseTomlFile(text: string, where: string): Table {
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
function sortedCopy(value: unknown): unknown {
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
// Workspace discovery

interface LocalPackage {
    dir: string;
    doc: Table;
    name: string;
    /** Directories of the local packages this one depends on by path (any kind of dependency). */
    localDeps: Set<string>;
    hasExternalDep: boolean;
}

const DEPENDENCY_TABLES = ["dependencies", "dev-dependencies", "dev_dependencies", "build-dependencies", "build_dependencies"];

/** Every dependency table of a manifest, target-specific ones included. */
function dependencyTables(doc: Table): Table[] {
    const tables: Table[] = [];
    const collect = (t: Table): void => {
        for (const name of DEPENDENCY_TABLES) if (isTable(t[name])) tables.push(t[name] as Table);
    };
    collect(doc);
    if (isTable(doc.target)) for (const cfg of Object.values(doc.target)) if (isTable(cfg)) collect(cfg);
    return tables;
}

interface Context {
    label: string;
    workspaceDeps: Table;
}

/** Where a dependency entry points: a local package directory, or undefined for an external crate. */
function localDirOf(ctx: Context, manifestPath: string, manifestDir: string, depName: string, entry: unknown): string | undefined {
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

function describePackage(ctx: Context, doc: Table, dir: string): LocalPackage {
    const manifestPath = manifestPathOf(dir);
    const pkg = isTable(doc.package) ? doc.package : isTable(doc.project) ? doc.project : undefined;
    const name = pkg && stringOf(pkg.name);
    if (name === undefined) {
        throw new WarmrunError(`${inRoot(ctx.label, manifestPath)} has no [package] name; give the crate a name or remove it from the workspace`);
    }
    const localDeps = new Set<string>();
    let hasExternalDep = false;
    for (const table of dependencyTables(doc)) {
        for (const [depName, entry] of Object.entries(table)) {
            const local = localDirOf(ctx, manifestPath, dir, depName, entry);
            if (local === undefined) hasExternalDep = true;
            else localDeps.add(local);
        }
    }
    return { dir, doc, name, localDeps, hasExternalDep };
}

/** Directories named by `[workspace].members` (globs over the manifests in the file list), minus `exclude`. */
function memberDirs(ctx: Context, workspace: Table, manifestDirs: string[]): string[] {
    const members = Array.isArray(workspace.members) ? workspace.members.filter((m): m is string => typeof m === "string") : [];
    const excluded = (Array.isArray(workspace.exclude) ? workspace.exclude : [])
        .filter((e): e is string => typeof e === "string")
        .map(normalizeRel);
    const isExcluded = (dir: string): boolean => excluded.some((e) => dir === e || dir.startsWith(`${e}/`));
    const dirs: string[] = [];
    for (const member of members) {
        if (joinInside("", member) === undefined) {
            throw new WarmrunError(`${inRoot(ctx.label, "Cargo.toml")}: workspace member "${member}" is outside the workspace root; move it under the root`);
        }
        if (fg.isDynamicPattern(member)) {
            // Like Cargo, `exclude` only trims what globs find; a member named literally stays.
            const re = memberGlobToRegExp(member);
            dirs.push(...manifestDirs.filter((d) => d !== "" && re.test(d) && !isExcluded(d)));
        } else dirs.push(normalizeRel(member));
    }
    return dirs;
}

/** Directories of the crates the root manifest names by path in `[patch.*]` and `[replace]`. */
function patchDirs(ctx: Context, root: Table): string[] {
    const entries: Array<[string, unknown]> = [];
    if (isTable(root.patch)) for (const registry of Object.values(root.patch)) if (isTable(registry)) entries.push(...Object.entries(registry));
    if (isTable(root.replace)) entries.push(...Object.entries(root.replace));
    const dirs: string[] = [];
    for (const [name, entry] of entries) {
        if (!isTable(entry) || entry.workspace === true) continue;
        const dir = localDirOf(ctx, "Cargo.toml", "", name, entry);
        if (dir !== undefined) dirs.push(dir);
    }
    return dirs;
}

/** Loads the manifests of `start` and of every local package they reach by path, level by level. */
async function loadPackages(
    source: RecipeSource,
    ctx: Context,
    rootDoc: Table,
    start: Array<{ dir: string; neededBy: string }>,
): Promise<Map<string, LocalPackage>> {
    const packages = new Map<string, LocalPackage>();
    let level = start;
    while (level.length) {
        const fresh = new Map<string, string>();
        for (const { dir, neededBy } of level) if (!packages.has(dir) && !fresh.has(dir)) fresh.set(dir, neededBy);
        const loaded = await Promise.all(
            [...fresh].map(async ([dir, neededBy]) => {
                if (dir === "") return describePackage(ctx, rootDoc, "");
                const manifestPath = manifestPathOf(dir);
                const text = await source.read(manifestPath);
                if (text === undefined) {
                    throw new WarmrunError(`${inRoot(ctx.label, manifestPath)} is missing but ${neededBy} needs it; add the crate or remove the reference`);
                }
                return describePackage(ctx, parseTomlFile(text, inRoot(ctx.label, manifestPath)), dir);
            }),
        );
        level = [];
        for (const pkg of loaded) {
            packages.set(pkg.dir, pkg);
            for (const dep of pkg.localDeps) level.push({ dir: dep, neededBy: `a path dependency in ${manifestPathOf(pkg.dir)}` });
        }
    }
    return packages;
}

function localClosure(starts: Iterable<string>, packages: Map<string, LocalPackage>): Set<string> {
    const seen = new Set<string>();
    const stack = [...starts];
    while (stack.length) {
        const dir = stack.pop() as string;
        if (seen.has(dir)) continue;
        seen.add(dir);
        stack.push(...(packages.get(dir)?.localDeps ?? []));
    }
    return seen;
}

/** Packages with an external dependency somewhere in their local closure (a fixed point, as path deps can cycle). */
function needingExternal(packages: Map<string, LocalPackage>): Set<string> {
    const needs = new Set([...packages.values()].filter((p) => p.hasExternalDep).map((p) => p.dir));
    for (let grew = true; grew; ) {
        grew = false;
        for (const p of packages.values()) {
            if (!needs.has(p.dir) && [...p.localDeps].some((d) => needs.has(d))) {
                needs.add(p.dir);
                grew = true;
            }
        }
    }
    return needs;
}

// ---------------------------------------------------------------------------------------------
// Targets

const DUMMY_MAIN = "fn main() {}\n";

function targetsOf(ctx: Context, pkg: LocalPackage, files: Set<string>): CargoTarget[] {
    const has = (rel: string): boolean => files.has(pkg.dir ? `${pkg.dir}/${rel}` : rel);
    const pkgTable = (isTable(pkg.doc.package) ? pkg.doc.package : {}) as Table;
    const targets: CargoTarget[] = [];
    const firstExisting = (candidates: string[]): string => candidates.find(has) ?? candidates[0];

    if (isTable(pkg.doc.lib)) {
        targets.push({ kind: "lib", name: stringOf(pkg.doc.lib.name) ?? pkg.name.replace(/-/g, "_"), path: stringOf(pkg.doc.lib.path) ?? "src/lib.rs" });
    } else if (pkgTable.autolib !== false && has("src/lib.rs")) {
        targets.push({ kind: "lib", name: pkg.name.replace(/-/g, "_"), path: "src/lib.rs" });
    }

    for (const bin of tablesOf(pkg.doc.bin)) {
        const declaredPath = stringOf(bin.path);
        const name = stringOf(bin.name) ?? (declaredPath ? path.posix.basename(declaredPath, ".rs") : pkg.name);
        const candidates = [`src/bin/${name}.rs`, `src/bin/${name}/main.rs`];
        if (name === pkg.name) candidates.unshift("src/main.rs");
        targets.push({ kind: "bin", name, path: declaredPath ?? firstExisting(candidates) });
    }
    const declaredBin = (p: string, name: string): boolean => targets.some((t) => t.kind === "bin" && (t.path === p || t.name === name));
    if (pkgTable.autobins !== false && has("src/main.rs") && !declaredBin("src/main.rs", pkg.name)) {
        targets.push({ kind: "bin", name: pkg.name, path: "src/main.rs" });
    }

    for (const [kind, folder] of [["example", "examples"], ["test", "tests"], ["bench", "benches"]] as const) {
        for (const t of tablesOf(pkg.doc[kind])) {
            const name = stringOf(t.name) ?? path.posix.basename(stringOf(t.path) ?? kind, ".rs");
            targets.push({ kind, name, path: stringOf(t.path) ?? firstExisting([`${folder}/${name}.rs`, `${folder}/${name}/main.rs`]) });
        }
    }

    const build = pkgTable.build;
    if (typeof build === "string") targets.push({ kind: "build-script", name: "build-script-build", path: build });
    else if (build === true || (build === undefined && has("build.rs"))) targets.push({ kind: "build-script", name: "build-script-build", path: "build.rs" });

    // A crate with only src/bin/* binaries still needs a target in the skeleton, or Cargo refuses the manifest.
    if (!targets.some((t) => t.kind === "lib" || t.kind === "bin")) {
        const prefix = pkg.dir ? `${pkg.dir}/src/bin/` : "src/bin/";
        for (const f of [...files].filter((f) => f.startsWith(prefix)).sort(byString)) {
            const rest = f.slice(prefix.length);
            const m = /^([^/]+)\.rs$/.exec(rest) ?? /^([^/]+)\/main\.rs$/.exec(rest);
            if (m) targets.push({ kind: "bin", name: m[1], path: `src/bin/${rest}` });
        }
    }

    return targets.map((t) => {
        const inside = joinInside(pkg.dir, t.path);
        if (inside === undefined) {
            throw new WarmrunError(`${inRoot(ctx.label, manifestPathOf(pkg.dir))}: ${t.kind} target "${t.name}" has path "${t.path}", outside the workspace root; move it under the root`);
        }
        return { ...t, path: path.posix.relative(pkg.dir || ".", inside) };
    });
}

// ---------------------------------------------------------------------------------------------
// Normalization

interface Masking {
    /** Local package directories whose versions are masked. */
    maskedDirs: Set<string>;
    /** Local package directories left out of the recipe. */
    droppedDirs: Set<string>;
}

/** Masks the `version` of path dependencies on masked packages, in place. */
function maskPathDependencies(ctx: Context, manifestPath: string, manifestDir: string, table: Table, masking: Masking): void {
    for (const [depName, entry] of Object.entries(table)) {
        if (!isTable(entry) || entry.workspace === true || entry.version === undefined) continue;
        const dir = localDirOf(ctx, manifestPath, manifestDir, depName, entry);
        if (dir !== undefined && masking.maskedDirs.has(dir)) entry.version = MASKED_VERSION;
    }
}

function withoutDropped(list: unknown, dropped: Set<string>): unknown {
    if (!Array.isArray(list)) return list;
    return list.filter((m) => typeof m !== "string" || fg.isDynamicPattern(m) || !dropped.has(normalizeRel(m)));
}

function normalizeManifest(ctx: Context, dir: string, original: Table, masking: Masking): string {
    const doc = sortedCopy(original) as Table;
    const manifestPath = manifestPathOf(dir);
    delete doc.lints;
    for (const key of ["package", "project"]) {
        const pkg = doc[key];
        // `version.workspace = true` is kept: it inherits the masked [workspace.package].version.
        if (isTable(pkg) && masking.maskedDirs.has(dir) && !isTable(pkg.version)) pkg.version = MASKED_VERSION;
    }
    for (const table of dependencyTables(doc)) maskPathDependencies(ctx, manifestPath, dir, table, masking);

    const workspace = doc.workspace;
    if (isTable(workspace)) {
        delete workspace.lints;
        if (isTable(workspace.package) && typeof workspace.package.version === "string") workspace.package.version = MASKED_VERSION;
        if (isTable(workspace.dependencies)) {
            const deps = workspace.dependencies;
            for (const [depName, entry] of Object.entries(deps)) {
                const local = localDirOf(ctx, manifestPath, "", depName, entry);
                if (local !== undefined && masking.droppedDirs.has(local)) delete deps[depName];
            }
            maskPathDependencies(ctx, manifestPath, "", deps, masking);
        }
        for (const key of ["members", "default-members"]) {
            if (workspace[key] === undefined) continue;
            workspace[key] = withoutDropped(workspace[key], masking.droppedDirs);
            if (key === "default-members" && Array.isArray(workspace[key]) && (workspace[key] as unknown[]).length === 0) delete workspace[key];
        }
    }
    return canonicalToml(doc);
}

interface LockRef {
    name: string;
    version?: string;
    source?: string;
}

function parseLockRef(ref: string): LockRef {
    const m = /^(\S+)(?: (\S+))?(?: \((.+)\))?$/.exec(ref);
    return m ? { name: m[1], version: m[2], source: m[3] } : { name: ref };
}

/**
 * Cargo.lock reduced to the packages reachable from the kept local packages, local versions (and
 * references to them) masked, sorted.
 */
function normalizeLock(doc: Table, keptNames: Set<string>, maskedNames: Set<string>): string {
    const packages = tablesOf(doc.package);
    const byName = new Map<string, Table[]>();
    for (const p of packages) {
        const name = String(p.name);
        byName.set(name, [...(byName.get(name) ?? []), p]);
    }
    const resolve = (ref: LockRef): Table | undefined => {
        const candidates = (byName.get(ref.name) ?? []).filter(
            (p) => (ref.version === undefined || p.version === ref.version) && (ref.source === undefined || p.source === ref.source),
        );
        return candidates.length === 1 ? candidates[0] : undefined;
    };
    const isLocal = (p: Table): boolean => p.source === undefined;

    const reachable = new Set<Table>();
    const stack = packages.filter((p) => isLocal(p) && keptNames.has(String(p.name)));
    while (stack.length) {
        const p = stack.pop() as Table;
        if (reachable.has(p)) continue;
        reachable.add(p);
        for (const dep of Array.isArray(p.dependencies) ? p.dependencies : []) {
            const target = typeof dep === "string" ? resolve(parseLockRef(dep)) : undefined;
            if (target) stack.push(target);
        }
    }

    const masked = (p: Table | undefined): boolean => p !== undefined && isLocal(p) && maskedNames.has(String(p.name));
    const kept = packages
        .filter((p) => reachable.has(p))
        .map((p) => {
            const copy: Table = { ...p };
            if (masked(p)) copy.version = MASKED_VERSION;
            if (Array.isArray(p.dependencies)) {
                copy.dependencies = p.dependencies.map((dep) => {
                    if (typeof dep !== "string") return dep;
                    const ref = parseLockRef(dep);
                    return ref.version !== undefined && ref.source === undefined && masked(resolve(ref)) ? `${ref.name} ${MASKED_VERSION}` : dep;
                });
            }
            return copy;
        })
        .sort((a, b) => byString(String(a.name), String(b.name)) || byString(String(a.version), String(b.version)) || byString(String(a.source ?? ""), String(b.source ?? "")));
    const out: Table = { ...doc };
    if (kept.length) out.package = kept;
    else delete out.package;
    return canonicalToml(out);
}

// ---------------------------------------------------------------------------------------------
// The recipe

const EXTRA_FILES = [".cargo/config.toml", ".cargo/config", "rust-toolchain", "rust-toolchain.toml"];

export async function cargoRecipe(source: RecipeSource, opts: CargoRecipeOptions = {}): Promise<CargoRecipe> {
    const label = source.label ?? ".";
    const [fileList, rootText, lockText] = await Promise.all([source.list(), source.read("Cargo.toml"), source.read("Cargo.lock")]);
    if (rootText === undefined) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} is missing: point the root at the directory of the workspace's Cargo.toml`);
    }
    const rootDoc = parseTomlFile(rootText, inRoot(label, "Cargo.toml"));
    if (lockText === undefined) {
        throw new WarmrunError(`${inRoot(label, "Cargo.lock")} is missing: run \`cargo generate-lockfile\` and commit it`);
    }
    const lockDoc = parseTomlFile(lockText, inRoot(label, "Cargo.lock"));
    const workspace = isTable(rootDoc.workspace) ? rootDoc.workspace : undefined;
    const hasRootPackage = isTable(rootDoc.package) || isTable(rootDoc.project);
    if (!workspace && !hasRootPackage) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} has neither [package] nor [workspace]; point the root at a Cargo workspace`);
    }
    const ctx: Context = { label, workspaceDeps: workspace && isTable(workspace.dependencies) ? workspace.dependencies : {} };
    const files = new Set(fileList);

    const manifestDirs = fileList.filter((f) => f === "Cargo.toml" || f.endsWith("/Cargo.toml")).map((f) => normalizeRel(path.posix.dirname(f)));
    const members = [...(hasRootPackage ? [""] : []), ...(workspace ? memberDirs(ctx, workspace, manifestDirs) : [])];
    const patches = patchDirs(ctx, rootDoc);
    const packages = await loadPackages(source, ctx, rootDoc, [
        ...members.map((dir) => ({ dir, neededBy: "[workspace].members in Cargo.toml" })),
        ...patches.map((dir) => ({ dir, neededBy: "[patch] in Cargo.toml" })),
    ]);
    const targets = new Map([...packages.values()].map((p) => [p.dir, targetsOf(ctx, p, files)]));
    const memberClosure = localClosure(members, packages);

    let wanted: string[];
    if (opts.bin !== undefined) {
        const bin = opts.bin;
        const named = [...packages.values()].filter(
            (p) => memberClosure.has(p.dir) && (p.name === bin || (targets.get(p.dir) ?? []).some((t) => t.kind === "bin" && t.name === bin)),
        );
        if (named.length === 0) {
            const choices = [...memberClosure].flatMap((d) => [packages.get(d)?.name ?? "", ...(targets.get(d) ?? []).filter((t) => t.kind === "bin").map((t) => t.name)]);
            throw new WarmrunError(
                `no package or binary named "${bin}" in the workspace at ${label}; choose one of: ${[...new Set(choices)].filter(Boolean).sort(byString).join(", ")}`,
            );
        }
        wanted = named.map((p) => p.dir);
    } else {
        wanted = [...needingExternal(packages)];
    }
    const kept = localClosure([...wanted, ...(hasRootPackage ? [""] : []), ...patches], packages);
    // Patched crates keep their versions: the patch must still match the requirements on it.
    const patchOnly = new Set([...localClosure(patches, packages)].filter((d) => !memberClosure.has(d)));
    const masking: Masking = {
        maskedDirs: new Set([...kept].filter((d) => !patchOnly.has(d))),
        droppedDirs: new Set([...packages.keys()].filter((d) => !kept.has(d))),
    };

    const out: Record<string, string> = {};
    out["Cargo.toml"] = normalizeManifest(ctx, "", rootDoc, masking);
    for (const dir of kept) if (dir !== "") out[manifestPathOf(dir)] = normalizeManifest(ctx, dir, (packages.get(dir) as LocalPackage).doc, masking);
    const nameOf = (dirs: Iterable<string>): Set<string> => new Set([...dirs].map((d) => (packages.get(d) as LocalPackage).name));
    out["Cargo.lock"] = normalizeLock(lockDoc, nameOf(kept), nameOf(masking.maskedDirs));

    const extras = [...EXTRA_FILES];
    if (opts.dockerfile !== undefined) {
        const dockerfile = joinInside("", opts.dockerfile);
        if (dockerfile === undefined || !files.has(dockerfile)) {
            throw new WarmrunError(`${inRoot(label, opts.dockerfile)} is missing: give the path of the Dockerfile relative to the workspace root`);
        }
        extras.push(dockerfile);
    }
    const extraTexts = await Promise.all(extras.map((p) => (files.has(p) ? source.read(p) : Promise.resolve(undefined))));
    extras.forEach((p, i) => {
        const text = extraTexts[i];
        if (text !== undefined) out[p] = text;
    });

    const recipeMembers = [...kept]
        .sort(byString)
        .map((dir) => ({ name: (packages.get(dir) as LocalPackage).name, dir, targets: targets.get(dir) ?? [] }));
    return { files: out, members: recipeMembers };
}

/** The build context that compiles only the dependencies: the recipe's files plus a stub per target. */
export function skeleton(recipe: CargoRecipe): Record<string, string> {
    const files: Record<string, string> = {};
    for (const member of recipe.members) {
        for (const t of member.targets) {
            const p = joinInside(member.dir, t.path);
            if (p !== undefined) files[p] = t.kind === "lib" ? "" : DUMMY_MAIN;
        }
    }
    return { ...files, ...recipe.files };
}

/**
 * The key entries of a recipe: one per file of its skeleton, so a target appearing or going away
 * changes the key along with every normalized file.
 */
export function recipeEntries(recipe: CargoRecipe): FileEntry[] {
    return Object.entries(skeleton(recipe))
        .map(([p, text]) => ({ path: p, sha256: sha256Hex(text), executable: false }))
        .sort((a, b) => byString(a.path, b.path));
}

/** The key material of a dependencies image built from a recipe. */
export function cargoDepsKeyMaterial(recipe: CargoRecipe, opts: { bin?: string } = {}): KeyMaterial {
    return { kind: CARGO_DEPS_KIND, recipeVersion: CARGO_RECIPE_VERSION, files: recipeEntries(recipe), params: { bin: opts.bin ?? null }, upstream: {} };
}
