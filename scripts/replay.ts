// Replays the history of a repository and says, per commit, whether its Rust dependencies image is rebuilt:
// by the CargoDepsImage key (cargo/depsKey.ts, the function the component calls), and by the path-filter
// rule CI setups use today. It walks the first-parent chain of the range (what CI compares a push with),
// or every commit with --all. Manifests and Cargo.lock are read from each commit; registry index entries
// from the cache directory (fetched once when missing).
//
//   npm run replay -- <repo> <range> [--all] [--root DIR] [--bin NAME] [--dockerfile PATH]
//                     [--cargo-args "ARGS"] [--target-triple TRIPLE] [--cache-dir DIR] [--offline] [--json]
import * as path from "path";
import { git, GitObjects, gitTreeSource } from "../components/cargo/workspace";
import { cargoDepsKeyMaterial } from "../components/cargo/depsKey";
import { SparseIndex } from "../components/cargo/registryIndex";
import { memoryMemo } from "../components/cargo/keyMemo";
import { CompileKeyResult } from "../components/cargo/units";
import { computeKey, describeInputChanges, diffInputs, inputSummary, KeyMaterial } from "../components/core/keys";
import { mapLimit } from "../components/core/fileset";
import { WarmrunError } from "../components/core/errors";
import { cargoDepsImage } from "../components/kinds/cargoDepsImage/fields";

export interface ReplayOptions {
    /** Directory of the Cargo workspace inside the repository (default its top level). */
    root?: string;
    bin?: string;
    /** Dockerfile relative to the workspace root; part of the key and of the path filter. */
    dockerfile?: string;
    /** The cook step's `cargo build` arguments (the field cargoArgs; default --locked). */
    cargoArgs?: string[];
    /** The field targetTriple (default x86_64-unknown-linux-gnu). */
    targetTriple?: string;
    /** Where registry index entries are cached (default `.warmrun`, the stack's default warmrun:cacheDir). */
    cacheDir?: string;
    /** Never fetch index entries. */
    offline?: boolean;
    /** Every commit of the range, not only its first-parent chain. */
    all?: boolean;
}

export type Decision = "rebuild" | "keep";

export interface ReplayRow {
    commit: string;
    short: string;
    subject: string;
    /** The key at this commit; absent when it could not be computed. */
    key?: string;
    /** The key's warnings at this commit (e.g. the fallback when index entries could not be had). */
    warnings?: string[];
    warmrun: Decision;
    warmrunReason: string;
    pathFilter: Decision;
    pathFilterReason: string;
}

export interface ReplayTotals {
    /** The commits evaluated (the first-parent chain of the range, or every commit with --all). */
    commits: number;
    warmrunRebuilds: number;
    pathFilterRebuilds: number;
}

export interface ReplayResult {
    rows: ReplayRow[];
    totals: ReplayTotals;
}

type KeyOutcome = { key: string; material: KeyMaterial; warnings: string[] } | { error: string };

interface CommitInfo {
    commit: string;
    /** First parent: what CI compares a push with. */
    parent?: string;
    subject: string;
}

/** The commits of `git rev-list --reverse [--first-parent] <range>`, with first parent and subject. */
async function listCommits(repoDir: string, range: string, all: boolean): Promise<CommitInfo[]> {
    const out = await git(repoDir, ["rev-list", "--reverse", ...(all ? [] : ["--first-parent"]), "--format=%H%x00%P%x00%s", range, "--"]);
    const commits: CommitInfo[] = [];
    for (const line of out.split("\n")) {
        if (line === "" || line.startsWith("commit ")) continue;
        const [commit, parents, subject] = line.split("\0");
        commits.push({ commit, parent: parents.split(" ").filter(Boolean)[0], subject: subject ?? "" });
    }
    return commits;
}

/**
 * Changed paths between a commit and its first parent (every path for a root commit), renames as
 * delete + add, as `git diff --name-only --no-renames` gives them, from the two trees.
 */
async function changedFiles(objects: GitObjects, info: CommitInfo): Promise<string[]> {
    const [mine, parent] = await Promise.all([objects.files(info.commit), info.parent ? objects.files(info.parent) : Promise.resolve(new Map())]);
    const changed: string[] = [];
    for (const [p, f] of mine) {
        const before = parent.get(p);
        if (!before || before.id !== f.id || before.mode !== f.mode) changed.push(p);
    }
    for (const p of parent.keys()) if (!mine.has(p)) changed.push(p);
    return changed.sort();
}

