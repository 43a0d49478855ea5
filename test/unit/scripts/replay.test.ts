import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { formatTable, parseArgs, pathFilterMatches, replay, ReplayOptions, ReplayResult, summaryLine } from "../../../scripts/replay";
import { entry, writeIndexCache } from "../../support/cargoWorld";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

// A sparse registry of its own, whose entries the tests write into the cache: no network is used.
const REGISTRY_URL = "https://index.example.com/cargo/";
const REGISTRY = `sparse+${REGISTRY_URL}`;
const ITOA = ["1.0.11", "1.0.12"].map((v) => ({ ...entry("itoa", [], { std: [] }, v), cksum: v.replace(/\./g, "").padEnd(64, "a") }));

/** A cache directory holding the registry's entries. */
function indexCache(): string {
    const dir = tempDir("warmrun-replay-cache-");
    writeIndexCache(dir, REGISTRY_URL, ITOA);
    return dir;
}

function lock(opts: { itoa?: string; local?: string; notes?: boolean } = {}): string {
    const local = opts.local ?? "0.1.0";
    const itoa = ITOA.find((e) => e.vers === (opts.itoa ?? "1.0.11"))!;
    const entries = [
        `[[package]]\nname = "app"\nversion = "${local}"\ndependencies = [\n "core",\n]\n`,
        `[[package]]\nname = "core"\nversion = "${local}"\ndependencies = [\n "itoa",\n]\n`,
        `[[package]]\nname = "itoa"\nversion = "${itoa.vers}"\nsource = "${REGISTRY}"\nchecksum = "${itoa.cksum}"\n`,
    ];
    if (opts.notes) entries.push('[[package]]\nname = "notes"\nversion = "0.1.0"\n');
    return `version = 4\n\n${entries.join("\n")}`;
}

const ROOT = '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n[workspace.package]\nversion = "0.1.0"\n';
const CORE = '[package]\nname = "core"\nversion.workspace = true\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n\n[features]\nfast = []\n';
const APP = '[package]\nname = "app"\nversion.workspace = true\nedition = "2021"\n\n[dependencies]\ncore = { path = "../core" }\n';

interface Step {
    subject: string;
    write?: Record<string, string>;
    remove?: string[];
    warmrun: "rebuild" | "keep";
    pathFilter: "rebuild" | "keep";
}

