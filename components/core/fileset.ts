// File sets: globs under a root, Docker-style ignore rules, streamed parallel hashing with a stat cache.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import fg from "fast-glob";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const dockerignore: () => { add(p: string | string[]): any; ignores(p: string): boolean } = require("@balena/dockerignore");
import { FileEntry } from "./keys";

export interface FileSetSpec {
    /** Directory the paths are relative to. */
    root: string;
    /** Globs of files to include, relative to root; default every file. */
    include?: string[];
    /** .dockerignore-style rules (later rules win, `!` re-includes). */
    ignore?: string[];
}

/** What a path is, in a message's words. */
function kindOfEntry(st: fs.Stats): string {
    if (st.isDirectory()) return "a directory";
    if (st.isFile()) return "a file";
    if (st.isFIFO()) return "a FIFO (named pipe)";
    if (st.isSocket()) return "a socket";
    if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
    return "not a file";
}

/** The target of a symbolic link, or undefined when `abs` is none. */
function linkTarget(abs: string): string | undefined {
    try {
        return fs.lstatSync(abs).isSymbolicLink() ? fs.readlinkSync(abs) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Why `abs` cannot serve as the file or directory a setting names, or undefined when it can: it
 * is missing, a dangling symbolic link, the other type (a file where a directory is wanted...), or
 * unreadable. `shown` is the path as the user wrote it. Each answer ends with its fix.
 */
export function pathProblem(abs: string, shown: string, want: "file" | "dir"): string | undefined {
    const wanted = want === "dir" ? "directory" : "file";
    let st: fs.Stats;
    try {
        st = fs.statSync(abs);
    } catch (e: any) {
        if (e.code === "ENOENT" || e.code === "ENOTDIR") {
            const link = linkTarget(abs);
            if (link !== undefined) return `${wanted} ${shown} is a symbolic link to ${link}, which does not exist: fix the link or the path`;
            return `${wanted} ${shown} does not exist: create it or fix the path (relative to the project)`;
        }
        if (e.code === "EACCES" || e.code === "EPERM") return `${wanted} ${shown} cannot be reached (permission denied on a directory above it): make the directories on its path searchable by the user running pulumi (chmod a+x)`;
        if (e.code === "ELOOP") return `${wanted} ${shown} is a loop of symbolic links: fix the links or the path`;
        return `${wanted} ${shown} cannot be read (${e.code ?? e.message}): fix the path`;
    }
    if (want === "dir" && !st.isDirectory()) return `${shown} is ${kindOfEntry(st)}, not a directory: give the directory${st.isFile() ? ` (e.g. ${path.dirname(shown)})` : ""}`;
    if (want === "file" && !st.isFile()) return `${shown} is ${kindOfEntry(st)}, not a regular file: give the path of a file${st.isDirectory() ? " in it" : ""}`;
    try {
        if (want === "dir") fs.closeSync(fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY));
        else fs.closeSync(fs.openSync(abs, "r"));
    } catch (e: any) {
        if (e.code === "EACCES" || e.code === "EPERM") return `${wanted} ${shown} cannot be read (permission denied): make it readable by the user running pulumi (chmod a+r${want === "dir" ? "X" : ""})`;
        return `${wanted} ${shown} cannot be read (${e.code ?? e.message}): fix the path`;
    }
    return undefined;
}

/** Parses the text of a .dockerignore file into rules. */
export function parseIgnoreFile(text: string): string[] {
    return text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"));
}

export function makeIgnoreMatcher(rules: string[]): (relPath: string) => boolean {
    if (rules.length === 0) return () => false;
    const ig = dockerignore().add(rules);
    return (relPath: string) => ig.ignores(relPath);
}

/** The sorted relative paths (forward slashes) of the regular files a spec selects. */
export async function listFiles(spec: FileSetSpec): Promise<string[]> {
    const include = spec.include && spec.include.length ? spec.include : ["**/*"];
    const found = await fg(include, {
        cwd: spec.root,
        dot: true,
        onlyFiles: true,
        followSymbolicLinks: false,
        unique: true,
    });
    const ignored = makeIgnoreMatcher(spec.ignore ?? []);
    return found.filter((p) => !ignored(p)).sort();
}

const RACY_WINDOW_MS = 2000;

interface StatRecord {
    size: number;
    mtimeMs: number;
    ino: number;
    sha256: string;
}

/**
 * Remembers the sha256 of files by (path, size, mtime, inode), so an unchanged file is not read
 * again. It lives in a cache directory; losing it costs a re-read, never a wrong key.
 */
export class StatCache {
    private entries: Record<string, StatRecord> = {};
    private dirty = false;
    reads = 0;
    hits = 0;

    constructor(private readonly file?: string) {
        if (file && fs.existsSync(file)) {
            try {
                this.entries = JSON.parse(fs.readFileSync(file, "utf8"));
            } catch {
                this.entries = {};
            }
        }
    }

    lookup(absPath: string, st: fs.Stats): string | undefined {
        const r = this.entries[absPath];
        if (r && r.size === st.size && r.mtimeMs === st.mtimeMs && r.ino === st.ino) {
            this.hits++;
            return r.sha256;
        }
        return undefined;
    }

    remember(absPath: string, st: fs.Stats, sha256: string): void {
        // A file written within the last moments could change again within the same mtime tick
        // and keep its size; such "racy" entries are not trusted (as git does).
        if (Date.now() - st.mtimeMs < RACY_WINDOW_MS) return;
        this.entries[absPath] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
        this.dirty = true;
    }

    save(): void {
        if (!this.file || !this.dirty) return;
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        const tmp = `${this.file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(this.entries));
        fs.renameSync(tmp, this.file);
        this.dirty = false;
    }
}

export function hashFileStream(absPath: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const h = createHash("sha256");
        fs.createReadStream(absPath, { highWaterMark: 1 << 20 })
            .on("data", (chunk) => h.update(chunk))
            // A read's error (EACCES, EISDIR...) names no file by itself: it gets the path, for the message.
            .on("error", (e: NodeJS.ErrnoException) => reject(Object.assign(e, { path: e.path ?? absPath })))
            .on("end", () => resolve(h.digest("hex")));
    });
}

/** Runs fn over items with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    });
    await Promise.all(workers);
    return results;
}

/** Hashes relative paths under root into key entries; only content and the owner-exec bit count. */
export async function hashFiles(root: string, relPaths: string[], cache: StatCache, concurrency = 8): Promise<FileEntry[]> {
    // Stats are answered from the kernel's inode cache: one synchronous pass is several times
    // faster than a promise per file, and a warm re-key is nothing but stats.
    const base = path.resolve(root) + path.sep;
    const files = relPaths.map((rel) => {
        const abs = base + rel;
        const st = fs.statSync(abs);
        return { rel, abs, st, sha: cache.lookup(abs, st) };
    });
    await mapLimit(
        files.filter((f) => f.sha === undefined),
        concurrency,
        async (f) => {
            f.sha = await hashFileStream(f.abs);
            cache.reads++;
            cache.remember(f.abs, f.st, f.sha);
        },
    );
    const slashed = path.sep === "/" ? (rel: string) => rel : (rel: string) => rel.split(path.sep).join("/");
    return files.map((f) => ({ path: slashed(f.rel), sha256: f.sha as string, executable: (f.st.mode & 0o100) !== 0 }));
}

export async function hashFileSet(spec: FileSetSpec, cache: StatCache): Promise<FileEntry[]> {
    return hashFiles(spec.root, await listFiles(spec), cache);
}