/** The rule of today's CI setups: rebuild when a manifest, the lock, Cargo config, the toolchain file or the Dockerfile changed. */
export function pathFilterMatches(relPath: string, dockerfile?: string): boolean {
    const base = path.posix.basename(relPath);
    if (base === "Cargo.toml" || base === "Cargo.lock" || base === "rust-toolchain" || base === "rust-toolchain.toml") return true;
    if (/(^|\/)\.cargo\/config(\.toml)?$/.test(relPath)) return true;
    return dockerfile !== undefined && relPath === path.posix.normalize(dockerfile.replace(/\\/g, "/"));
}

function decideWarmrun(mine: KeyOutcome, parent: KeyOutcome | undefined): { warmrun: Decision; warmrunReason: string } {
    if ("error" in mine) return { warmrun: "rebuild", warmrunReason: mine.error };
    if (parent === undefined) return { warmrun: "rebuild", warmrunReason: "no parent commit to compare with" };
    if ("error" in parent) return { warmrun: "rebuild", warmrunReason: "the parent commit has no key" };
    if (parent.key === mine.key) return { warmrun: "keep", warmrunReason: "same key" };
    // In the words of the cache report: the changed units, toolchain, rustflags... by name.
    const [olds, news] = [inputSummary(parent.material), inputSummary(mine.material)];
    return { warmrun: "rebuild", warmrunReason: describeInputChanges(diffInputs(olds, news), olds, news, cargoDepsImage.inputs) };
}

/**
 * For each commit of `range`, whether the key differs from its first parent's, and whether the
 * path-filter rule fires. A commit whose key cannot be computed counts as a rebuild.
 */
export async function replay(repoDir: string, range: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
    const root = path.posix.normalize((opts.root ?? ".").replace(/\\/g, "/")).replace(/\/+$/, "");
    const prefix = root === "." || root === "" ? "" : `${root}/`;
    const commits = await listCommits(repoDir, range, opts.all === true);
    // Git objects and index entries are shared between commits: each is read once per replay.
    const objects = new GitObjects(repoDir);
    const indexes = new Map<string, SparseIndex>();
    // A commit whose manifests, lock, config and file list equal another's is not computed again.
    const memo = memoryMemo<CompileKeyResult>();
    const cacheDir = path.resolve(opts.cacheDir ?? ".warmrun");
    const keys = new Map<string, Promise<KeyOutcome>>();
    const keyAt = (commit: string): Promise<KeyOutcome> => {
        let outcome = keys.get(commit);
        if (!outcome) {
            const source = gitTreeSource(repoDir, commit, { root: prefix, objects });
            // The key CargoDepsImage deploys (cargo/depsKey.ts): a Dockerfile of the workspace's own is
            // the image's Dockerfile, so its text enters the key as the component's does.
            outcome = (async (): Promise<KeyOutcome> => {
                let dockerfileText: string | undefined;
                if (opts.dockerfile !== undefined) {
                    dockerfileText = await source.read(opts.dockerfile);
                    if (dockerfileText === undefined) throw new WarmrunError(`${source.label}/${opts.dockerfile} is missing: give the path of the Dockerfile relative to the workspace root`);
                }
                const { material, warnings } = await cargoDepsKeyMaterial(source, {
                    bin: opts.bin,
                    dockerfileText,
                    cargoArgs: opts.cargoArgs,
                    targetTriple: opts.targetTriple,
                    targetField: "--target-triple",
                    argsField: "--cargo-args",
                    cacheDir,
                    offline: opts.offline,
                    indexes,
                    memo,
                });
                return { key: computeKey(material), material, warnings };
            })().catch((e) => {
                if (e instanceof WarmrunError) return { error: e.message };
                throw e;
            });
            keys.set(commit, outcome);
        }
        return outcome;
    };

    const rows = await mapLimit(commits, 4, async (info): Promise<ReplayRow> => {
        const [mine, parent, changed] = await Promise.all([
            keyAt(info.commit),
            info.parent ? keyAt(info.parent) : Promise.resolve(undefined),
            changedFiles(objects, info),
        ]);
        const matched = changed
            .filter((p) => p.startsWith(prefix))
            .map((p) => p.slice(prefix.length))
            .filter((p) => pathFilterMatches(p, opts.dockerfile));
        return {
            commit: info.commit,
            short: info.commit.slice(0, 7),
            subject: info.subject,
            ...("key" in mine ? { key: mine.key, ...(mine.warnings.length ? { warnings: mine.warnings } : {}) } : {}),
            ...decideWarmrun(mine, parent),
            pathFilter: matched.length ? "rebuild" : "keep",
            pathFilterReason: matched.length ? `changed ${matched.join(", ")}` : "no dependency file changed",
        };
    }).finally(() => objects.close());
    return {
        rows,
        totals: {
            commits: rows.length,
            warmrunRebuilds: rows.filter((r) => r.warmrun === "rebuild").length,
            pathFilterRebuilds: rows.filter((r) => r.pathFilter === "rebuild").length,
        },
    };
}

