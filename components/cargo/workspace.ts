// Reading a workspace: its files from a directory or from a commit of a git repository (RecipeSource),
// and its local packages (members, [patch] crates and what they reach by path).
import * as fs from "fs";
import * as path from "path";
import { ChildProcessWithoutNullStreams, execFile, spawn } from "child_process";
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

/**
 * The regular files under a directory, relative, sorted: not the build output (`target/` at the root),
 * not `.git/`, no symbolic links (as a commit's tree gives them: regular files only). One synchronous
 * walk: a workspace's few hundred directories take milliseconds, where a glob takes tens.
 */
function listRegularFiles(root: string): string[] {
    const out: string[] = [];
    const visit = (rel: string): void => {
        for (const d of fs.readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true })) {
            const p = rel ? `${rel}/${d.name}` : d.name;
            if (d.isDirectory()) {
                if (d.name !== ".git" && p !== "target") visit(p);
            } else if (d.isFile()) out.push(p);
        }
    };
    visit("");
    return out.sort(byString);
}

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
        list: () => (listed ??= Promise.resolve().then(() => listRegularFiles(root))),
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

/** A file of a commit: its mode (`100644`, `100755`, `120000` for a symbolic link) and blob id. */
export interface TreeFile {
    mode: string;
    id: string;
}

interface Waiting {
    resolve: (object: { type: string; data: Buffer } | undefined) => void;
    reject: (e: unknown) => void;
}

/**
 * The objects of a local repository, read through one long-lived `git cat-file --batch`: blob texts
 * (each read once), and the files of a commit, each tree read once (a commit that changes one manifest
 * reads only the trees on its path). The process runs only while reads are pending, so it never keeps
 * the program alive; `close` ends it at once.
 */
export class GitObjects {
    private child?: ChildProcessWithoutNullStreams;
    private waiting: Waiting[] = [];
    private chunks: Buffer[] = [];
    private buffered = 0;
    private stderr = "";
    private readonly texts = new Map<string, Promise<string>>();
    private readonly trees = new Map<string, Promise<Array<[string, TreeFile]>>>();
    private readonly commits = new Map<string, Promise<Map<string, TreeFile>>>();

    constructor(readonly repoDir: string) {}

    private start(): ChildProcessWithoutNullStreams {
        const child = spawn("git", ["-C", this.repoDir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
        child.stdout.on("data", (chunk: Buffer) => {
            this.chunks.push(chunk);
            this.buffered += chunk.length;
            this.drain();
        });
        child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
        const fail = (why: string): void => {
            if (this.child === child) this.child = undefined;
            const e = new WarmrunError(`git cat-file --batch in ${this.repoDir}: ${why}`);
            for (const w of this.waiting.splice(0)) w.reject(e);
        };
        child.on("error", (e) => fail(e.message));
        child.on("close", (code) => fail(this.stderr.trim() || `exited with ${code}`));
        return child;
    }

    /** Answers the oldest waiting read once its whole object is buffered. */
    private drain(): void {
        while (this.waiting.length && this.buffered > 0) {
            const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
            this.chunks = [data];
            const eol = data.indexOf(10);
            if (eol < 0) return;
            const [, type, size] = data.toString("utf8", 0, eol).split(" ");
            let end = eol + 1;
            let object: { type: string; data: Buffer } | undefined;
            if (type !== "missing" && size !== undefined) {
                end = eol + 1 + Number(size) + 1;
                if (data.length < end) return;
                object = { type, data: data.subarray(eol + 1, end - 1) };
            }
            this.chunks = end < data.length ? [data.subarray(end)] : [];
            this.buffered = data.length - end;
            (this.waiting.shift() as Waiting).resolve(object);
        }
        if (this.waiting.length === 0) this.setRef(false);
    }

    private setRef(on: boolean): void {
        const c = this.child;
        if (!c) return;
        for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref(): void; unref(): void }>) {
            if (on) h.ref();
            else h.unref();
        }
    }

