// The differential test of the CargoDepsImage key against cargo itself. Generated workspaces over real
// crates (tokio, hyper, axum, reqwest with rustls, serde, clap, syn, windows-sys, nix...) are mutated in
// every class of edit that compiles nothing new and every class that compiles something new. For each
// mutation, warmrun's key change is compared with cargo's answer: whether the external units of
// `cargo build --unit-graph --target x86_64-unknown-linux-gnu` (package, version, features, host or
// target, profile) changed, or the rustflags cargo gives rustc for the target, or the toolchain rustup
// selects. Nothing is compiled. A missed rebuild fails the test; needless rebuilds are counted and printed.
//
// Crate metadata is cached under the cache root (~/.cache/warmrun, or $WARMRUN_CACHE): cargo's downloads in
// cargo-home/, warmrun's index entries in cargo-index/. The first run on a machine needs the network (it
// fetches the corpus's crates, about 300 MB); once the corpus has been fetched (a stamp per version of
// the corpus), cargo runs --offline, and warmrun reads every entry from its cache (an entry missing there,
// e.g. after the cache was cleared, is fetched again).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseToml } from "smol-toml";
import { cargoCompileKeyMaterial, CompileKeyMaterial } from "../../components/cargo/units";
import { compileInputEntries, describeUnitChanges } from "../../components/cargo/unitChanges";
import { dirSource } from "../../components/cargo/workspace";
import { canonicalJson, sha256Hex } from "../../components/core/keys";
import { cargoUnits, OracleAnswer, requireCargo } from "../support/cargoOracle";
import { CORPUS_TOOLCHAINS, Files, MUTATIONS, SCENARIOS } from "../support/cargoCorpus";
import { removeTempDirs, tempDir, writeTree } from "../support/tmp";

const TARGET = "x86_64-unknown-linux-gnu";
const cacheRoot = process.env.WARMRUN_CACHE ?? path.join(os.homedir(), ".cache", "warmrun");
const cargoHome = path.join(cacheRoot, "cargo-home");
// The crates cargo needs are decided by the corpus alone.
const corpusVersion = sha256Hex(fs.readFileSync(path.join(__dirname, "../support/cargoCorpus.ts"), "utf8")).slice(0, 16);
const stamp = path.join(cargoHome, `.warmrun-corpus-${corpusVersion}`);

function cargo(dir: string, args: string[], offline: boolean): void {
    const res = spawnSync("cargo", [args[0], ...(offline ? ["--offline"] : []), ...args.slice(1)], {
        cwd: dir,
        env: { ...process.env, CARGO_HOME: cargoHome, CARGO_TERM_COLOR: "never" },
        encoding: "utf8",
    });
    if (res.status !== 0) throw new Error(`cargo ${args.join(" ")} failed in ${dir}:\n${res.stderr}`);
}

function rustupToolchain(dir: string): string {
    const res = spawnSync("rustup", ["show", "active-toolchain"], { cwd: dir, env: { ...process.env, RUSTUP_AUTO_INSTALL: "0" }, encoding: "utf8" });
    // The name of the toolchain rustup selects, whether or not it is installed.
    return (res.stdout || res.stderr).trim().split(/\s+/)[0] ?? "";
}

/** Cargo's answer, reduced to what decides a rebuild of the deps image. */
function cargoView(a: OracleAnswer, dir: string): string {
    return canonicalJson({ units: a.units, rustflags: a.rustflags, toolchain: rustupToolchain(dir) });
}

const unitKey = (u: { name: string; version: string; forHost: boolean; features: string[] }): string =>
    `${u.name} ${u.version} ${u.forHost ? "host" : "target"} [${u.features.join(",")}]`;

interface State {
    key: string;
    material: CompileKeyMaterial;
    cargo: string;
    /** Units where warmrun and cargo disagree. */
    mismatches: string[];
}

