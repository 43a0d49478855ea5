// Replay: deps-image rebuilds over a generated history whose answer is known (the commits that
// change the external dependency set), warmrun's recipe key against the path-filter rule.
// The mix follows the cargo-chef case of the design: 300 commits, 123 touching a dependency
// path, 40 changing the dependency set.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { replay } from "../scripts/replay";
import { BenchOptions, Figure, figure, secs, timeIt } from "./lib";

const HISTORY_VERSION = "2";
const REGISTRY_SOURCE = "registry+https://index.example.com/cargo";

type Change = "dependencies" | "manifest-only" | "source";

interface Workspace {
    version: string;
    externals: Record<string, string>;
    features: string[];
    extraCrates: string[];
    comments: number;
    edits: number;
}

/** A seeded generator, so every machine replays the same history. */
function random(seed: number): () => number {
    let s = seed;
    return () => {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        return s / 0x80000000;
    };
}

function files(ws: Workspace): Record<string, string> {
    const externalDeps = Object.keys(ws.externals).sort();
    const out: Record<string, string> = {
        "Cargo.toml": `[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n[workspace.package]\nversion = "${ws.version}"\n`,
        "Dockerfile": "FROM rust:1.85\n",
        "crates/core/Cargo.toml":
            `${"# note\n".repeat(ws.comments)}[package]\nname = "core"\nversion.workspace = true\nedition = "2021"\n\n[dependencies]\n` +
            externalDeps.map((d) => `${d} = "${ws.externals[d].split(".")[0]}"\n`).join("") +
            `\n[features]\n${ws.features.map((f) => `${f} = []\n`).join("")}`,
        "crates/core/src/lib.rs": `pub fn f() -> u32 { ${ws.edits} }\n`,
        "crates/app/Cargo.toml": '[package]\nname = "app"\nversion.workspace = true\nedition = "2021"\n\n[dependencies]\ncore = { path = "../core" }\n',
        "crates/app/src/main.rs": "fn main() { println!(\"{}\", core::f()); }\n",
    };
    const packages = [
        { name: "app", version: ws.version, deps: ["core"] },
        { name: "core", version: ws.version, deps: externalDeps },
        ...ws.extraCrates.map((c) => ({ name: c, version: "0.1.0", deps: [] as string[] })),
    ];
    for (const c of ws.extraCrates) {
        out[`crates/${c}/Cargo.toml`] = `[package]\nname = "${c}"\nversion = "0.1.0"\nedition = "2021"\n`;
        out[`crates/${c}/src/lib.rs`] = "";
    }
    const lockEntries = [
        ...packages.map((p) => `[[package]]\nname = "${p.name}"\nversion = "${p.version}"\n${p.deps.length ? `dependencies = [\n${p.deps.map((d) => ` "${d}",\n`).join("")}]\n` : ""}`),
        ...externalDeps.map((d) => `[[package]]\nname = "${d}"\nversion = "${ws.externals[d]}"\nsource = "${REGISTRY_SOURCE}"\nchecksum = "${"ab".repeat(32)}"\n`),
    ].sort();
    out["Cargo.lock"] = `version = 4\n\n${lockEntries.join("\n")}`;
    return out;
}

function applyChange(ws: Workspace, change: Change, rnd: () => number, i: number): string {
    if (change === "dependencies") {
        const pick = rnd();
        const names = Object.keys(ws.externals);
        if (pick < 0.5) {
            const d = names[Math.floor(rnd() * names.length)];
            const [maj, min, patch] = ws.externals[d].split(".").map(Number);
            ws.externals[d] = `${maj}.${min}.${patch + 1}`;
            return `bump ${d}`;
        }
        if (pick < 0.8) {
            ws.externals[`dep${i}`] = "1.0.0";
            return `add dependency dep${i}`;
        }
        ws.features.push(`feature${i}`);
        return `add feature${i}`;
    }
    if (change === "manifest-only") {
        const pick = rnd();
        if (pick < 0.4) {
            const [maj, min] = ws.version.split(".").map(Number);
            ws.version = `${maj}.${min + 1}.0`;
            return `release ${ws.version}`;
        }
        if (pick < 0.7) {
            ws.comments++;
            return "comment the core manifest";
        }
        ws.extraCrates.push(`tool${i}`);
        return `add crate tool${i}`;
    }
    ws.edits++;
    return "edit source";
}

