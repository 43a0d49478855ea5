// `npm run cache-report` and `npm run ci-outputs` on the real engine: a throwaway stack with the
// dev chain (debian-rootfs -> rust-base, adopted from the local registry, or built once on a
// cold machine), a deps image of a copy of the example workspace and a bundle built from it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { parseMarkdown, ReportRow, EXIT_ON_MISS } from "../../components/report/cacheReport";
import { parseGithubFile } from "../../components/report/ciEnv";
import { devRegistryServing } from "../support/registry";

function npmRun(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile("npm", ["run", "--silent", ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, stdout, stderr });
        });
    });
}

const DEPS = "report-rust-deps";
const NOTES = "report-notes";

describe("npm run cache-report and npm run ci-outputs (real engine, dev chain)", function () {
    this.timeout(600_000);
    let session: EngineSession;
    let work: string;
    let workspace: string;
    let configFile: string;
    let startedRegistry = false;

    const report = (args: string[]) => npmRun(["cache-report", "--", "--stack", "report", "--config-file", configFile, ...args], session.env);

    before(async () => {
        engineDir();
        startedRegistry = !devRegistryServing();
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "start", "5000"], { stdio: "ignore" });
        work = tempDir("warmrun-report-");
        workspace = path.join(work, "rust-workspace");
        fs.cpSync(path.join(PROJECT_ROOT, "examples/rust-workspace"), workspace, { recursive: true, filter: (src) => path.basename(src) !== "target" });
        writeTree(work, { "notes/README.md": "built from the deps image\n" });

        // The dev stack's own chain entries, so its keys (and registry tags) are the dev stack's.
        const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config["warmrun:artifacts"];
        configFile = path.join(work, "Pulumi.report.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": "127.0.0.1:5000/warmrun",
                    "warmrun:cacheDir": path.join(work, "cache"),
                    "warmrun:artifacts": {
                        "debian-rootfs": dev["debian-rootfs"],
                        "rust-base": dev["rust-base"],
                        [DEPS]: { kind: "CargoDepsImage", workspace, upstream: ["rust-base"] },
                        [NOTES]: { kind: "FileBundle", root: path.join(work, "notes"), upstream: [DEPS] },
                    },
                },
            }),
        );
        // This stack's own repositories start empty, so its up builds them and records the time.
        const client = new RegistryClient({ host: "127.0.0.1:5000", insecure: true });
        for (const repo of [DEPS, NOTES].map((n) => `warmrun/${n}`)) {
            for (const tag of await client.listTags(repo)) {
                const digest = await client.resolveTag(repo, tag);
                if (digest) await client.deleteManifest(repo, digest);
            }
        }
        session = new EngineSession(work, "report", configFile, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl") });
        await session.init();
        const started = Date.now();
        await session.run(["up", "--yes", "--skip-preview"]);
        console.log(`      up of the report stack: ${Math.round((Date.now() - started) / 1000)} s`);
    });
    after(() => {
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "stop", "5000"]);
        removeTempDirs();
    });

    it("with nothing changed, reports 0 misses, and --fail-on-miss exits 0", async () => {
        const r = await report(["--format", "json", "--fail-on-miss"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const json = JSON.parse(r.stdout);
        assert.equal(json.summary, "0 misses");
        assert.deepEqual(
            json.rows.map((row: ReportRow) => [row.artifact, row.status, row.action]),
            [["debian-rootfs", "hit", "keep"], ["rust-base", "hit", "keep"], [DEPS, "hit", "keep"], [NOTES, "hit", "keep"]],
        );
    });

    it("ci-outputs writes the stack's outputs as $GITHUB_OUTPUT lines, digest-pinned, without secrets", async () => {
        const file = path.join(work, "github-output");
        const r = await npmRun(["ci-outputs", "--", "--stack", "report", "--format", "github-output", "--output", file], session.env);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const vars = parseGithubFile(fs.readFileSync(file, "utf8"));
        const out = (await session.outputs()).outputs;
        assert.equal(vars.WARMRUN_REGISTRY, "127.0.0.1:5000/warmrun");
        for (const name of ["debian-rootfs", "rust-base", DEPS, NOTES]) {
            const v = name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
            assert.equal(vars[`WARMRUN_${v}`], out[name].pinned);
            assert.match(vars[`WARMRUN_${v}`], new RegExp(`^127\\.0\\.0\\.1:5000/warmrun/${name}@sha256:[0-9a-f]{64}$`));
            assert.equal(vars[`WARMRUN_${v}_DIGEST`], out[name].digest);
            assert.equal(vars[`WARMRUN_${v}_KEY`], out[name].key);
            assert.equal(vars[`WARMRUN_${v}_REF`], out[name].ref);
            assert.equal(vars[`WARMRUN_${v}_CACHE_HIT`], String(out[name].cacheHit));
        }
        assert.equal(vars.WARMRUN_REPORT_RUST_DEPS_CACHE_HIT, "false", "this stack built its deps image");
        assert.equal(Object.keys(vars).length, 1 + 4 * 5);
    });

    it("after Cargo.lock changes, names the deps image and its dependent as misses, with the changed crate, the previous build time, and Markdown that reads back", async () => {
        const lock = path.join(workspace, "Cargo.lock");
        const before = fs.readFileSync(lock, "utf8");
        // itoa 1.0.18 as `cargo update -p itoa --precise 1.0.18` locks it (its checksum from the registry's index).
        const after = before.replace(
            /(name = "itoa"\nversion = )"1\.0\.19"(\nsource = "[^"]+"\nchecksum = )"[0-9a-f]+"/,
            '$1"1.0.18"$2"8f42a60cbdf9a97f5d2305f08a87dc4e09308d1276d28c869c684d7777685682"',
        );
        assert.notEqual(after, before, "the example lock names itoa 1.0.19");
        fs.writeFileSync(lock, after);

        const md = path.join(work, "report.md");
        const failing = await report(["--format", "markdown", "--output", md, "--fail-on-miss"]);
        assert.equal(failing.code, EXIT_ON_MISS, failing.stdout + failing.stderr);
        const json = await report(["--format", "json"]);
        assert.equal(json.code, 0, json.stderr);
        const { rows, summary } = JSON.parse(json.stdout) as { rows: ReportRow[]; summary: string };
        assert.deepEqual(parseMarkdown(fs.readFileSync(md, "utf8")), rows, "the Markdown parses back to the same rows");

        const out = (await session.outputs()).outputs;
        const byName = Object.fromEntries(rows.map((r) => [r.artifact, r]));
        assert.deepEqual([byName["debian-rootfs"].status, byName["rust-base"].status], ["hit", "hit"]);
        const deps = byName[DEPS];
        assert.deepEqual([deps.status, deps.action, deps.reasons], ["miss", "build", ["itoa 1.0.19 -> 1.0.18"]]);
        assert.equal(deps.oldKey, out[DEPS].key.slice(0, 24));
        assert.notEqual(deps.newKey, deps.oldKey);
        assert.ok(out[DEPS].buildSeconds > 0);
        assert.equal(deps.lastBuildSeconds, out[DEPS].buildSeconds, "the previous build time is the expected cost");
        const notes = byName[NOTES];
        assert.deepEqual([notes.status, notes.action, notes.reasons], ["miss", "build", [`upstream ${DEPS} changed`]]);
        assert.equal(notes.lastBuildSeconds, out[NOTES].buildSeconds);
        assert.match(summary, /^2 misses, 2 to build, about [0-9.]+ (s|min) of builds$/);
        assert.equal(failing.stdout.trim(), summary, "with --output, the summary line goes to the terminal");
        console.log(`      ${summary}; ${DEPS} built in ${out[DEPS].buildSeconds} s`);
    });

    it("warmrun:github: a plaintext token fails the preview naming the fix; a secret one (set --secret --path) reaches the GitHub provider", async () => {
        const cfg = path.join(work, "Pulumi.gh.yaml");
        fs.writeFileSync(cfg, YAML.stringify({ config: { "warmrun:registry": "127.0.0.1:5000/warmrun", "warmrun:artifacts": { [NOTES]: { kind: "FileBundle", root: path.join(work, "notes") } }, "warmrun:github": { owner: "acme", repository: "app", token: "plaintext-token" } } }));
        // Never fetch the GitHub plugin (GitHub is out of reach): its absence is what the run shows.
        const gh = new EngineSession(work, "gh", cfg, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl"), PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" });
        await gh.init();
        const r = await gh.run(["preview"], { allowFailure: true });
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /warmrun:github\.token is stored in plaintext: set it with `pulumi config set --secret --path warmrun:github\.token <token>`/);
        assert.doesNotMatch(r.stdout + r.stderr, /plaintext-token/);

        // Stored as the README says, the token passes; the program then registers the GitHub
        // provider, whose plugin this machine lacks (GitHub itself is only exercised under mocks).
        await gh.run(["config", "set", "--secret", "--path", "warmrun:github.token", "secret-token-value"]);
        assert.match(fs.readFileSync(cfg, "utf8"), /token:\n\s+secure: /);
        const secret = await gh.run(["preview"], { allowFailure: true });
        assert.doesNotMatch(secret.stdout + secret.stderr, /stored in plaintext|secret-token-value/);
        assert.match(secret.stdout + secret.stderr, /pulumi:providers:github/);
    });
});