describe("CargoDepsImage key against cargo's own build plan", function () {
    this.timeout(30 * 60_000);
    let offline = false;
    let work: string;

    before(() => {
        requireCargo(CORPUS_TOOLCHAINS);
        fs.mkdirSync(cargoHome, { recursive: true });
        offline = fs.existsSync(stamp);
        work = tempDir("warmrun-cargo-corpus-");
    });
    after(removeTempDirs);

    async function evaluate(dir: string, args: string[]): Promise<State> {
        const answer = cargoUnits(dir, { cargoHome, target: TARGET, args, offline });
        const { material, warnings } = await cargoCompileKeyMaterial(dirSource(dir), { cacheDir: cacheRoot, cargoArgs: args, target: TARGET });
        assert.deepEqual(warnings, [], `warnings for ${dir}`);
        const mine = new Set((material.units ?? []).map(unitKey));
        const theirs = new Set(answer.units.map(unitKey));
        const mismatches = [...[...theirs].filter((u) => !mine.has(u)).map((u) => `cargo only: ${u}`), ...[...mine].filter((u) => !theirs.has(u)).map((u) => `warmrun only: ${u}`)];
        if (canonicalJson(answer.rustflags) !== canonicalJson(material.config.rustflags)) mismatches.push(`rustflags: cargo ${answer.rustflags.join(" ")}, warmrun ${material.config.rustflags.join(" ")}`);
        return { key: sha256Hex(canonicalJson(material)), material, cargo: cargoView(answer, dir), mismatches };
    }

    it("changes the key exactly when cargo compiles something else (0 missed rebuilds)", async () => {
        const perClass = new Map<string, { intended: string; runs: number; missed: number; needless: number; realChanges: number; keyChanges: number }>();
        const missed: string[] = [];
        const needless: string[] = [];
        const mismatches: string[] = [];
        const whys: string[] = [];
        let states = 0;
        let n = 0;
        for (const scenario of SCENARIOS) {
            const baseDir = path.join(work, `s${n++}`);
            writeTree(baseDir, scenario.files);
            cargo(baseDir, ["generate-lockfile"], offline);
            const base = await evaluate(baseDir, scenario.args);
            states++;
            mismatches.push(...base.mismatches.map((m) => `${scenario.name} (base): ${m}`));
            assert.ok((base.material.units ?? []).length > 20, `${scenario.name}: the base compiles external crates`);
            const baseLock = parseToml(fs.readFileSync(path.join(baseDir, "Cargo.lock"), "utf8")) as Record<string, any>;
            for (const m of MUTATIONS) {
                const files: Files = { ...scenario.files, "Cargo.lock": fs.readFileSync(path.join(baseDir, "Cargo.lock"), "utf8") };
                if (!m.apply(files, scenario, baseLock)) continue;
                const dir = path.join(work, `s${n++}`);
                writeTree(dir, files);
                const cmd = m.cargo?.(baseLock);
                if (m.cargo && !cmd) continue;
                if (cmd) cargo(dir, cmd, offline);
                const after = await evaluate(dir, scenario.args);
                states++;
                mismatches.push(...after.mismatches.map((x) => `${scenario.name} / ${m.name}: ${x}`));
                const cargoChanged = after.cargo !== base.cargo;
                const keyChanged = after.key !== base.key;
                const row = perClass.get(m.name) ?? { intended: m.intended, runs: 0, missed: 0, needless: 0, realChanges: 0, keyChanges: 0 };
                row.runs++;
                if (cargoChanged) row.realChanges++;
                if (keyChanged) row.keyChanges++;
                const where = `${scenario.name} / ${m.name}`;
                if (cargoChanged && !keyChanged) {
                    row.missed++;
                    missed.push(where);
                }
                if (keyChanged && !cargoChanged) {
                    row.needless++;
                    needless.push(`${where}: ${describeUnitChanges(compileInputEntries(base.material), compileInputEntries(after.material)).join("; ")}`);
                }
                if (keyChanged && cargoChanged && whys.length < 12) whys.push(`${where}: ${describeUnitChanges(compileInputEntries(base.material), compileInputEntries(after.material)).slice(0, 4).join("; ")}`);
                perClass.set(m.name, row);
            }
        }
        fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);

        const lines = [
            `cargo differential: ${SCENARIOS.length} workspaces, ${states} states, offline=${offline}`,
            "class | intended | runs | cargo changed | key changed | missed | needless",
            ...[...perClass].map(([name, r]) => `${name} | ${r.intended} | ${r.runs} | ${r.realChanges} | ${r.keyChanges} | ${r.missed} | ${r.needless}`),
            `missed rebuilds: ${missed.length}; needless rebuilds: ${needless.length}; unit mismatches with cargo: ${mismatches.length}`,
            ...needless.map((x) => `  needless: ${x}`),
            ...mismatches.slice(0, 20).map((x) => `  mismatch: ${x}`),
            "why lines of some real changes:",
            ...whys.map((w) => `  ${w}`),
        ];
        console.log(lines.join("\n"));
        assert.deepEqual(missed, [], "missed rebuilds");
        assert.deepEqual(mismatches, [], "units warmrun computes that cargo does not (or the reverse)");
        assert.deepEqual(needless, [], "needless rebuilds");
        // Every class of both kinds took part.
        for (const m of MUTATIONS) assert.ok(perClass.has(m.name), `mutation "${m.name}" ran`);
        assert.ok([...perClass.values()].some((r) => r.intended === "real" && r.realChanges > 0));
    });
});