/** Makes (once) the repository and returns it with the answer per commit after the first. */
export function ensureHistory(dir: string, log: (l: string) => void): { repo: string; answers: Change[] } {
    const repo = path.join(dir, "replay-history");
    const answerFile = path.join(dir, "replay-history.json");
    if (fs.existsSync(answerFile)) {
        const saved = JSON.parse(fs.readFileSync(answerFile, "utf8"));
        if (saved.version === HISTORY_VERSION) return { repo, answers: saved.answers };
    }
    log("replay: generating the 301-commit history (once; kept in the bench cache)");
    fs.rmSync(repo, { recursive: true, force: true });
    fs.mkdirSync(repo, { recursive: true });
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", ...args], { encoding: "utf8" });
    git("init", "-q");
    const rnd = random(7);
    const changes: Change[] = [...Array(40).fill("dependencies"), ...Array(83).fill("manifest-only"), ...Array(177).fill("source")];
    for (let i = changes.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [changes[i], changes[j]] = [changes[j], changes[i]];
    }
    const ws: Workspace = { version: "0.1.0", externals: { itoa: "1.0.11", memchr: "2.7.1" }, features: [], extraCrates: [], comments: 0, edits: 0 };
    const write = (subject: string) => {
        for (const [rel, text] of Object.entries(files(ws))) {
            fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
            fs.writeFileSync(path.join(repo, rel), text);
        }
        git("add", "-A");
        git("commit", "-q", "--allow-empty", "-m", subject);
    };
    write("initial workspace");
    changes.forEach((c, i) => write(applyChange(ws, c, rnd, i)));
    fs.writeFileSync(answerFile, JSON.stringify({ version: HISTORY_VERSION, answers: changes }));
    return { repo, answers: changes };
}

export async function replayBench(opts: BenchOptions): Promise<Figure[]> {
    const { repo, answers } = ensureHistory(opts.cacheDir, opts.log);
    const first = execFileSync("git", ["-C", repo, "rev-list", "--max-parents=0", "HEAD"], { encoding: "utf8" }).trim();
    const { seconds, value: result } = await timeIt(() => replay(repo, `${first}..HEAD`, { dockerfile: "Dockerfile" }));
    if (result.rows.length !== answers.length) throw new Error(`replay: ${result.rows.length} rows for ${answers.length} commits`);
    const needed = answers.filter((a) => a === "dependencies").length;
    const score = (decide: (i: number) => boolean) => {
        let right = 0;
        let extra = 0;
        let missed = 0;
        answers.forEach((a, i) => {
            const rebuild = decide(i);
            if (rebuild === (a === "dependencies")) right++;
            else if (rebuild) extra++;
            else missed++;
        });
        return { rebuilds: answers.filter((_, i) => decide(i)).length, right, extra, missed };
    };
    const ours = score((i) => result.rows[i].warmrun === "rebuild");
    const theirs = score((i) => result.rows[i].pathFilter === "rebuild");
    return [
        figure({
            section: "replay",
            name: `deps-image rebuilds over ${answers.length} commits (answer: ${needed})`,
            warmrun: `${ours.rebuilds} rebuilds, ${ours.extra} needless, ${ours.missed} missed`,
            baseline: `path filter ${theirs.rebuilds} rebuilds, ${theirs.extra} needless, ${theirs.missed} missed`,
            ratio: ours.right / answers.length,
            target: ">= 1",
            note: `share of right decisions; replay took ${secs(seconds)}`,
        }),
    ];
}
