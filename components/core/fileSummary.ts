// A bounded summary of an artifact's input files for the state: one entry per file up to a limit,
// above it one digest per directory (down to the depth that stays within the limit), so a 50,000-file
// context costs the state tens of kilobytes, not megabytes. The full file list of such a key is kept in the cache
// directory, so a diff can still name the files that changed when both lists are there.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import type { FileEntry } from "./keys";

/** Up to this many files, the summary names each one (`file:<path>`). */
export const FILE_ENTRY_LIMIT = 1000;
/** Above FILE_ENTRY_LIMIT, at most this many directory entries (`files:<dir>/`). */
export const DIRECTORY_ENTRY_LIMIT = 200;
/** Deeper directories than this fold into their ancestor at this depth. */
const MAX_DEPTH = 8;
/** Lists kept per artifact in the cache directory; older ones are removed when a new one is written. */
const LISTS_KEPT = 5;

/** The value of one file entry: its sha256, `+x` when executable. */
export function fileValue(f: FileEntry): string {
    return f.executable ? `${f.sha256}+x` : f.sha256;
}

/** The directory entry a file folds into at `depth`: its first `depth` directories (`files:./` for the root's own files). */
function groupOf(filePath: string, depth: number): string {
    let end = -1;
    for (let k = 0; k < depth; k++) {
        const next = filePath.indexOf("/", end + 1);
        if (next < 0) break;
        end = next;
    }
    return end < 0 ? "files:./" : `files:${filePath.slice(0, end + 1)}`;
}

/** The deepest folding whose entries stay within the limit (0: one entry for every file). */
function foldingDepth(files: FileEntry[], limit: number): number {
    let deepest = 0;
    for (const f of files) {
        let n = 0;
        for (let at = f.path.indexOf("/"); at >= 0 && n < MAX_DEPTH; at = f.path.indexOf("/", at + 1)) n++;
        if (n > deepest) deepest = n;
    }
    let best = 0;
    for (let depth = 1; depth <= deepest; depth++) {
        if (new Set(files.map((f) => groupOf(f.path, depth))).size > limit) break;
        best = depth;
    }
    return best;
}

const byPath = (a: FileEntry, b: FileEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The summary's file entries: `file:<path>` -> sha256 for up to `fileLimit` files; above it
 * `files:<dir>/` -> `sha256:<digest of the files under it>;files=<count>`.
 */
export function summarizeFiles(files: FileEntry[], fileLimit = FILE_ENTRY_LIMIT, directoryLimit = DIRECTORY_ENTRY_LIMIT): Record<string, string> {
    const out: Record<string, string> = {};
    if (files.length <= fileLimit) {
        for (const f of files) out[`file:${f.path}`] = fileValue(f);
        return out;
    }
    // File sets come sorted (core/fileset.ts): sorted again only when they are not.
    const sorted = files.every((f, i) => i === 0 || files[i - 1].path < f.path) ? files : [...files].sort(byPath);
    const depth = foldingDepth(sorted, directoryLimit);
    const groups = new Map<string, string[]>();
    for (const f of sorted) {
        const g = groupOf(f.path, depth);
        let lines = groups.get(g);
        if (!lines) groups.set(g, (lines = []));
        lines.push(JSON.stringify([f.path, fileValue(f)]));
    }
    // One JSON line per file, in path order.
    for (const [g, lines] of groups) out[g] = `sha256:${createHash("sha256").update(lines.join("\n")).digest("hex")};files=${lines.length}`;
    return out;
}

/** Whether a summary folded its files into directory entries. */
export function isFolded(summary: Record<string, string>): boolean {
    for (const name in summary) if (name.startsWith("files:")) return true;
    return false;
}

/** `files changed under src/ (501 files, was 500)`: a directory entry's change when no file list says more. */
export function describeFolderChange(entry: string, old: string | undefined, now: string | undefined): string {
    const dir = entry.slice("files:".length);
    const count = (v: string | undefined) => Number(/;files=(\d+)$/.exec(v ?? "")?.[1] ?? NaN);
    if (old === undefined) return `${count(now)} files added under ${dir}`;
    if (now === undefined) return `${count(old)} files removed under ${dir}`;
    const [was, is] = [count(old), count(now)];
    return `files changed under ${dir} (${is === was ? `${is} files` : `${is} files, was ${was}`})`;
}

/** Where the full file list of a folded key is kept: `<dir>/<artifact>/<key>.json`. */
export function fileListPath(dir: string, artifact: string, key: string): string {
    return path.join(dir, artifact, `${key}.json`);
}

/**
 * Keeps the full file list of a folded key (once per key; written whole or not at all) and removes
 * the artifact's older lists beyond the newest few. A failure to write costs only the diff's detail.
 */
export function saveFileList(file: string, files: FileEntry[]): void {
    try {
        if (fs.existsSync(file)) {
            const now = new Date();
            fs.utimesSync(file, now, now);
            return;
        }
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(files.map((f) => [f.path, fileValue(f)]))));
        fs.renameSync(tmp, file);
        const lists = fs
            .readdirSync(path.dirname(file))
            .filter((n) => n.endsWith(".json"))
            .map((n) => path.join(path.dirname(file), n))
            .map((p) => ({ p, t: fs.statSync(p).mtimeMs }))
            .sort((a, b) => b.t - a.t);
        for (const old of lists.slice(LISTS_KEPT)) fs.rmSync(old.p, { force: true });
    } catch {
        // The list only adds detail to a diff's reason.
    }
}

/** A kept file list as summary entries (`file:<path>` -> sha256), or undefined when it is not there. */
export function loadFileList(file: string | undefined): Record<string, string> | undefined {
    if (!file) return undefined;
    try {
        const files = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
        return Object.fromEntries(Object.entries(files).map(([p, v]) => [`file:${p}`, v]));
    } catch {
        return undefined;
    }
}

/**
 * Both summaries with their directory entries replaced by the files of their kept lists, so a diff
 * names files; undefined when a folded side has no list (the diff then speaks of directories).
 */
export function unfoldSummaries(
    olds: Record<string, string>,
    news: Record<string, string>,
    oldList: string | undefined,
    newList: string | undefined,
): { olds: Record<string, string>; news: Record<string, string> } | undefined {
    const unfold = (summary: Record<string, string>, list: string | undefined) => {
        if (!isFolded(summary)) return summary;
        const files = loadFileList(list);
        if (!files) return undefined;
        const rest = Object.fromEntries(Object.entries(summary).filter(([n]) => !n.startsWith("files:") && !n.startsWith("file:")));
        return { ...rest, ...files };
    };
    if (!isFolded(olds) && !isFolded(news)) return undefined;
    const [o, n] = [unfold(olds, oldList), unfold(news, newList)];
    return o && n ? { olds: o, news: n } : undefined;
}
