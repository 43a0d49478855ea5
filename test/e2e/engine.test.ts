// End-to-end: the real Pulumi engine runs the real program (index.ts) on a throwaway stack against
// a real registry, and warmrun's promises are checked on what the engine did.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { EngineSession, engineDir } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { builtNames, journalTail } from "../support/journal";
import { writeBundleChainStack } from "../support/stacks";
import { RegistryClient } from "../../components/oci/registry";

describe("pulumi up/preview/refresh/destroy of warmrun (real engine)", function () {
    this.timeout(300_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let journal: string;
    let client: RegistryClient;

    const newEntries = journalTail(() => journal);
    /** Each resource's inputs and outputs in the stack's state, by URN. */
    const resourceStates = async () => {
        const state = JSON.parse((await session.run(["stack", "export"], { withConfig: false })).stdout);
        return Object.fromEntries((state.deployment.resources ?? []).map((r: any) => [r.urn, { inputs: r.inputs, outputs: r.outputs }]));
    };

    before(async () => {
        engineDir(); // fails here, naming the setup command, when the engine is missing
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        work = tempDir("warmrun-e2e-");
        journal = path.join(work, "journal.jsonl");
        const inputs = path.join(work, "inputs");
        writeTree(inputs, {
            "base/os-release": "ID=debian\nVERSION_ID=13\n",
            "base/packages.txt": "build-essential\npkg-config\n",
            "app/run.sh": { content: "#!/bin/sh\nexec cargo test\n", mode: 0o755 },
            "app/notes.tmp": "scratch, ignored\n",
            "app/.dockerignore": "*.tmp\n",
            "docs/README.md": "# docs\n",
        });
        const configFile = writeBundleChainStack(path.join(work, "Pulumi.e2e.yaml"), { registry: `${registry.host}/e2e`, cacheDir: path.join(work, "cache"), inputs });
        session = new EngineSession(work, "e2e", configFile, { WARMRUN_JOURNAL: journal });
        await session.init();
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("a. the first up creates every artifact and builds each once", async () => {
        await session.run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(builtNames(newEntries()), ["app", "base", "docs"]);
        const out = (await session.outputs()).outputs;
        for (const name of ["base", "app", "docs"]) {
            assert.equal(out[name].cacheHit, false);
            assert.match(out[name].pinned, new RegExp(`^${registry.host}/e2e/${name}@sha256:[0-9a-f]{64}$`));
            assert.equal(await client.resolveTag(`e2e/${name}`, out[name].ref.split(":").pop()), out[name].digest);
        }
    });

    it("b. a second up changes nothing, builds nothing and downloads nothing; every resource's state stays as it was", async () => {
        const before = await resourceStates();
        const r = await session.run(["up", "--yes", "--expect-no-changes"]);
        assert.match(r.stdout, /unchanged/);
        assert.deepEqual(newEntries(), [], "no build, no adopt");
        // Inputs that differ on an unchanged artifact (a per-run id) make the engine write the whole
        // checkpoint after each one. The one input that may move: the planning look-up's answer, which
        // was "not in the registry" when the first up built the artifact.
        const after = await resourceStates();
        for (const [urn, r] of Object.entries<any>(after)) {
            if (r.inputs?.tagInRegistry === true && before[urn]?.inputs?.tagInRegistry === false) before[urn].inputs.tagInRegistry = true;
        }
        assert.deepEqual(after, before);
        const out = (await session.outputs()).outputs;
        for (const name of ["base", "app", "docs"]) assert.deepEqual(out[name].downloads, { count: 0, bytes: 0 });
    });

    it("c. after one file changes, preview names it and replaces exactly that artifact and its dependents; up rebuilds only those", async () => {
        fs.writeFileSync(path.join(work, "inputs/base/packages.txt"), "build-essential\npkg-config\nlibssl-dev\n");
        fs.writeFileSync(path.join(work, "inputs/app/notes.tmp"), "ignored edits do not count\n");
        const preview = await session.run(["preview", "--json"]);
        const steps = JSON.parse(preview.stdout).steps as any[];
        const replaced = steps.filter((s) => s.op === "replace").map((s) => s.urn.split("::").pop()).sort();
        assert.deepEqual(replaced, ["app", "base"]);
        const base = steps.find((s) => s.op === "replace" && s.urn.endsWith("::base"));
        assert.ok(base.replaceReasons.includes('inputs["file:packages.txt"]'), `reasons: ${base.replaceReasons}`);
        const app = steps.find((s) => s.op === "replace" && s.urn.endsWith("::app"));
        assert.ok(app.replaceReasons.includes('inputs["upstream:base"]'), `reasons: ${app.replaceReasons}`);
        assert.deepEqual(newEntries(), [], "preview builds nothing");

        await session.run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(builtNames(newEntries()), ["app", "base"]);
    });

    it("d. after a tag is deleted from the registry, refresh then up rebuilds that artifact only", async () => {
        const docs = (await session.outputs()).outputs.docs;
        await client.deleteManifest("e2e/docs", docs.digest);
        await session.run(["refresh", "--yes", "--skip-preview"]);
        const refreshed = newEntries();
        assert.deepEqual(refreshed.filter((e) => e.action === "gone").map((e) => e.artifact), ["docs"]);
        await session.run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(builtNames(newEntries()), ["docs"]);
    });

    it("e. destroy leaves the registry content in place", async () => {
        const out = (await session.outputs()).outputs;
        await session.run(["destroy", "--yes", "--skip-preview"]);
        for (const name of ["base", "app", "docs"]) {
            assert.equal(await client.resolveTag(`e2e/${name}`, out[name].ref.split(":").pop()), out[name].digest, `${name} still in the registry`);
        }
    });

    it("bad config fails the preview with one clear message and creates nothing", async () => {
        const bad = path.join(work, "Pulumi.bad.yaml");
        fs.writeFileSync(bad, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:artifacts": { x: { kind: "FileBundle", root: "does/not/exist" } } } }));
        const other = new EngineSession(work, "bad", bad, { WARMRUN_JOURNAL: journal });
        await other.init();
        const r = await other.run(["preview"], { allowFailure: true });
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /warmrun:artifacts\.x\.root: directory does\/not\/exist does not exist/);
        assert.doesNotMatch(r.stdout + r.stderr, /at Object\.<anonymous>|\.ts:\d+:\d+/, "no stack trace");
    });

    it("a Cargo workspace without Cargo.lock fails the preview naming the file and the fix", async () => {
        const ws = path.join(work, "inputs/nolock");
        writeTree(ws, { "Cargo.toml": '[package]\nname = "nolock"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n', "src/main.rs": "fn main() {}\n" });
        const cfg = path.join(work, "Pulumi.nolock.yaml");
        fs.writeFileSync(cfg, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:artifacts": { deps: { kind: "CargoDepsImage", workspace: ws } } } }));
        const other = new EngineSession(work, "nolock", cfg, { WARMRUN_JOURNAL: journal });
        await other.init();
        const r = await other.run(["preview"], { allowFailure: true });
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /Cargo\.lock is missing: run `cargo generate-lockfile` and commit it/);
        assert.deepEqual(newEntries().filter((e) => e.action === "build" || e.action === "adopt"), [], "nothing built or adopted");
    });

    it("a lock that disagrees with the manifests, and an unknown target triple, fail the preview once each, naming the file or key and the fix", async () => {
        // Index entries of the locked crate are in the stack's cache directory: no network.
        const cache = path.join(work, "cargo-cache");
        fs.cpSync(path.join(__dirname, "..", "fixtures", "cargo-index"), path.join(cache, "cargo-index"), { recursive: true });
        const ws = path.join(work, "inputs/mismatch");
        writeTree(ws, {
            "Cargo.toml": '[package]\nname = "mismatch"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "2"\n',
            "Cargo.lock":
                'version = 4\n\n[[package]]\nname = "itoa"\nversion = "1.0.19"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' +
                'checksum = "3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4"\n\n[[package]]\nname = "mismatch"\nversion = "0.1.0"\ndependencies = [\n "itoa",\n]\n',
            "src/main.rs": "fn main() {}\n",
        });
        const cases = [
            {
                stack: "mismatch",
                deps: { kind: "CargoDepsImage", workspace: ws },
                message: `${ws}/Cargo.lock has no locked package satisfying mismatch's dependency itoa 2 (${ws}/Cargo.toml); run \`cargo update -p itoa\` (or \`cargo generate-lockfile\`) and commit Cargo.lock`,
            },
            {
                stack: "triple",
                deps: { kind: "CargoDepsImage", workspace: ws, targetTriple: "x86_64-linux-gnu" },
                message: 'warmrun:artifacts.deps.targetTriple: unknown target triple "x86_64-linux-gnu"; set it to one of ',
            },
        ];
        for (const c of cases) {
            const cfg = path.join(work, `Pulumi.${c.stack}.yaml`);
            fs.writeFileSync(cfg, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:cacheDir": cache, "warmrun:artifacts": { deps: c.deps } } }));
            const other = new EngineSession(work, c.stack, cfg, { WARMRUN_JOURNAL: journal });
            await other.init();
            const r = await other.run(["preview"], { allowFailure: true });
            const out = r.stdout + r.stderr;
            assert.notEqual(r.code, 0, c.stack);
            // The engine shows a diagnostic in its progress and again under "Diagnostics:": there, one error, this one.
            const diagnostics = out.slice(out.indexOf("Diagnostics:"));
            assert.equal(diagnostics.split(c.message).length - 1, 1, `${c.stack}: the message once:\n${out}`);
            assert.equal(diagnostics.split("error:").length - 1, 1, `${c.stack}: one error:\n${out}`);
            assert.doesNotMatch(out, /at Object\.<anonymous>|\.ts:\d+:\d+|    at /, `${c.stack}: no stack trace`);
        }
        assert.deepEqual(newEntries().filter((e) => e.action === "build" || e.action === "adopt"), [], "nothing built or adopted");
    });

    it("a workspace whose crates have no registry index previews with one warning: the key falls back to the lock and manifests", async () => {
        const ws = path.join(work, "inputs/gitdep");
        const git = "git+https://git.example.com/acme/tiny?rev=0123456#0123456789abcdef0123456789abcdef01234567";
        writeTree(ws, {
            "Cargo.toml": '[package]\nname = "gitdep"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ntiny = { git = "https://git.example.com/acme/tiny", rev = "0123456" }\n',
            "Cargo.lock": `version = 4\n\n[[package]]\nname = "gitdep"\nversion = "0.1.0"\ndependencies = [\n "tiny",\n]\n\n[[package]]\nname = "tiny"\nversion = "0.1.0"\nsource = "${git}"\n`,
            "src/main.rs": "fn main() {}\n",
        });
        const cfg = path.join(work, "Pulumi.gitdep.yaml");
        fs.writeFileSync(cfg, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:cacheDir": path.join(work, "cargo-cache"), "warmrun:artifacts": { deps: { kind: "CargoDepsImage", workspace: ws } } } }));
        const other = new EngineSession(work, "gitdep", cfg, { WARMRUN_JOURNAL: journal });
        await other.init();
        const r = await other.run(["preview"]);
        const diagnostics = r.stdout.slice(r.stdout.indexOf("Diagnostics:"));
        const warning = `deps: ${ws}: tiny 0.1.0 comes from ${git}, which has no registry index; the key falls back to the whole Cargo.lock and manifests`;
        assert.equal(diagnostics.split(warning).length - 1, 1, `the warning once:\n${r.stdout}`);
        assert.equal(diagnostics.split("warning:").length - 1, 1, `one warning:\n${r.stdout}`);
    });
});
