import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { formatTable, parseArgs, pathFilterMatches, replay, ReplayResult, summaryLine } from "../../../scripts/replay";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

const REGISTRY = "registry+https://index.example.com/cargo";

function lock(opts: { itoa?: string; local?: string; notes?: boolean } = {}): string {
    const local = opts.local ?? "0.1.0";
    const entries = [
        `[[package]]\nname = "app"\nversion = "${local}"\ndependencies = [\n "core",\n]\n`,
        `[[package]]\nname = "core"\nversion = "${local}"\ndependencies = [\n "itoa",\n]\n`,
        `[[package]]\nname = "itoa"\nversion = "${opts.itoa ?? "1.0.11"}"\nsource = "${REGISTRY}"\nchecksum = "${"a".repeat(64)}"\n`,
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
        { subject: "add a feature", write: p({ "crates/core/Cargo.toml": CORE.replace("fast = []", 'fast = []\nstd = ["itoa/std"]') }), warmrun: "rebuild", pathFilter: "rebuild" },
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

/** A repository with one commit per step; returns its directory and the commit ids. */
function makeRepo(steps: Step[]): { dir: string; commits: string[] } {
    const dir = tempDir("warmrun-replay-");
    const git = (...args: string[]): string => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
    git("init", "-q");
    const commits: string[] = [];
    for (const step of steps) {
        if (step.write) writeTree(dir, step.write);
        for (const rel of step.remove ?? []) fs.rmSync(path.join(dir, rel));
        git("add", "-A");
        git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", step.subject);
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

    it("answers per commit for warmrun and the path filter, with totals", async () => {
        const steps = history("");
        const repo = makeRepo(steps);
        const result = await replay(repo.dir, "HEAD", { dockerfile: "Dockerfile" });
        assert.deepEqual(answers(result), steps.map((s) => [s.subject, s.warmrun, s.pathFilter]));
        assert.deepEqual(result.rows.map((r) => r.commit), repo.commits);
        assert.deepEqual(result.totals, { commits: 12, warmrunRebuilds: 6, pathFilterRebuilds: 10 });
        assert.equal(summaryLine(result.totals), "warmrun rebuilds 6 of 12 commits; the path-filter rule rebuilds 10");

        const bySubject = new Map(result.rows.map((r) => [r.subject, r]));
        assert.equal(bySubject.get("initial workspace")?.warmrunReason, "no parent commit to compare with");
        assert.equal(bySubject.get("bump itoa")?.warmrunReason, "changed file:Cargo.lock");
        assert.equal(bySubject.get("add a feature")?.warmrunReason, "changed file:crates/core/Cargo.toml");
        assert.equal(bySubject.get("lose the lock")?.key, undefined);
        assert.match(bySubject.get("lose the lock")?.warmrunReason ?? "", /Cargo\.lock is missing: run `cargo generate-lockfile`/);
        assert.equal(bySubject.get("restore the lock")?.warmrunReason, "the parent commit has no recipe");
        assert.equal(bySubject.get("release 0.2.0")?.pathFilterReason, "changed Cargo.lock, Cargo.toml");
        assert.equal(bySubject.get("edit source")?.key, bySubject.get("initial workspace")?.key);
    });

    it("compares the first commit of a range with its parent", async () => {
        const repo = makeRepo(history(""));
        const result = await replay(repo.dir, `${repo.commits[0]}..${repo.commits[3]}`);
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
        const result = await replay(repo.dir, "HEAD", { root: "rust", dockerfile: "Dockerfile" });
        assert.deepEqual(answers(result), steps.map((s) => [s.subject, s.warmrun, s.pathFilter]));
        assert.deepEqual(result.totals, { commits: 12, warmrunRebuilds: 6, pathFilterRebuilds: 9 });
    });

    it("scopes to one binary with bin", async () => {
        const repo = makeRepo(history(""));
        const result = await replay(repo.dir, "HEAD", { bin: "app" });
        // Without the Dockerfile in the recipe, its change keeps the key.
        assert.equal(result.rows.find((r) => r.subject === "change the Dockerfile")?.warmrun, "keep");
        assert.equal(result.totals.warmrunRebuilds, 5);
        assert.ok(result.rows.every((r) => r.warmrun === "keep" || r.warmrunReason !== "same key"));
    });

    it("prints a table with one line per commit and the totals", async () => {
        const repo = makeRepo(history("").slice(0, 3));
        const text = formatTable(await replay(repo.dir, "HEAD"));
        const lines = text.split("\n");
        assert.match(lines[0], /^commit\s+subject\s+warmrun\s+path filter\s+why \(warmrun\)$/);
        assert.match(lines[2], new RegExp(`^${repo.commits[1].slice(0, 7)}\\s+edit source\\s+keep\\s+keep\\s+same key$`));
        assert.equal(lines[lines.length - 1], "warmrun rebuilds 2 of 3 commits; the path-filter rule rebuilds 2");
    });

    it("parses the command line", () => {
        assert.deepEqual(parseArgs(["repo", "a..b", "--root", "rust", "--bin", "app", "--dockerfile", "ci/Dockerfile", "--json"]), {
            repo: "repo",
            range: "a..b",
            opts: { root: "rust", bin: "app", dockerfile: "ci/Dockerfile" },
            json: true,
        });
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
