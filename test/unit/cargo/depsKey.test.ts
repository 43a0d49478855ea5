// The deps image's key material has one source: the component's plan and `npm run replay` both
// take it from cargo/depsKey.ts, so replay's key for a commit is the key `up` would deploy. The key
// holds what the cook step compiles (one input entry per external unit, the toolchain, rustflags,
// profiles, cargo arguments, the Dockerfile), not the text of the manifests.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { computeKey, describeInputChanges, diffInputs, inputSummary } from "../../../components/core/keys";
import { StatCache } from "../../../components/core/fileset";
import { plan } from "../../../components/kinds/cargoDepsImage/plan";
import { cargoDepsImage } from "../../../components/kinds/cargoDepsImage/fields";
import { cargoDepsKeyMaterial, CARGO_RECIPE_VERSION, DepsKeyOptions } from "../../../components/cargo/depsKey";
import { replay } from "../../../scripts/replay";
import { entry, exampleIndexCache, member, memSource, World } from "../../support/cargoWorld";
import { tempDir, removeTempDirs } from "../../support/tmp";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "examples", "rust-workspace");

/** What a plan sees of the stack; FROM scratch (the Dockerfile here) asks no registry. */
function ctxOf(repo: string, cacheDir: string, statCache: StatCache) {
    return { name: "deps", where: "warmrun:artifacts.deps", projectRoot: repo, upstream: {}, statCache, cacheDir, resolveImage: async () => assert.fail("FROM scratch asks no registry") };
}

function copyExample(): string {
    const repo = tempDir("warmrun-depskey-");
    fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (p) => !p.includes(`${path.sep}target`) });
    return repo;
}

