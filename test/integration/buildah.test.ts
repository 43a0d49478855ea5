// Image builds with real buildah (the driver warmrun uses: vfs unless STORAGE_DRIVER, chroot isolation) into a real registry.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { ArtifactInputs, createArtifact } from "../../components/core/lifecycle";
import { KEY_ANNOTATION } from "../../components/oci/annotations";
import { buildModuleOf } from "../../components/core/providerImpl";
import { plan as baseImagePlan } from "../../components/kinds/baseImage/plan";
import { budArgs } from "../../components/images/buildah";
import { storageDriver } from "../../components/images/storage";
import { layerCacheRepository } from "../../components/images/layerCache";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";

function requireBuildah(): void {
    try {
        execFileSync("sh", ["-c", "command -v buildah"], { stdio: "ignore" });
    } catch {
        throw new Error("buildah is not installed: run `npm run setup` (it installs Debian's buildah)");
    }
}

describe("BaseImage with buildah against a real registry", function () {
    this.timeout(180_000);
    let registry: TestRegistry;
    let client: RegistryClient;

    before(async () => {
        requireBuildah();
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        process.env.WARMRUN_JOURNAL = path.join(tempDir(), "journal.jsonl");
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    async function imageInputs(name: string, containerfile: string, files: Record<string, string>): Promise<ArtifactInputs> {
        const dir = tempDir();
        writeTree(dir, { Containerfile: containerfile, ...files });
        const plan = await baseImagePlan({ containerfile: path.join(dir, "Containerfile") }, { name, projectRoot: dir, upstream: {}, statCache: new StatCache(), resolveImage: async () => assert.fail("FROM scratch asks no registry") });
        const key = computeKey(plan.material);
        return {
            name,
            kind: "BaseImage",
            key,
            registry: { host: registry.host, insecure: true },
            repository: `test/${name}`,
            tag: shortKey(key),
            aliasTags: [],
            inputs: inputSummary(plan.material),
            // As BaseImage's wiring sets it (kinds/baseImage/component.ts): step reuse under its own repository.
            build: { ...plan.build, layerCache: layerCacheRepository(registry.host, `test/${name}`), builder: "buildah" },
        };
    }

    it("step reuse: a miss that changes only the last step takes the earlier steps from the registry's layer cache", async () => {
        const files = { "a.txt": "first step\n", "b.txt": "second step, v1\n" };
        const containerfile = "FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\n";
        const first = await imageInputs("steps", containerfile, files);
        assert.equal(first.build.layerCache, `${registry.host}/test/steps/cache`, "under the artifact's own repository");
        await createArtifact(first, { kinds: buildModuleOf });
        const cached = await client.listTags("test/steps/cache");
        assert.ok(cached.length >= 1, `buildah pushed the steps to the cache: ${cached.join(", ")}`);

        // The next miss, on a machine with an empty local store (its own storage root): the first
        // step comes from the registry, the changed one runs.
        const second = await imageInputs("steps", containerfile, { ...files, "b.txt": "second step, v2\n" });
        assert.notEqual(second.key, first.key);
        const dir = tempDir();
        writeTree(dir, { Containerfile: containerfile, "context/a.txt": files["a.txt"], "context/b.txt": "second step, v2\n" });
        const store = tempDir("warmrun-buildah-store-");
        const args = budArgs(second.build, { contextDir: path.join(dir, "context"), containerfile: path.join(dir, "Containerfile"), image: "localhost/steps:second", insecure: true, labels: {} });
        const out = execFileSync("buildah", ["--root", path.join(store, "root"), "--runroot", path.join(store, "run"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        assert.match(out, /STEP 2\/3: COPY a\.txt \/a\.txt\n--> Cache pulled from remote /);
        assert.doesNotMatch(out.split("STEP 3/3")[1], /Cache pulled from remote|Using cache/, "the changed step runs");
        execFileSync("buildah", ["--root", path.join(store, "root"), "--runroot", path.join(store, "run"), "--storage-driver", storageDriver(), "rmi", "--all", "--force"], { stdio: "ignore" });

        // The cache never decides a hit: the second key is still a miss, and builds.
        const outs = await createArtifact(second, { kinds: buildModuleOf });
        assert.equal(outs.cacheHit, false);
        assert.equal(await client.resolveTag("test/steps", second.tag), outs.digest);
    });

    it("a build with step reuse whose RUN step fails leaves no working container behind (one would hold its images in storage for good)", async () => {
        const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((f) => fs.existsSync(f));
        assert.ok(busybox, "busybox is not installed: run `npm run setup` (it installs Debian's busybox-static)");
        const dir = tempDir();
        writeTree(dir, { Containerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "false"]\n' });
        fs.mkdirSync(path.join(dir, "context"));
        fs.copyFileSync(busybox!, path.join(dir, "context", "busybox"));
        const inputs = await imageInputs("failing-run", "FROM scratch\n", {});
        const store = tempDir("warmrun-buildah-store-");
        const storage = ["--root", path.join(store, "root"), "--runroot", path.join(store, "run")];
        const args = budArgs(inputs.build, { contextDir: path.join(dir, "context"), containerfile: path.join(dir, "Containerfile"), image: "localhost/failing-run:x", insecure: true, labels: {} });
        assert.throws(() => execFileSync("buildah", [...storage, ...args], { stdio: "ignore" }), "the RUN step fails the build");
        const containers = JSON.parse(execFileSync("buildah", [...storage, "--storage-driver", storageDriver(), "containers", "--all", "--json"], { encoding: "utf8" }) || "[]") ?? [];
        assert.deepEqual(containers.map((c: any) => c.containername), [], "no working container left");
    });

    it("builds, labels the image with its key and pushes it under the key tag", async () => {
        const inputs = await imageInputs("hello", "FROM scratch\nCOPY hello.txt /hello.txt\n", { "hello.txt": "hello\n" });
        const outs = await createArtifact(inputs, { kinds: buildModuleOf });
        assert.equal(outs.cacheHit, false);
        assert.equal(await client.resolveTag("test/hello", inputs.tag), outs.digest);
        const manifest = await client.getManifest("test/hello", outs.digest);
        assert.equal(manifest?.json.annotations?.[KEY_ANNOTATION], inputs.key);
        const again = await createArtifact(inputs, { kinds: buildModuleOf });
        assert.equal(again.cacheHit, true);
    });

    it("a Containerfile that fails to build is one clear error, and no tag is pushed", async () => {
        const inputs = await imageInputs("broken", "FROM scratch\nCOPY missing.txt /missing.txt\n", { "present.txt": "x\n" });
        await assert.rejects(createArtifact(inputs, { kinds: buildModuleOf }), (e: Error) => {
            assert.match(e.message, /^broken: the image build failed \(buildah bud exited with \d+\), so nothing was pushed: fix the Containerfile or the build context of warmrun:artifacts\.broken and run again; last lines:/);
            assert.match(e.message, /missing\.txt/);
            return true;
        });
        assert.equal(await client.resolveTag("test/broken", inputs.tag), undefined);
        assert.deepEqual(await client.listTags("test/broken"), []);
    });
});
