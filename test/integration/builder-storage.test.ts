// buildah's storage over a run, with real buildah in a storage of this test's own and a real
// registry: an upstream image and a dependent built FROM its pinned reference in the same run;
// the dependent reuses the upstream's local image (no second copy), and the release at the end
// of the run leaves the storage as it was before (du of buildah's graphroot).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { ArtifactInputs, createArtifact } from "../../components/core/lifecycle";
import { buildModuleOf } from "../../components/core/providerImpl";
import { plan as baseImagePlan } from "../../components/kinds/baseImage/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";
import { releaseRunImages } from "../../components/images/storage";

const du = (dir: string) => Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);

describe("buildah storage: kept for the run's following builds, released at its end (real buildah)", function () {
    this.timeout(300_000);
    let registry: TestRegistry;
    let graphroot: string;
    const saved = { CONTAINERS_STORAGE_CONF: process.env.CONTAINERS_STORAGE_CONF, WARMRUN_BUILDAH_LEDGER: process.env.WARMRUN_BUILDAH_LEDGER, WARMRUN_JOURNAL: process.env.WARMRUN_JOURNAL };
    const runId = `test-run-${process.pid}`;
    const images = () => JSON.parse(execFileSync("buildah", ["--storage-driver", "vfs", "images", "--json"], { encoding: "utf8" }) || "[]") as { id: string; names: string[] | null }[];
    const containers = () => JSON.parse(execFileSync("buildah", ["--storage-driver", "vfs", "containers", "--json"], { encoding: "utf8" }) || "[]") ?? [];

    before(async () => {
        try {
            execFileSync("sh", ["-c", "command -v buildah"], { stdio: "ignore" });
        } catch {
            throw new Error("buildah is not installed: run `npm run setup` (it installs Debian's buildah)");
        }
        registry = await startRegistry();
        const storage = tempDir("warmrun-storage-");
        graphroot = path.join(storage, "graph");
        fs.writeFileSync(path.join(storage, "storage.conf"), `[storage]\ndriver = "vfs"\ngraphroot = "${graphroot}"\nrunroot = "${storage}/run"\n`);
        process.env.CONTAINERS_STORAGE_CONF = path.join(storage, "storage.conf");
        process.env.WARMRUN_BUILDAH_LEDGER = tempDir("warmrun-ledger-");
        process.env.WARMRUN_JOURNAL = path.join(tempDir(), "journal.jsonl");
        execFileSync("buildah", ["--storage-driver", "vfs", "images"], { stdio: "ignore" }); // creates the empty storage
    });
    after(async () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete (process.env as any)[k];
            else process.env[k] = v;
        }
        await registry?.stop();
        removeTempDirs();
    });

    async function imageInputs(name: string, containerfile: string, files: Record<string, string | Buffer>, buildArgs: Record<string, string> = {}): Promise<ArtifactInputs> {
        const dir = tempDir();
        writeTree(dir, { Containerfile: containerfile });
        for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), content);
        // Its FROM is a pinned reference (the upstream's), used as written: no registry is asked.
        const plan = await baseImagePlan({ containerfile: path.join(dir, "Containerfile"), buildArgs }, { name, projectRoot: dir, upstream: {}, statCache: new StatCache(), resolveImage: async () => assert.fail("pinned FROM lines ask no registry") });
        const key = computeKey(plan.material);
        return { name, kind: "BaseImage", key, registry: { host: registry.host, insecure: true }, repository: `storage/${name}`, tag: shortKey(key), aliasTags: [], inputs: inputSummary(plan.material), build: { ...plan.build, builder: "buildah" }, runId };
    }

    it("the dependent builds FROM the upstream's local image; the run's end removes both, and the storage is back to its size", async () => {
        const before = du(graphroot);
        const up = await createArtifact(await imageInputs("up", "FROM scratch\nCOPY big.bin /big.bin\n", { "big.bin": randomBytes(8 << 20) }), { kinds: buildModuleOf });
        const upRef = up.pinned;
        const down = await createArtifact(await imageInputs("down", "ARG BASE\nFROM ${BASE}\nCOPY small.txt /small.txt\n", { "small.txt": "small\n" }, { BASE: upRef }), { kinds: buildModuleOf });
        assert.equal(down.cacheHit, false);
        const during = du(graphroot);
        const list = images();
        const upImage = list.find((i) => (i.names ?? []).includes(`localhost/warmrun-build/up:${up.tag}`))!;
        assert.ok(upImage, "the upstream's image is still there for the dependent");
        assert.ok((upImage.names ?? []).includes(upRef), `the dependent's FROM ${upRef} named the same local image (no second pull): ${JSON.stringify(list)}`);
        assert.equal(list.length, 2, "the upstream and the dependent, nothing else");
        assert.deepEqual(containers(), [], "bud left no build container");

        const released = await releaseRunImages(runId);
        const after = du(graphroot);
        console.log(`      buildah graphroot (du -sb): before ${before}, after both builds ${during}, after the run's release ${after} bytes`);
        assert.deepEqual(released.removed.sort(), [`localhost/warmrun-build/down:${down.tag}`, `localhost/warmrun-build/up:${up.tag}`, upRef].sort());
        assert.deepEqual(images(), []);
        assert.ok(during - before > 16 << 20, "the builds did use this storage (two copies of 8 MiB with vfs)");
        assert.ok(after - before < 64 << 10, `after the release the storage is within 64 KiB of its size before (${after - before} bytes of metadata)`);
        assert.deepEqual(fs.readdirSync(process.env.WARMRUN_BUILDAH_LEDGER!), [], "the run's ledger is gone");
    });
});