describe("CargoDepsImage key material (cargo/depsKey.ts)", () => {
    after(removeTempDirs);

    for (const dockerfile of [undefined, "Dockerfile.deps"]) {
        it(`replay's key of a commit is the component's key of the same tree (${dockerfile ? "the workspace's own Dockerfile" : "the default Dockerfile"})`, async () => {
            const repo = copyExample();
            const cacheDir = exampleIndexCache();
            if (dockerfile) fs.writeFileSync(path.join(repo, dockerfile), "FROM scratch\n");
            const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { stdio: "ignore" });
            git("init", "-q");
            git("add", "-A");
            git("commit", "-qm", "workspace");
            const fields = { workspace: repo, ...(dockerfile ? { dockerfile: path.join(repo, dockerfile) } : {}) };
            const planned = await plan(fields, ctxOf(repo, cacheDir, new StatCache()));
            assert.deepEqual(planned.warnings, []);
            assert.equal(Object.keys(planned.material.entries ?? {}).filter((n) => n.startsWith("unit:")).length, 5);
            const replayed = await replay(repo, "HEAD", { cacheDir, ...(dockerfile ? { dockerfile } : {}) });
            assert.equal(replayed.rows.length, 1);
            assert.equal(replayed.rows[0].key, computeKey(planned.material));
        });
    }

    it("a second plan of an unchanged workspace is answered from the memo; a changed manifest is not", async () => {
        const repo = copyExample();
        const cacheDir = exampleIndexCache();
        const ctx = ctxOf(repo, cacheDir, new StatCache(path.join(cacheDir, "stat-cache.json")));
        const first = await plan({ workspace: repo }, ctx);
        const memoDir = path.join(cacheDir, "cargo-key");
        const [memo] = fs.readdirSync(memoDir);
        // Mark the memo: a plan that reads it says a version no registry has.
        const marked = JSON.parse(fs.readFileSync(path.join(memoDir, memo), "utf8"));
        marked.material.units[0].version = "9.9.9";
        fs.writeFileSync(path.join(memoDir, memo), JSON.stringify(marked));
        const second = await plan({ workspace: repo }, ctx);
        assert.match(second.material.entries?.["unit:cfg-if"] ?? "", /^9\.9\.9 /);

        // memchr declared by the binary too: a manifest and the lock change, the compiled units do not.
        const cli = path.join(repo, "crates/textstats-cli/Cargo.toml");
        fs.writeFileSync(cli, fs.readFileSync(cli, "utf8").replace("[dependencies]\n", "[dependencies]\nmemchr.workspace = true\n"));
        const lock = path.join(repo, "Cargo.lock");
        fs.writeFileSync(lock, fs.readFileSync(lock, "utf8").replace(' "itoa",\n "textstats",', ' "itoa",\n "memchr",\n "textstats",'));
        const third = await plan({ workspace: repo }, ctx);
        assert.doesNotMatch(third.material.entries?.["unit:cfg-if"] ?? "", /^9\.9\.9 /);
        assert.equal(computeKey(third.material), computeKey(first.material));
        assert.equal(fs.readdirSync(memoDir).length, 2);
    });

    describe("on hand-made index entries", () => {
        const world = new World([entry("lib", [], { default: ["std"], std: [], derive: [] }), entry("regex")]);
        const files = (body = `[dependencies]\nlib = "1"`, extra: Record<string, string> = {}): Record<string, string> => ({
            "Cargo.toml": member("app", body),
            "src/main.rs": "fn main() {}\n",
            "Cargo.lock": world.lock({ app: ["lib"] }),
            ...extra,
        });
        const keyOf = async (tree: Record<string, string>, opts: Partial<DepsKeyOptions> = {}) =>
            cargoDepsKeyMaterial(memSource(tree), { cacheDir: "/nonexistent", index: world.provider(), ...opts });

        it("holds one entry per compiled unit, the toolchain, rustflags, profiles and arguments, besides the Dockerfile", async () => {
            const { material, warnings } = await keyOf(files());
            assert.deepEqual(warnings, []);
            assert.equal(material.recipeVersion, CARGO_RECIPE_VERSION);
            assert.deepEqual(material.files.map((f) => f.path), ["@containerfile"]);
            assert.deepEqual(material.params.cargoArgs, ["--locked"]);
            const summary = inputSummary(material);
            assert.match(summary["unit:lib"], /^1\.0\.0 \[default,std\] [0-9a-f]{16}$/);
            assert.equal(summary["rustflags:x86_64-unknown-linux-gnu"], "[]");
            assert.equal(summary.toolchain, "null");
            assert.ok("profile:dev" in summary && "cargo:args" in summary && "file:@containerfile" in summary);
            assert.equal(Object.keys(summary).filter((n) => n.startsWith("file:")).length, 1, "no manifest is an input of its own");
        });

        it("keeps the key on edits that compile nothing new, changes it on edits that do", async () => {
            const base = computeKey((await keyOf(files())).material);
            const same = [
                files(`# the app\n[dependencies]\nlib = { version = "1.0" }`),
                files(undefined, { "src/main.rs": "fn main() { println!(); }\n", "README.md": "# app\n" }),
                files(`[dependencies]\nlib = "1"\n\n[target.'cfg(windows)'.dependencies]\nlib = { version = "1", features = ["derive"] }`),
                files(undefined, { ".cargo/config.toml": "# nothing yet\n[target.aarch64-unknown-linux-gnu]\nrustflags = [\"-Ctarget-cpu=native\"]\n" }),
            ];
            for (const tree of same) assert.equal(computeKey((await keyOf(tree)).material), base, tree["Cargo.toml"]);
            const other = [
                files(`[dependencies]\nlib = { version = "1", features = ["derive"] }`),
                files(`[dependencies]\nlib = { version = "1", default-features = false }`),
                files(undefined, { "rust-toolchain.toml": '[toolchain]\nchannel = "1.80.0"\n' }),
                files(undefined, { ".cargo/config.toml": '[build]\nrustflags = ["-Ctarget-cpu=native"]\n' }),
                files(`[dependencies]\nlib = "1"\n\n[profile.dev]\nopt-level = 1`),
            ];
            for (const tree of other) assert.notEqual(computeKey((await keyOf(tree)).material), base, tree["Cargo.toml"]);
            assert.notEqual(computeKey((await keyOf(files(), { cargoArgs: ["--locked", "--release"] })).material), base);
            assert.notEqual(computeKey((await keyOf(files(), { dockerfileText: "FROM scratch\n" })).material), base);
            assert.notEqual(computeKey((await keyOf(files(), { targetTriple: "aarch64-unknown-linux-gnu" })).material), base);
        });

        it("a diff of two summaries names the changed units in the kind's words", async () => {
            const olds = inputSummary((await keyOf(files())).material);
            const after = await keyOf(files(`[dependencies]\nlib = { version = "1", features = ["derive"] }\n\n[profile.dev]\nopt-level = 1`, { ".cargo/config.toml": '[build]\nrustflags = ["-Cdebuginfo=0"]\n' }));
            const news = inputSummary(after.material);
            assert.deepEqual(cargoDepsImage.inputs?.describe(olds, news), ["lib +derive", "rustflags for x86_64-unknown-linux-gnu", "profile dev"]);
            assert.equal(describeInputChanges(diffInputs(olds, news), olds, news, cargoDepsImage.inputs), "lib +derive; rustflags for x86_64-unknown-linux-gnu; profile dev");
        });

        it("falls back to the masked lock and manifests when the index cannot be had, and says so", async () => {
            const r = await cargoDepsKeyMaterial(memSource(files()), { cacheDir: "/nonexistent", index: world.provider(true) });
            assert.equal(r.warnings.length, 1);
            assert.match(r.warnings[0], /falls back to the whole Cargo.lock and manifests/);
            const summary = inputSummary(r.material);
            assert.equal(summary["cargo:units"], "unresolved");
            assert.match(summary["recipe:Cargo.lock"], /^[0-9a-f]{64}$/);
            assert.ok(!Object.keys(summary).some((n) => n.startsWith("unit:")));
        });
    });

    it("an unknown target triple is one problem naming the field", () => {
        const problems = cargoDepsImage.validate?.({ workspace: "w", targetTriple: "x86_64-unknown-linux-gun" }, { name: "deps", where: "warmrun:artifacts.deps", raw: {}, upstream: [], projectRoot: "/", secretKeys: new Set() });
        assert.equal(problems?.length, 1);
        assert.match(problems?.[0] ?? "", /^warmrun:artifacts\.deps\.targetTriple: unknown target triple "x86_64-unknown-linux-gun"; set it to one of .*x86_64-unknown-linux-gnu/);
    });
});