/** The history, with the answers each commit must get. */
function history(prefix: string): Step[] {
    const p = (files: Record<string, string>): Record<string, string> =>
        Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}${k}`, v]));
    return [
        {
            subject: "initial workspace",
            write: p({
                "Cargo.toml": ROOT,
                "Cargo.lock": lock(),
                "Dockerfile": "FROM rust:1.85\n",
                "crates/core/Cargo.toml": CORE,
                "crates/core/src/lib.rs": "pub fn f() {}\n",
                "crates/app/Cargo.toml": APP,
                "crates/app/src/main.rs": "fn main() {}\n",
            }),
            warmrun: "rebuild",
            pathFilter: "rebuild",
        },
        { subject: "edit source", write: p({ "crates/core/src/lib.rs": "pub fn f() -> u8 { 1 }\n" }), warmrun: "keep", pathFilter: "keep" },
        { subject: "bump itoa", write: p({ "Cargo.lock": lock({ itoa: "1.0.12" }) }), warmrun: "rebuild", pathFilter: "rebuild" },
        {
            subject: "release 0.2.0",
            write: p({ "Cargo.toml": ROOT.replace("0.1.0", "0.2.0"), "Cargo.lock": lock({ itoa: "1.0.12", local: "0.2.0" }) }),
            warmrun: "keep",
            pathFilter: "rebuild",
        },
        { subject: "edit README", write: { "README.md": "# demo\n" }, warmrun: "keep", pathFilter: "keep" },
        // Declared, not enabled: nothing new is compiled.
        { subject: "add a feature", write: p({ "crates/core/Cargo.toml": CORE.replace("fast = []", 'fast = []\nstd = ["itoa/std"]') }), warmrun: "keep", pathFilter: "rebuild" },
        {
            subject: "enable it by default",
            write: p({ "crates/core/Cargo.toml": CORE.replace("fast = []", 'default = ["std"]\nfast = []\nstd = ["itoa/std"]') }),
            warmrun: "rebuild",
            pathFilter: "rebuild",
        },
        { subject: "comment the manifest", write: p({ "crates/app/Cargo.toml": `# the binary\n${APP}` }), warmrun: "keep", pathFilter: "rebuild" },
        {
            subject: "add a dependency-free crate",
            write: p({
                "crates/notes/Cargo.toml": '[package]\nname = "notes"\nversion = "0.1.0"\n',
                "crates/notes/src/lib.rs": "",
                "Cargo.lock": lock({ itoa: "1.0.12", local: "0.2.0", notes: true }),
            }),
            warmrun: "keep",
            pathFilter: "rebuild",
        },
        { subject: "change the Dockerfile", write: p({ "Dockerfile": "FROM rust:1.86\n" }), warmrun: "rebuild", pathFilter: "rebuild" },
        { subject: "lose the lock", remove: [`${prefix}Cargo.lock`], warmrun: "rebuild", pathFilter: "rebuild" },
        { subject: "restore the lock", write: p({ "Cargo.lock": lock({ itoa: "1.0.12", local: "0.2.0", notes: true }) }), warmrun: "rebuild", pathFilter: "rebuild" },
        { subject: "edit outside the workspace", write: { "docs/Cargo.toml": "# not ours\n" }, warmrun: "keep", pathFilter: prefix ? "keep" : "rebuild" },
    ];
}

function gitIn(dir: string): (...args: string[]) => string {
    return (...args) => execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@e", ...args], { encoding: "utf8" }).trim();
}

/** A repository with one commit per step; returns its directory and the commit ids. */
function makeRepo(steps: Step[]): { dir: string; commits: string[] } {
    const dir = tempDir("warmrun-replay-");
    const git = gitIn(dir);
    git("init", "-q", "-b", "main");
    const commits: string[] = [];
    for (const step of steps) {
        if (step.write) writeTree(dir, step.write);
        for (const rel of step.remove ?? []) fs.rmSync(path.join(dir, rel));
        git("add", "-A");
        git("commit", "-q", "-m", step.subject);
        commits.push(git("rev-parse", "HEAD"));
    }
    return { dir, commits };
}

function answers(result: ReplayResult): Array<[string, string, string]> {
    return result.rows.map((r) => [r.subject, r.warmrun, r.pathFilter]);
}

