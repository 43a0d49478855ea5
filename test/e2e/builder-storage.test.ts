// End-to-end, real engine: the dev stack's artifacts (Pulumi.dev.yaml: debootstrap'd rootfs, the
// Rust base image and the deps image built by buildah, bundles; not the VM chain) brought up cold on a fresh
// registry, with a buildah storage of this test's own. buildah's storage after the up is no larger
// than before it (plus its metadata): what the builds made or pulled is removed when the run ends.
// du of the graphroot is measured before, during (peak) and after, and printed.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs } from "../support/tmp";
import { readJournal } from "../../components/core/journal";
import { storageDriver } from "../../components/images/storage";

function duBytes(dir: string): Promise<number> {
    return new Promise((resolve) => execFile("du", ["-sb", dir], (_e, out) => resolve(Number(String(out).split("\t")[0]) || 0)));
}

describe("buildah storage across the dev stack's cold up (real engine, real buildah)", function () {
    this.timeout(3_600_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let graphroot: string;
    let ledger: string;
    let env: NodeJS.ProcessEnv;
    const buildahImages = () => JSON.parse(execFileSync("buildah", ["--storage-driver", storageDriver(), "images", "--json"], { encoding: "utf8", env }) || "[]") ?? [];
    const buildahContainers = () => JSON.parse(execFileSync("buildah", ["--storage-driver", storageDriver(), "containers", "--json"], { encoding: "utf8", env }) || "[]") ?? [];

    before(async () => {
        engineDir();
        for (const tool of ["buildah", "debootstrap", "qemu-img", "mke2fs"]) {
            try {
                execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
            } catch {
                throw new Error(`${tool} is not installed: run \`npm run setup\``);
            }
        }
        registry = await startRegistry();
        work = tempDir("warmrun-storage-e2e-");
        graphroot = path.join(work, "buildah", "graph");
        ledger = path.join(work, "ledger");
        fs.mkdirSync(path.dirname(graphroot), { recursive: true });
        fs.writeFileSync(path.join(work, "buildah", "storage.conf"), `[storage]\ndriver = "${storageDriver()}"\ngraphroot = "${graphroot}"\nrunroot = "${path.join(work, "buildah", "run")}"\n`);
        const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config;
        const configFile = path.join(work, "Pulumi.storage.yaml");
        // The VM chain (vm-guest, a BaseImage like rust-base, and the disk made from it without buildah)
        // adds minutes to this cold up and no builder-storage path of its own: it is left out.
        const artifacts = Object.fromEntries(Object.entries(dev["warmrun:artifacts"]).filter(([name]) => !["vm-guest", "debian-disk"].includes(name)));
        fs.writeFileSync(configFile, YAML.stringify({ config: { ...dev, "warmrun:artifacts": artifacts, "warmrun:registry": `${registry.host}/warmrun`, "warmrun:cacheDir": path.join(work, "cache"), "warmrun:builder": "buildah" } }));
        session = new EngineSession(work, "storage", configFile, {
            WARMRUN_JOURNAL: path.join(work, "journal.jsonl"),
            CONTAINERS_STORAGE_CONF: path.join(work, "buildah", "storage.conf"),
            WARMRUN_BUILDAH_LEDGER: ledger,
        });
        env = session.env;
        await session.init();
        execFileSync("buildah", ["--storage-driver", storageDriver(), "images"], { stdio: "ignore", env }); // the empty storage
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("after the cold up, buildah's storage is back to its size before it; the images the builds made are gone", async () => {
        const before = await duBytes(graphroot);
        let peak = before;
        let sampling = true;
        const sampler = (async () => {
            while (sampling) {
                peak = Math.max(peak, await duBytes(graphroot));
                await new Promise((r) => setTimeout(r, 10_000));
            }
        })();
        const started = Date.now();
        const up = await session.run(["up", "--yes", "--skip-preview"]);
        sampling = false;
        await sampler;
        const after = await duBytes(graphroot);
        const built = readJournal(path.join(work, "journal.jsonl")).filter((e) => e.action === "build").map((e) => e.artifact).sort();
        console.log(
            `      cold up of the dev stack's artifacts: ${Math.round((Date.now() - started) / 1000)} s, built ${built.join(", ")}\n` +
                `      buildah graphroot (du -sb): before ${before} bytes, peak seen during the up ${peak} bytes, after ${after} bytes (${after - before} more than before)`,
        );
        assert.ok(built.includes("rust-base") && built.includes("rust-deps"), `buildah built the images: ${built}`);
        assert.ok(peak > before + (100 << 20), `the builds used this storage (peak ${peak})`);
        assert.match(up.stdout, /builder storage: removed \d+ image name\(s\) this run's builds made or pulled/);
        assert.deepEqual(buildahImages(), [], "no image left");
        assert.deepEqual(buildahContainers(), [], "no build container left");
        assert.ok(after - before < 1 << 20, `after the up the storage holds ${after - before} bytes more than before (metadata only)`);
        assert.deepEqual(fs.readdirSync(ledger), [], "the run's ledger is released");
    });

    it("a warm up changes nothing and leaves the storage as it is, starting no build", async () => {
        const before = await duBytes(graphroot);
        await session.run(["up", "--yes", "--expect-no-changes"]);
        assert.equal(await duBytes(graphroot), before);
        assert.equal(fs.existsSync(ledger) ? fs.readdirSync(ledger).length : 0, 0);
    });
});
