// End-to-end: a BaseImage FROM an "external" image (the local registry serves it under a tag) on
// the real Pulumi engine with real buildah. The digest behind the tag is the key: moving the tag
// is a miss whose reason names both digests, the rebuild is on the new layers, an unmoved tag
// changes nothing. Real clients read what was pushed: skopeo the provenance annotations, ORAS the
// SBOM referrer, pyspdxtools its SPDX 2.3 validity, dpkg-query the tree it lists.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { dpkgQuery, pushExternalImage, rawManifest, requireBuildah, spdxDebs, unpackWithSkopeo } from "../support/external";
import { oras, orasPath } from "../support/oras";
import { pyspdxtoolsPath, validateSpdx } from "../support/spdx";
import { readJournal } from "../../components/core/journal";
import { reportRows } from "../../components/report/cacheReport";

describe("external images pinned by digest, provenance and SBOM (real engine, buildah)", function () {
    this.timeout(600_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let journal: string;
    let external: string;
    let first: { digest: string; key: string; external: string };
    const builds = () => readJournal(journal).filter((e) => e.action === "build").map((e) => e.artifact);

    before(async () => {
        engineDir();
        requireBuildah();
        orasPath();
        pyspdxtoolsPath();
        registry = await startRegistry();
        work = tempDir("warmrun-pin-e2e-");
        journal = path.join(work, "journal.jsonl");
        external = `${registry.host}/ext/base`;
        writeTree(path.join(work, "inputs"), {
            // The image through ARGs: its default, then the tag, are substituted before resolution.
            "app/Containerfile": `ARG EXT=${external}\nARG TAG=latest\nFROM \${EXT}:\${TAG}\nCOPY app.txt /app.txt\n`,
            "app/app.txt": "the app\n",
            "notes/README.md": "# notes\n",
        });
        const configFile = path.join(work, "Pulumi.pin.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": `${registry.host}/e2e`,
                    "warmrun:builder": "buildah",
                    "warmrun:cacheDir": path.join(work, "cache"),
                    "warmrun:artifacts": {
                        app: { kind: "BaseImage", containerfile: path.join(work, "inputs/app/Containerfile"), buildArgs: { TAG: "stable" } },
                        notes: { kind: "FileBundle", root: path.join(work, "inputs/notes") },
                    },
                },
            }),
        );
        session = new EngineSession(work, "pin", configFile, { WARMRUN_JOURNAL: journal, WARMRUN_REPORT_LOOKUPS: "1" });
        await session.init();
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("a. up resolves FROM <external>:stable at preview and builds on exactly that digest", async () => {
        const e1 = pushExternalImage(`${external}:stable`, "v1");
        const r = await session.run(["up", "--yes"]);
        assert.match(r.stdout, new RegExp(`app: FROM ${external}:stable \\(line 3\\) is ${e1}: the build uses ${external}@${e1}`));
        assert.deepEqual(builds().sort(), ["app", "notes"]);
        const app = (await session.outputs()).outputs.app;
        const built = rawManifest(`${registry.host}/e2e/app@${app.digest}`);
        const base = rawManifest(`${external}@${e1}`);
        assert.deepEqual(built.layers.slice(0, base.layers.length).map((l: any) => l.digest), base.layers.map((l: any) => l.digest), "the base layers are the external image's");
        first = { digest: app.digest, key: app.key, external: e1 };
    });

    it("b. skopeo shows the provenance annotations on the image and the bundle", async () => {
        const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
        const seconds = Number(execFileSync("git", ["show", "-s", "--format=%ct", "HEAD"], { cwd: PROJECT_ROOT, encoding: "utf8" }).trim());
        const created = new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
        const remote = execFileSync("git", ["remote"], { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
        const out = (await session.outputs()).outputs;
        const image = rawManifest(`${registry.host}/e2e/app@${out.app.digest}`).annotations;
        assert.equal(image["org.opencontainers.image.revision"], commit);
        assert.equal(image["org.opencontainers.image.created"], created, "the commit's time, not the build's");
        assert.equal(image["org.opencontainers.image.base.name"], `${external}@${first.external}`);
        assert.equal(image["org.opencontainers.image.base.digest"], first.external);
        assert.equal(image["dev.warmrun.key"], out.app.key);
        assert.equal("org.opencontainers.image.source" in image, remote !== "", "a source exactly when the checkout has a remote");
        const bundle = rawManifest(`${registry.host}/e2e/notes@${out.notes.digest}`);
        assert.equal(bundle.annotations["org.opencontainers.image.revision"], commit);
        assert.equal(bundle.annotations["org.opencontainers.image.created"], created);
        assert.deepEqual(bundle.layers.map((l: any) => l.annotations?.["org.opencontainers.image.title"]), ["notes.tar.gz"]);
    });

    it("c. ORAS lists the SBOM referrer and pulls it; it is valid SPDX 2.3 and lists what dpkg-query finds in the image's tree", async () => {
        const ref = `${registry.host}/e2e/app@${first.digest}`;
        const found = JSON.parse(oras(["discover", "--format", "json", "--artifact-type", "application/spdx+json", ref]));
        const referrers = found.referrers ?? found.manifests ?? [];
        assert.equal(referrers.length, 1, JSON.stringify(found));
        const dir = tempDir("warmrun-oras-");
        oras(["pull", "-o", dir, `${registry.host}/e2e/app@${referrers[0].digest}`]);
        const doc = JSON.parse(fs.readFileSync(path.join(dir, "sbom.spdx.json"), "utf8"));
        assert.deepEqual(validateSpdx(doc), []);
        const fromDpkg = dpkgQuery(unpackWithSkopeo(ref));
        assert.ok(fromDpkg.length > 10, `dpkg-query found ${fromDpkg.length} packages`);
        assert.deepEqual(spdxDebs(doc), fromDpkg);
        const img = doc.packages.find((p: any) => p.name === `${external}:stable`);
        assert.equal(img?.versionInfo, first.external, "the external image, by digest");
        console.log(`      SBOM: ${fromDpkg.length} Debian packages, ${doc.packages.filter((p: any) => p.primaryPackagePurpose === "FILE").length} input files, ${fs.statSync(path.join(dir, "sbom.spdx.json")).size} bytes`);
    });

    it("d. with the tag unchanged, up changes nothing and builds nothing", async () => {
        const before = builds().length;
        await session.run(["up", "--yes", "--expect-no-changes"]);
        assert.equal(builds().length, before);
        assert.equal((await session.outputs()).outputs.app.key, first.key);
    });

    it("e. the tag moves: preview is a miss naming the image and both digests; up rebuilds on the new layers; then nothing changes", async () => {
        const e2 = pushExternalImage(`${external}:stable`, "v2");
        assert.notEqual(e2, first.external);
        const preview = JSON.parse((await session.run(["preview", "--json"])).stdout);
        const step = preview.steps.find((s: any) => s.urn.endsWith("::app") && s.op === "replace");
        assert.ok(step, `app is replaced: ${preview.steps.map((s: any) => `${s.op} ${s.urn.split("::").pop()}`).join(", ")}`);
        assert.ok(step.replaceReasons.includes(`inputs["image:FROM ${external}:stable"]`), step.replaceReasons.join(" "));
        const row = reportRows(preview).find((r) => r.artifact === "app")!;
        assert.equal(row.status, "miss");
        assert.deepEqual(row.reasons, [`FROM ${external}:stable moved: ${first.external} -> ${e2}`]);
        assert.equal(reportRows(preview).find((r) => r.artifact === "notes")!.status, "hit");

        const before = builds().length;
        await session.run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(builds().slice(before), ["app"]);
        const app = (await session.outputs()).outputs.app;
        assert.notEqual(app.key, first.key);
        const built = rawManifest(`${registry.host}/e2e/app@${app.digest}`);
        const base = rawManifest(`${external}@${e2}`);
        assert.deepEqual(built.layers.slice(0, base.layers.length).map((l: any) => l.digest), base.layers.map((l: any) => l.digest), "rebuilt on the new base layers");
        assert.equal(built.annotations["org.opencontainers.image.base.digest"], e2);
        await session.run(["up", "--yes", "--expect-no-changes"]);
        assert.equal(builds().length, before + 1);
    });

    it("f. an image that cannot be resolved fails the preview with one message: artifact, Containerfile line, fix; opting out is possible", async () => {
        writeTree(path.join(work, "inputs"), { "gone/Containerfile": `FROM ${registry.host}/ext/gone:1\nCOPY x /x\n`, "gone/x": "x\n" });
        const cfg = (pin?: boolean) => {
            const file = path.join(work, `Pulumi.gone${pin === false ? "-unsafe" : ""}.yaml`);
            const gone: Record<string, unknown> = { kind: "BaseImage", containerfile: path.join(work, "inputs/gone/Containerfile"), ...(pin === false ? { pinExternalImages: false } : {}) };
            fs.writeFileSync(file, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:builder": "buildah", "warmrun:cacheDir": path.join(work, "cache"), "warmrun:artifacts": { gone } } }));
            return file;
        };
        const other = new EngineSession(work, "gone", cfg(), { WARMRUN_JOURNAL: journal });
        await other.init();
        const r = await other.run(["preview"], { allowFailure: true });
        assert.notEqual(r.code, 0);
        const text = r.stdout + r.stderr;
        assert.match(text, new RegExp(`gone: an image of .*inputs/gone/Containerfile cannot be pinned by digest`));
        assert.match(text, new RegExp(`FROM ${registry.host}/ext/gone:1 \\(.*inputs/gone/Containerfile line 1\\) cannot be resolved: ${registry.host}/ext/gone has no tag 1`));
        assert.match(text, /warmrun:artifacts\.gone\.pinExternalImages: false/);
        assert.doesNotMatch(text, /at Object\.<anonymous>|\.ts:\d+:\d+/, "no stack trace");

        const unsafe = new EngineSession(work, "gone-unsafe", cfg(false), { WARMRUN_JOURNAL: journal });
        await unsafe.init();
        const ok = await unsafe.run(["preview"], { allowFailure: true });
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    });
});
