// CargoDepsImage warm starts on the real engine, real buildah and a real registry: a workspace over
// real crates (test/fixtures/warm-workspace: 19 crates of the package registry), a cold up, then one
// external crate's version bump (a real Cargo.lock, `cargo update -p itoa --precise`, by the base
// image's own cargo). The second build starts from the first image, compiles fewer units, and holds
// what a cold build of the same key holds (built in another stack with warmStart: false). A parent
// deleted between preview and up makes the build cold, and it says so.
//
// The chain under the deps image is the dev stack's (debian-rootfs -> rust-base on the local
// registry, 127.0.0.1:5000): adopted when the registry has it, built once otherwise.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { tempDir, removeTempDirs } from "../support/tmp";
import { requireTools } from "../support/tools";
import { diffTrees, readTree, Tree, withImageRoot } from "../support/imageTree";
import { readJournal, JournalEntry, warmLabel } from "../../components/core/journal";
import { RegistryClient } from "../../components/oci/registry";
import { reportRows, renderTable } from "../../components/report/cacheReport";
import { WARM_DEPTH_ANNOTATION, WARM_PARENT_ANNOTATION } from "../../components/oci/annotations";
import { HOST_CA_BUNDLE } from "../../components/images/buildah";
import { storageDriver } from "../../components/images/storage";
import { devRegistryServing } from "../support/registry";

const REGISTRY = "127.0.0.1:5000";
const WARM = "warm-deps";
const COLD = "warm-deps-cold";
// The driver warmrun builds with, so what the test inspects is what the builds left.
const B = ["--storage-driver", storageDriver()];

/**
 * What may differ between two images that hold the same compiled units; names are compared, the
 * content of these is not:
 * - target/<profile>/incremental/<crate>-<id>/s-<time>-<random>...: rustc's incremental sessions of
 *   the skeleton's own crates, named by time and a random part (the <crate>-<id> directories are
 *   compared by name);
 * - target/.rustc_info.json: cargo's cache of `rustc -vV`, keyed by a fingerprint of the rustc
 *   binary as the container saw it;
 * - CARGO_HOME/.global-cache: cargo's SQLite record of when each crate was last used.
 */
const SESSION = /^target\/[^/]+\/incremental\/[^/]+\/s-/;
const NOISY_CONTENT = new Set(["app/target/.rustc_info.json", "cargo/.global-cache"]);

function buildah(args: string[]): string {
    return execFileSync("buildah", [...B, ...args], { encoding: "utf8", maxBuffer: 64 << 20 }).trim();
}

/** Runs a shell script in a working container of `image` on a copy of `dir` at /w; returns its output, copies Cargo.lock back. */
function inImage(image: string, dir: string, script: string): string {
    const ctr = buildah(["from", "--quiet", "--tls-verify=false", `docker://${image}`]).split("\n").pop()!;
    try {
        const root = buildah(["mount", ctr]).split("\n").pop()!;
        fs.cpSync(dir, path.join(root, "w"), { recursive: true, filter: (s) => path.basename(s) !== "target" });
        const volume = fs.existsSync(HOST_CA_BUNDLE) ? ["--volume", `${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`] : [];
        const out = buildah(["run", "--isolation", "chroot", ...volume, ctr, "--", "sh", "-c", `cd /w && ${script} 2>&1`]);
        fs.copyFileSync(path.join(root, "w", "Cargo.lock"), path.join(dir, "Cargo.lock"));
        return out;
    } finally {
        buildah(["rm", ctr]);
        // The test's own pull goes too, so no run leaves images in the machine's storage.
        try {
            buildah(["rmi", image]);
        } catch {
            // another test's container still uses it
        }
    }
}

const compiling = (text: string) => text.split(/[\r\n]/).filter((l) => /^\s*Compiling \S+ v\d/.test(l)).map((l) => l.trim().split(/\s+/)[1]);