    /** An object by id (or any revision git names), undefined when the repository has none. */
    object(id: string): Promise<{ type: string; data: Buffer } | undefined> {
        this.child ??= this.start();
        this.setRef(true);
        return new Promise((resolve, reject) => {
            this.waiting.push({ resolve, reject });
            this.child?.stdin.write(`${id}\n`);
        });
    }

    /** A blob's text, read once. */
    text(id: string): Promise<string> {
        let t = this.texts.get(id);
        if (!t) {
            t = this.object(id).then((o) => {
                if (!o) throw new WarmrunError(`git object ${id} is missing in ${this.repoDir}`);
                return o.data.toString("utf8");
            });
            this.texts.set(id, t);
        }
        return t;
    }

    /** The files under a tree, by path relative to it (submodules left out). */
    private tree(id: string): Promise<Array<[string, TreeFile]>> {
        let t = this.trees.get(id);
        if (!t) {
            t = (async () => {
                const o = await this.object(id);
                if (!o || o.type !== "tree") throw new WarmrunError(`git tree ${id} is missing in ${this.repoDir}`);
                const idBytes = id.length / 2;
                const entries: Array<Promise<Array<[string, TreeFile]>>> = [];
                for (let pos = 0; pos < o.data.length; ) {
                    const space = o.data.indexOf(32, pos);
                    const nul = o.data.indexOf(0, space);
                    const mode = o.data.toString("utf8", pos, space);
                    const name = o.data.toString("utf8", space + 1, nul);
                    const child = o.data.toString("hex", nul + 1, nul + 1 + idBytes);
                    pos = nul + 1 + idBytes;
                    if (mode === "40000") entries.push(this.tree(child).then((sub) => sub.map(([p, f]) => [`${name}/${p}`, f] as [string, TreeFile])));
                    else if (mode !== "160000") entries.push(Promise.resolve([[name, { mode, id: child }]]));
                }
                return (await Promise.all(entries)).flat();
            })();
            this.trees.set(id, t);
        }
        return t;
    }

    /** Path -> file of every blob of a commit (symbolic links included, submodules not). */
    files(commit: string): Promise<Map<string, TreeFile>> {
        let f = this.commits.get(commit);
        if (!f) {
            f = (async () => {
                const o = await this.object(commit);
                const m = o && o.type === "commit" ? /^tree ([0-9a-f]+)$/m.exec(o.data.toString("utf8")) : null;
                if (!m) throw new WarmrunError(`git commit ${commit} is missing in ${this.repoDir}`);
                return new Map(await this.tree(m[1]));
            })();
            this.commits.set(commit, f);
        }
        return f;
    }

    close(): void {
        this.child?.stdin.end();
        this.setRef(false);
    }
}

export interface GitTreeOptions {
    /** Directory of the workspace inside the repository (default its top level). */
    root?: string;
    /** The repository's objects, shared between the sources of many commits so each is read once. */
    objects?: GitObjects;
}

/** The files of a commit of a local repository, under `opts.root`; reads only the files asked for. */
export function gitTreeSource(repoDir: string, commit: string, opts: GitTreeOptions = {}): RecipeSource {
    const root = normalizeRel(opts.root ?? "");
    const prefix = root ? `${root}/` : "";
    const objects = opts.objects ?? new GitObjects(repoDir);
    let tree: Promise<Map<string, string>> | undefined;
    const files = (): Promise<Map<string, string>> =>
        (tree ??= objects.files(commit).then((all) => {
            // Regular files only: symbolic links and submodules are not files of the recipe.
            const under = new Map<string, string>();
            for (const [p, f] of all) if (p.startsWith(prefix) && (f.mode === "100644" || f.mode === "100755")) under.set(p.slice(prefix.length), f.id);
            return under;
        }));
    return {
        label: `${repoDir}@${commit.slice(0, 12)}${root ? `:${root}` : ""}`,
        list: async () => [...(await files()).keys()].sort(byString),
        read: async (relPath) => {
            const id = (await files()).get(normalizeRel(relPath));
            return id === undefined ? undefined : objects.text(id);
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
