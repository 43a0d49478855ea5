// Image builds with real buildah (vfs storage, chroot isolation) into a real registry.
import { strict as assert } from "assert";
import * as path from "path";
import { execFileSync } from "child_process";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { ArtifactInputs, createArtifact } from "../../components/core/lifecycle";
import { KEY_ANNOTATION } from "../../components/oci/annotations";
import { buildModuleOf } from "../../components/core/providerImpl";
import { plan as baseImagePlan } from "../../components/kinds/baseImage/plan";
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
            build: { ...plan.build, builder: "buildah" },
        };
    }

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
            assert.match(e.message, /^broken: buildah exited with \d+; last lines:/);
            assert.match(e.message, /missing\.txt/);
            return true;
        });
        assert.equal(await client.resolveTag("test/broken", inputs.tag), undefined);
        assert.deepEqual(await client.listTags("test/broken"), []);
    });
});