describe("CargoDepsImage warm start (real engine, buildah, registry)", function () {
    this.timeout(900_000);
    let startedRegistry = false;
    let work: string;
    let workspace: string;
    let journal: string;
    let warm: EngineSession;
    let cold: EngineSession;
    let client: RegistryClient;
    const entriesOf = (name: string) => readJournal(journal).filter((e) => e.artifact === name && (e.action === "build" || e.action === "adopt"));
    const lastBuild = (name: string): JournalEntry => entriesOf(name).filter((e) => e.action === "build").pop()!;
    let first: { digest: string; key: string; units: number; seconds: number };
    let second: { digest: string; key: string; units: number; seconds: number };

    before(async () => {
        engineDir();
        requireTools(["buildah", "docker-registry"]);
        startedRegistry = !devRegistryServing();
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "start", "5000"], { stdio: "ignore" });
        client = new RegistryClient({ host: REGISTRY, insecure: true });
        work = tempDir("warmrun-warm-");
        journal = path.join(work, "journal.jsonl");
        workspace = path.join(work, "workspace");
        fs.cpSync(path.join(PROJECT_ROOT, "test/fixtures/warm-workspace"), workspace, { recursive: true });
        // This test's repositories start empty, so its builds are real misses.
        for (const repo of [WARM, COLD].map((n) => `warmrun/${n}`)) {
            for (const tag of await client.listTags(repo)) {
                const digest = await client.resolveTag(repo, tag);
                if (digest) await client.deleteManifest(repo, digest);
            }
        }
        const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config["warmrun:artifacts"];
        const stack = (name: string, artifacts: Record<string, unknown>) => {
            const file = path.join(work, `Pulumi.${name}.yaml`);
            fs.writeFileSync(file, YAML.stringify({ config: { "warmrun:registry": `${REGISTRY}/warmrun`, "warmrun:builder": "buildah", "warmrun:cacheDir": path.join(work, `cache-${name}`), "warmrun:artifacts": { "debian-rootfs": dev["debian-rootfs"], "rust-base": dev["rust-base"], ...artifacts } } }));
            return new EngineSession(work, name, file, { WARMRUN_JOURNAL: journal });
        };
        warm = stack("warm", { [WARM]: { kind: "CargoDepsImage", workspace, upstream: ["rust-base"] } });
        cold = stack("warmcold", { [COLD]: { kind: "CargoDepsImage", workspace, upstream: ["rust-base"], warmStart: false } });
        await warm.init();
        await cold.init();
    });
    after(() => {
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "stop", "5000"]);
        removeTempDirs();
    });

    it("a. the first up builds the deps image cold, with a chain depth of 0", async () => {
        const up = await warm.run(["up", "--yes", "--skip-preview"]);
        const e = lastBuild(WARM);
        assert.ok(e, "the deps image was built");
        assert.equal(e.warmFrom, undefined, "nothing to start from");
        const out = (await warm.outputs()).outputs[WARM];
        const m = await client.getManifest(`warmrun/${WARM}`, out.digest);
        assert.equal(m!.json.annotations[WARM_DEPTH_ANNOTATION], "0");
        assert.equal(m!.json.annotations[WARM_PARENT_ANNOTATION], undefined);
        first = { digest: out.digest, key: out.key, units: e.compiledUnits!, seconds: e.buildSeconds! };
        assert.equal(first.units, 21, "every package: 19 of the registry, 2 of the workspace");
        fs.writeFileSync(path.join(work, "up-a.log"), up.stdout + up.stderr);
        assert.ok(out.downloads.bytes > 100_000, `the cook's downloads carry bytes: ${JSON.stringify(out.downloads)}`);
        console.log(`      cold: ${first.units} units compiled in ${first.seconds} s; downloaded ${out.downloads.count} crates, ${out.downloads.bytes} bytes`);
    });

    it("b. after one external crate's version bump, preview names the warm start and up builds warm from the first image", async () => {
        const bumped = inImage((await warm.outputs()).outputs["rust-base"].pinned, workspace, "cargo update -p itoa --precise 1.0.15");
        assert.match(bumped, /Downgrading itoa v1\.0\.19 -> v1\.0\.15/);

        const preview = JSON.parse((await warm.run(["preview", "--json", "--show-sames"])).stdout);
        const row = reportRows(preview).find((r) => r.artifact === WARM)!;
        assert.deepEqual([row.status, row.action, row.warmFrom], ["miss", "build", first.key.slice(0, 24)]);
        assert.match(renderTable([row]), new RegExp(`build \\(warm from ${first.key.slice(0, 24)}\\)`));

        const up = await warm.run(["up", "--yes", "--skip-preview"]);
        const e = lastBuild(WARM);
        assert.deepEqual(e.warmFrom, { digest: first.digest, key: first.key, depth: 1 }, "the journal names the parent's digest");
        assert.match(up.stdout + up.stderr, new RegExp(warmLabel(first.key).replace(/[()]/g, "\\$&")), "the log line says so");
        const out = (await warm.outputs()).outputs[WARM];
        assert.notEqual(out.key, first.key);
        second = { digest: out.digest, key: out.key, units: e.compiledUnits!, seconds: e.buildSeconds! };
        // Builder storage: the parent the warm start pulled, the image it committed and its working
        // container went with the run.
        const left = (JSON.parse(buildah(["images", "--json"]) || "[]") ?? []).filter(
            (i: any) => i.digest === first.digest || (i.names ?? []).some((n: string) => n.startsWith(`localhost/warmrun-build/${WARM}:`)),
        );
        assert.deepEqual(left.map((i: any) => i.names), [], "the warm start's images are released");
        const containers = (JSON.parse(buildah(["containers", "--json"]) || "[]") ?? []).map((c: any) => c.containername);
        assert.ok(!containers.some((c: string) => c.startsWith(`warmrun-warm-${WARM}-`)), containers.join(", "));
        assert.ok(second.units < first.units, `${second.units} units compiled warm, ${first.units} cold`);
        assert.deepEqual(second.units, 4, "itoa, serde_json (which uses it) and the two workspace crates");

        // One new layer over the parent's: the parent's layers are shared blobs, not pushed again.
        const parent = await client.getManifest(`warmrun/${WARM}`, first.digest);
        const child = await client.getManifest(`warmrun/${WARM}`, second.digest);
        const pl = parent!.json.layers.map((l: any) => l.digest);
        const cl = child!.json.layers.map((l: any) => l.digest);
        assert.deepEqual(cl.slice(0, pl.length), pl);
        assert.equal(cl.length, pl.length + 1);
        assert.equal(child!.json.annotations[WARM_PARENT_ANNOTATION], first.digest);
        assert.equal(child!.json.annotations[WARM_DEPTH_ANNOTATION], "1");
        const newBytes = child!.json.layers[cl.length - 1].size;
        const coldBytes = parent!.json.layers[pl.length - 1].size;
        console.log(`      warm: ${second.units} units compiled in ${second.seconds} s (cold: ${first.units} in ${first.seconds} s); new layer ${newBytes} bytes, the cold build's deps layer ${coldBytes}`);
    });

    it("c. the warm image holds the same compiled units (names and content under target/, and CARGO_HOME) as a cold build of the same key", async () => {
        await cold.run(["up", "--yes", "--skip-preview"]);
        const e = lastBuild(COLD);
        assert.equal(e.warmFrom, undefined, "warmStart: false builds cold");
        const out = (await cold.outputs()).outputs[COLD];
        assert.equal(out.key, second.key, "the same key: warm and cold images are interchangeable");
        assert.equal(e.compiledUnits, 21);
        const read = (image: string) => withImageRoot(image, (root) => ({ app: readTree(root, "app"), cargo: readTree(root, "usr/local/cargo") }));
        const w = await read(`${REGISTRY}/warmrun/${WARM}@${second.digest}`);
        const c = await read(out.pinned);
        const units = (t: Tree) => [...t.keys()].filter((p) => p.startsWith("target/debug/deps/")).sort();
        assert.ok(units(c.app).length >= 58, `cold deps/ has ${units(c.app).length} files`);
        assert.deepEqual(units(w.app), units(c.app), "the same unit files in target/debug/deps");
        for (const area of ["app", "cargo"] as const) {
            const d = diffTrees(w[area], c[area], (p) => SESSION.test(p));
            const differ = d.differ.filter((p) => !NOISY_CONTENT.has(`${area}/${p}`));
            assert.deepEqual({ onlyWarm: d.onlyA, onlyCold: d.onlyB, differ }, { onlyWarm: [], onlyCold: [], differ: [] }, `/${area === "app" ? "app" : "usr/local/cargo"}`);
        }
        console.log(`      same key, same tree: ${w.app.size} entries under /app, ${w.cargo.size} under CARGO_HOME; cold build ${e.buildSeconds} s`);
    });

    it("d. in the warm image, cargo build --offline of the real sources compiles only the workspace's own crates", () => {
        const ctr = buildah(["from", "--quiet", "--tls-verify=false", `docker://${REGISTRY}/warmrun/${WARM}@${second.digest}`]).split("\n").pop()!;
        try {
            buildah(["copy", ctr, workspace, "/app"]);
            const out = buildah(["run", "--isolation", "chroot", ctr, "--", "sh", "-c", "cd /app && cargo build --offline 2>&1"]);
            assert.deepEqual(compiling(out).sort(), ["wordfreq", "wordfreq-cli"], out);
        } finally {
            buildah(["rm", ctr]);
            buildah(["rmi", `${REGISTRY}/warmrun/${WARM}@${second.digest}`]);
        }
    });

    it("e. a parent deleted from the registry between preview and up: the build goes cold and says so", async () => {
        const bumped = inImage((await warm.outputs()).outputs["rust-base"].pinned, workspace, "cargo update -p itoa --precise 1.0.14");
        assert.match(bumped, /Downgrading itoa v1\.0\.15 -> v1\.0\.14/);
        const preview = JSON.parse((await warm.run(["preview", "--json", "--show-sames"])).stdout);
        assert.equal(reportRows(preview).find((r) => r.artifact === WARM)!.warmFrom, second.key.slice(0, 24));
        await client.deleteManifest(`warmrun/${WARM}`, second.digest);
        const up = await warm.run(["up", "--yes", "--skip-preview"]);
        const e = lastBuild(WARM);
        assert.equal(e.warmFrom, undefined, "built cold");
        assert.equal(e.compiledUnits, 21);
        assert.match(up.stdout + up.stderr, new RegExp(`${WARM}: no warm start \\(${second.key.slice(0, 24)}: gone from the registry\\): cold build`));
        const out = (await warm.outputs()).outputs[WARM];
        const m = await client.getManifest(`warmrun/${WARM}`, out.digest);
        assert.equal(m!.json.annotations[WARM_DEPTH_ANNOTATION], "0", "a new chain starts");
        assert.equal(await client.resolveTag(`warmrun/${WARM}`, out.ref.split(":").pop()), out.digest);
    });
});