describe("replay", function () {
    // Each test makes a repository of a dozen commits and runs git a few times per commit.
    this.timeout(30000);
    after(removeTempDirs);
    const offline = (more: ReplayOptions = {}): ReplayOptions => ({ cacheDir: indexCache(), offline: true, ...more });

    it("answers per commit for warmrun and the path filter, with totals", async () => {
        const steps = history("");
        const repo = makeRepo(steps);
        const result = await replay(repo.dir, "HEAD", offline({ dockerfile: "Dockerfile" }));
        assert.deepEqual(answers(result), steps.map((s) => [s.subject, s.warmrun, s.pathFilter]));
        assert.deepEqual(result.rows.map((r) => r.commit), repo.commits);
        assert.deepEqual(result.totals, { commits: 13, warmrunRebuilds: 6, pathFilterRebuilds: 11 });
        assert.equal(summaryLine(result.totals), "warmrun rebuilds 6 of 13 commits; the path-filter rule rebuilds 11");
        assert.ok(result.rows.every((r) => r.warnings === undefined), "every commit's crates are resolved from the cached index");

        const bySubject = new Map(result.rows.map((r) => [r.subject, r]));
        assert.equal(bySubject.get("initial workspace")?.warmrunReason, "no parent commit to compare with");
        assert.equal(bySubject.get("bump itoa")?.warmrunReason, "itoa 1.0.11 -> 1.0.12");
        assert.equal(bySubject.get("enable it by default")?.warmrunReason, "itoa +std");
        assert.equal(bySubject.get("change the Dockerfile")?.warmrunReason, "changed file:@containerfile");
        assert.equal(bySubject.get("lose the lock")?.key, undefined);
        assert.match(bySubject.get("lose the lock")?.warmrunReason ?? "", /Cargo\.lock is missing: run `cargo generate-lockfile`/);
        assert.equal(bySubject.get("restore the lock")?.warmrunReason, "the parent commit has no key");
        assert.equal(bySubject.get("release 0.2.0")?.pathFilterReason, "changed Cargo.lock, Cargo.toml");
        assert.equal(bySubject.get("edit source")?.key, bySubject.get("initial workspace")?.key);
    });

    it("compares the first commit of a range with its parent", async () => {
        const repo = makeRepo(history(""));
        const result = await replay(repo.dir, `${repo.commits[0]}..${repo.commits[3]}`, offline());
        assert.deepEqual(answers(result), [
            ["edit source", "keep", "keep"],
            ["bump itoa", "rebuild", "rebuild"],
            ["release 0.2.0", "keep", "rebuild"],
        ]);
        assert.deepEqual(result.totals, { commits: 3, warmrunRebuilds: 1, pathFilterRebuilds: 2 });
    });

    it("works on a workspace in a subdirectory and ignores changes outside it", async () => {
        const steps = history("rust/");
        const repo = makeRepo(steps);
        const result = await replay(repo.dir, "HEAD", offline({ root: "rust", dockerfile: "Dockerfile" }));
        assert.deepEqual(answers(result), steps.map((s) => [s.subject, s.warmrun, s.pathFilter]));
        assert.deepEqual(result.totals, { commits: 13, warmrunRebuilds: 6, pathFilterRebuilds: 10 });
    });

    it("scopes to one binary with bin", async () => {
        const repo = makeRepo(history(""));
        const result = await replay(repo.dir, "HEAD", offline({ bin: "app" }));
        // Without the Dockerfile in the recipe, its change keeps the key.
        assert.equal(result.rows.find((r) => r.subject === "change the Dockerfile")?.warmrun, "keep");
        assert.equal(result.totals.warmrunRebuilds, 5);
        assert.ok(result.rows.every((r) => r.warmrun === "keep" || r.warmrunReason !== "same key"));
    });

    it("prints a table with one line per commit and the totals", async () => {
        const repo = makeRepo(history("").slice(0, 3));
        const text = formatTable(await replay(repo.dir, "HEAD", offline()));
        const lines = text.split("\n");
        assert.match(lines[0], /^commit\s+subject\s+warmrun\s+path filter\s+why \(warmrun\)$/);
        assert.match(lines[2], new RegExp(`^${repo.commits[1].slice(0, 7)}\\s+edit source\\s+keep\\s+keep\\s+same key$`));
        assert.equal(lines[lines.length - 1], "warmrun rebuilds 2 of 3 commits; the path-filter rule rebuilds 2");
    });

    it("walks the first-parent chain by default, every commit with --all; the totals count the commits evaluated", async () => {
        const repo = makeRepo(history("").slice(0, 1));
        const git = gitIn(repo.dir);
        git("checkout", "-q", "-b", "topic");
        writeTree(repo.dir, { "Cargo.lock": lock({ itoa: "1.0.12" }) });
        git("commit", "-qam", "bump itoa on a branch");
        writeTree(repo.dir, { "crates/core/src/lib.rs": "pub fn f() -> u8 { 2 }\n" });
        git("commit", "-qam", "edit source on the branch");
        git("checkout", "-q", "main");
        writeTree(repo.dir, { "README.md": "# demo\n" });
        git("add", "-A");
        git("commit", "-qm", "edit README");
        git("merge", "-q", "--no-ff", "-m", "merge topic", "topic");

        const chain = await replay(repo.dir, "HEAD", offline());
        assert.deepEqual(answers(chain), [
            ["initial workspace", "rebuild", "rebuild"],
            ["edit README", "keep", "keep"],
            ["merge topic", "rebuild", "rebuild"],
        ]);
        assert.equal(chain.rows[2].warmrunReason, "itoa 1.0.11 -> 1.0.12");
        assert.deepEqual(chain.totals, { commits: 3, warmrunRebuilds: 2, pathFilterRebuilds: 2 });

        const all = await replay(repo.dir, "HEAD", offline({ all: true }));
        assert.deepEqual(all.rows.map((r) => r.subject).sort(), ["bump itoa on a branch", "edit README", "edit source on the branch", "initial workspace", "merge topic"]);
        assert.equal(all.rows.find((r) => r.subject === "bump itoa on a branch")?.warmrun, "rebuild");
        assert.equal(all.rows.find((r) => r.subject === "edit source on the branch")?.warmrun, "keep");
        assert.deepEqual(all.totals, { commits: 5, warmrunRebuilds: 3, pathFilterRebuilds: 3 });
    });

    it("without index entries, keys each commit by its lock and manifests and says each warning once", async () => {
        const repo = makeRepo(history("").slice(0, 4));
        const result = await replay(repo.dir, "HEAD", { cacheDir: tempDir("warmrun-replay-empty-"), offline: true });
        assert.deepEqual(answers(result).map((a) => a[1]), ["rebuild", "keep", "rebuild", "keep"]);
        assert.equal(result.rows[2].warmrunReason, "Cargo.lock changed");
        const warnings = formatTable(result).split("\n").filter((l) => l.startsWith("warning"));
        assert.deepEqual(warnings.map((w) => /itoa (\S+) could not be fetched/.exec(w)?.[1]), ["1.0.11", "1.0.12"]);
        for (const w of warnings) assert.match(w, /^warning \(2 commits\): .*@<commit>: the index entry of itoa \S+ could not be fetched \(offline\); the key falls back/);
    });

    it("parses the command line", () => {
        assert.deepEqual(
            parseArgs(["repo", "a..b", "--root", "rust", "--bin", "app", "--dockerfile", "ci/Dockerfile", "--all", "--cargo-args", "--locked --release", "--target-triple", "aarch64-unknown-linux-gnu", "--cache-dir", "c", "--offline", "--json"]),
            {
                repo: "repo",
                range: "a..b",
                opts: { root: "rust", bin: "app", dockerfile: "ci/Dockerfile", all: true, cargoArgs: ["--locked", "--release"], targetTriple: "aarch64-unknown-linux-gnu", cacheDir: "c", offline: true },
                json: true,
            },
        );
        assert.throws(() => parseArgs(["repo"]), /usage: npm run replay/);
        assert.throws(() => parseArgs(["repo", "r", "--bin"]), /--bin needs a value/);
        assert.throws(() => parseArgs(["repo", "r", "--nope"]), /unknown option --nope/);
    });

    it("path filter matches manifests, lock, Cargo config, toolchain and the Dockerfile only", () => {
        for (const p of ["Cargo.toml", "crates/a/Cargo.toml", "Cargo.lock", ".cargo/config", ".cargo/config.toml", "rust-toolchain", "rust-toolchain.toml"]) {
            assert.ok(pathFilterMatches(p), p);
        }
        assert.ok(pathFilterMatches("ci/Dockerfile", "./ci/Dockerfile"));
        for (const p of ["src/main.rs", "README.md", "Dockerfile", ".cargo/credentials.toml", "Cargo.toml.orig"]) {
            assert.ok(!pathFilterMatches(p), p);
        }
    });
});
