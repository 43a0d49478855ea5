// A memo of compile keys (on disk, `<cacheDir>/cargo-key/<digest>.json`, or in memory), so a warm
// preview of an unchanged workspace neither parses its manifests nor resolves its features again, and a
// replay computes a commit only when its manifests, lock or config changed. The digest covers
// everything the computation reads: the workspace's file list, the content digest of every manifest, of
// Cargo.lock, of the cargo config and toolchain files (from the stat cache: stats, no reads), the
// options, and the code of components/cargo itself; registry index entries of locked versions never
// change. Only complete results are kept (never the offline fallback), the newest MEMO_KEEP of them.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { canonicalJson, sha256Hex } from "../core/keys";
import { byString } from "./manifest";
import { RecipeSource } from "./workspace";

const MEMO_DIR = "cargo-key";
const MEMO_KEEP = 64;
/** Files besides the manifests that the computation reads. */
const EXTRA_INPUTS = new Set(["Cargo.lock", ".cargo/config", ".cargo/config.toml", "rust-toolchain", "rust-toolchain.toml"]);

let codeDigest: string | undefined;

/** The digest of this folder's code: a memo written by other code is not trusted. */
function resolverCode(): string {
    if (codeDigest === undefined) {
        const h = crypto.createHash("sha256");
        for (const f of fs.readdirSync(__dirname).filter((n) => /\.(ts|js)$/.test(n)).sort(byString)) {
            h.update(`${f}\0`).update(fs.readFileSync(path.join(__dirname, f))).update("\0");
        }
        codeDigest = h.digest("hex");
    }
    return codeDigest;
}

/** The memo's digest of a source and options; undefined when the source cannot give content digests. */
export async function memoDigest(source: RecipeSource, options: unknown): Promise<string | undefined> {
    const hash = source.hash;
    if (hash === undefined) return undefined;
    const files = await source.list();
    const inputs = files.filter((f) => f === "Cargo.toml" || f.endsWith("/Cargo.toml") || EXTRA_INPUTS.has(f));
    const digests = await Promise.all(inputs.map((f) => hash(f)));
    return sha256Hex(canonicalJson({ code: resolverCode(), files, digests: Object.fromEntries(inputs.map((f, i) => [f, digests[i] ?? null])), options }));
}

/** Where complete results are kept, by memoDigest. */
export interface KeyMemo<T> {
    get(digest: string): T | undefined;
    set(digest: string, value: T): void;
}

/** A memo for one process, e.g. a replay's commits (a source-only commit costs one digest). */
export function memoryMemo<T>(): KeyMemo<T> {
    const map = new Map<string, T>();
    return { get: (d) => map.get(d), set: (d, v) => void map.set(d, v) };
}

/**
 * The memo on disk, `<cacheDir>/cargo-key/<digest>.json`, the newest MEMO_KEEP kept (a read counts as
 * use). Best effort: a memo that cannot be read or written costs a recomputation, never a wrong key.
 */
export function diskMemo<T>(cacheDir: string): KeyMemo<T> {
    const dir = path.join(cacheDir, MEMO_DIR);
    const fileOf = (digest: string): string => path.join(dir, `${digest}.json`);
    return {
        get: (digest) => {
            try {
                const value = JSON.parse(fs.readFileSync(fileOf(digest), "utf8")) as T;
                const now = new Date();
                fs.utimesSync(fileOf(digest), now, now);
                return value;
            } catch {
                return undefined;
            }
        },
        set: (digest, value) => {
            try {
                fs.mkdirSync(dir, { recursive: true });
                const tmp = `${fileOf(digest)}.${process.pid}.tmp`;
                fs.writeFileSync(tmp, JSON.stringify(value));
                fs.renameSync(tmp, fileOf(digest));
                const all = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
                if (all.length > MEMO_KEEP) {
                    const aged = all.map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => b.t - a.t);
                    for (const { n } of aged.slice(MEMO_KEEP)) fs.rmSync(path.join(dir, n), { force: true });
                }
            } catch {
                // best effort
            }
        },
    };
}
