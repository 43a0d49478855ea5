// Reading a workspace: its files from a directory or from a commit of a git repository (RecipeSource),
// and its local packages (members, [patch] crates and what they reach by path).
import * as fs from "fs";
import * as path from "path";
import { execFile, spawn } from "child_process";
import fg from "fast-glob";
import { WarmrunError } from "../core/errors";
import { hashFileStream, StatCache } from "../core/fileset";
import { byString, Context, dependencyTables, inRoot, memberGlobToRegExp, isTable, joinInside, LocalPackage, localDirOf, manifestPathOf, normalizeRel, parseTomlFile, stringOf, Table } from "./manifest";

/** The files of a workspace, from a directory or from a commit. */
export interface RecipeSource {
    /** Text of a file, by path relative to the workspace root; undefined when there is no such file. */
    read(relPath: string): Promise<string | undefined>;
    /** Every file path under the root, relative, with forward slashes. */
    list(): Promise<string[]>;
    /** How messages name the root, e.g. the directory or `repo@commit`. */
    readonly label?: string;
    /**
     * A digest of a file's content, where the source can give one without reading the file (a stat
     * cache, a git blob id); undefined when there is no such file.
     */
    hash?(relPath: string): Promise<string | undefined>;
}
// ---------------------------------------------------------------------------------------------
// Sources

const MISSING_FILE_CODES = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

export interface DirSourceOptions {
    /** Gives `hash`: content digests by (path, size, mtime, inode), a file read only when it changed. */
    statCache?: StatCache;
}

/**
 * The files under a directory, without target/ (build output) and .git/. The listing is made once per
 * source: a source is a snapshot of one computation.
 */
export function dirSource(root: string, opts: DirSourceOptions = {}): RecipeSource {
    let listed: Promise<string[]> | undefined;
    const cache = opts.statCache;
    return {
        label: root,
        list: () =>
            (listed ??= fg("**/*", {
                cwd: root,
                dot: true,
                onlyFiles: true,
                followSymbolicLinks: false,
                ignore: ["target/**", "**/.git/**"],
            }).then((found) => found.sort(byString))),
        hash:
            cache &&
            (async (relPath) => {
                const rel = joinInside("", relPath);
                if (rel === undefined) return undefined;
                const abs = path.resolve(root, rel);
                let st: fs.Stats;
                try {
                    st = fs.statSync(abs);
                } catch (e) {
                    if (MISSING_FILE_CODES.has((e as NodeJS.ErrnoException).code ?? "")) return undefined;
                    throw e;
                }
                if (!st.isFile()) return undefined;
                const known = cache.lookup(abs, st);
                if (known !== undefined) return known;
                const sha = await hashFileStream(abs);
                cache.reads++;
                cache.remember(abs, st, sha);
                return sha;
            }),
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
        hash: async (relPath) => (await files()).get(normalizeRel(relPath)),
    };
}
// ---------------------------------------------------------------------------------------------
// Local packages

export function describePackage(ctx: Context, doc: Table, dir: string): LocalPackage {
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
export function memberDirs(ctx: Context, workspace: Table, manifestDirs: string[]): string[] {
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
export function patchDirs(ctx: Context, root: Table): string[] {
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
export async function loadPackages(
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

export function localClosure(starts: Iterable<string>, packages: Map<string, LocalPackage>): Set<string> {
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
export function needingExternal(packages: Map<string, LocalPackage>): Set<string> {
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