export function summaryLine(totals: ReplayTotals): string {
    return `warmrun rebuilds ${totals.warmrunRebuilds} of ${totals.commits} commits; the path-filter rule rebuilds ${totals.pathFilterRebuilds}`;
}

/** Each distinct warning once (its commit left out), with how many commits it concerns. */
export function warningLines(result: ReplayResult): string[] {
    const counts = new Map<string, number>();
    for (const r of result.rows) {
        for (const w of r.warnings ?? []) {
            const general = w.split(`@${r.commit.slice(0, 12)}`).join("@<commit>");
            counts.set(general, (counts.get(general) ?? 0) + 1);
        }
    }
    return [...counts].map(([w, n]) => `warning (${n} commit${n === 1 ? "" : "s"}): ${w}`);
}

function clip(text: string, width: number): string {
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** A plain-text table, one commit a line, then the totals. */
export function formatTable(result: ReplayResult): string {
    const header = ["commit", "subject", "warmrun", "path filter", "why (warmrun)"];
    const cells = result.rows.map((r) => [r.short, clip(r.subject, 48), r.warmrun, r.pathFilter, clip(r.warmrunReason, 100)]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]): string => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ");
    return [line(header), ...cells.map(line), "", ...warningLines(result), summaryLine(result.totals)].join("\n");
}

const USAGE =
    "usage: npm run replay -- <repo> <range> [--all] [--root DIR] [--bin NAME] [--dockerfile PATH] [--cargo-args ARGS] [--target-triple TRIPLE] [--cache-dir DIR] [--offline] [--json]";

export function parseArgs(argv: string[]): { repo: string; range: string; opts: ReplayOptions; json: boolean } {
    const positional: string[] = [];
    const opts: ReplayOptions = {};
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = (): string => {
            const v = argv[++i];
            if (v === undefined) throw new WarmrunError(`${arg} needs a value; ${USAGE}`);
            return v;
        };
        if (arg === "--json") json = true;
        else if (arg === "--all") opts.all = true;
        else if (arg === "--offline") opts.offline = true;
        else if (arg === "--cargo-args") opts.cargoArgs = value().split(/\s+/).filter(Boolean);
        else if (arg === "--target-triple") opts.targetTriple = value();
        else if (arg === "--cache-dir") opts.cacheDir = value();
        else if (arg === "--root") opts.root = value();
        else if (arg === "--bin") opts.bin = value();
        else if (arg === "--dockerfile") opts.dockerfile = value();
        else if (arg.startsWith("--")) throw new WarmrunError(`unknown option ${arg}; ${USAGE}`);
        else positional.push(arg);
    }
    if (positional.length !== 2) throw new WarmrunError(USAGE);
    return { repo: positional[0], range: positional[1], opts, json };
}

async function main(): Promise<void> {
    try {
        const args = parseArgs(process.argv.slice(2));
        const result = await replay(args.repo, args.range, args.opts);
        process.stdout.write(args.json ? `${JSON.stringify({ ...result, summary: summaryLine(result.totals) }, null, 2)}\n` : `${formatTable(result)}\n`);
    } catch (e) {
        if (!(e instanceof WarmrunError)) throw e;
        process.stderr.write(`${e.message}\n`);
        process.exitCode = 2;
    }
}

if (require.main === module) {
    void main();
}
