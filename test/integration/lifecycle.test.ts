// The artifact lifecycle against a real registry (Debian's docker-registry on a free port).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { freePort, startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { digestOf } from "../../components/oci/manifest";
import { KEY_ANNOTATION } from "../../components/oci/annotations";
import { ArtifactInputs, BuildContext, createArtifact, readArtifact } from "../../components/core/lifecycle";
import { build as buildBundle, writeBundleLayer } from "../../components/kinds/fileBundle/build";
import { BUNDLE_KIND } from "../../components/kinds/fileBundle/fields";
import { bundleKeyMaterial } from "../../components/kinds/fileBundle/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { hashFileSet, StatCache } from "../../components/core/fileset";
import * as providerImpl from "../../components/core/providerImpl";

describe("artifact lifecycle against a real registry", function () {
    this.timeout(60_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let journal: string;

    before(async () => {
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        journal = path.join(tempDir(), "journal.jsonl");
        process.env.WARMRUN_JOURNAL = journal;
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    async function bundleInputs(name: string, root: string): Promise<ArtifactInputs> {
        const material = await bundleKeyMaterial(name, { root }, {}, new StatCache());
        const key = computeKey(material);
        return {
            name,
            kind: BUNDLE_KIND,
            key,
            registry: { host: registry.host, insecure: true },
            repository: `test/${name}`,
            tag: shortKey(key),
            aliasTags: [],
            inputs: inputSummary(material),
            build: { root, params: {}, upstream: {} },
        };
    }

    function countingBuilders() {
        const calls = { n: 0 };
        const builders = {
            kinds: (kind: string) =>
                kind === BUNDLE_KIND
                    ? {
                          build: async (ctx: BuildContext) => {
                              calls.n++;
                              return buildBundle(ctx);
                          },
                      }
                    : undefined,
        };
        return { calls, builders };
    }

    it("builds once; the same artifact created again is a hit with zero builder calls", async () => {
        const root = tempDir();
        writeTree(root, { "a.txt": "alpha\n", "bin/run": { content: "#!/bin/sh\n", mode: 0o755 } });
        const inputs = await bundleInputs("twice", root);
        const { calls, builders } = countingBuilders();

        const first = await createArtifact(inputs, builders);
        assert.equal(calls.n, 1);
        assert.equal(first.cacheHit, false);
        assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
        assert.equal(first.pinned, `${registry.host}/test/twice@${first.digest}`);
        assert.equal(await client.resolveTag("test/twice", inputs.tag), first.digest);

        const second = await createArtifact(inputs, builders);
        assert.equal(calls.n, 1, "no builder call on a hit");
        assert.equal(second.cacheHit, true);
        assert.equal(second.digest, first.digest);
        assert.deepEqual(second.downloads, { count: 0, bytes: 0 });

        const manifest = await client.getManifest("test/twice", first.digest);
        assert.equal(manifest?.json.annotations[KEY_ANNOTATION], inputs.key, "the full key travels as an annotation");
        const actions = fs.readFileSync(journal, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.artifact === "twice").map((e) => e.action);
        assert.deepEqual(actions, ["build", "adopt"]);
    });

    it("refresh reports a deleted tag as gone; delete leaves registry content", async () => {
        const root = tempDir();
        writeTree(root, { "b.txt": "beta\n" });
        const inputs = await bundleInputs("gone", root);
        const outs = await createArtifact(inputs, { kinds: providerImpl.buildModuleOf });
        assert.deepEqual(await readArtifact(outs, { kinds: () => undefined }), outs, "intact: unchanged");

        await providerImpl.remove("id", outs);
        assert.equal(await client.resolveTag("test/gone", inputs.tag), outs.digest, "delete left the tag");

        await client.deleteManifest("test/gone", outs.digest);
        assert.equal(await readArtifact(outs, { kinds: () => undefined }), undefined);
        const viaProvider = await providerImpl.read("id", outs);
        assert.equal(viaProvider.id, "", "the provider tells the engine the artifact is gone");
    });

    it("a bundle's layer is byte-identical for copies with other mtimes and umask", async () => {
        const a = tempDir();
        writeTree(a, { "x/y.txt": "y\n", "run.sh": { content: "#!/bin/sh\n", mode: 0o755 } });
        const b = tempDir();
        execFileSync("sh", ["-c", `umask 077 && cp -r "${a}/." "${b}/" && touch -d 2001-01-01 "${b}/x/y.txt"`]);
        const out = tempDir();
        const la = await writeBundleLayer(a, await hashFileSet({ root: a }, new StatCache()), path.join(out, "a.tgz"));
        const lb = await writeBundleLayer(b, await hashFileSet({ root: b }, new StatCache()), path.join(out, "b.tgz"));
        assert.equal(la.digest, lb.digest);
        const listing = execFileSync("tar", ["-tvzf", path.join(out, "a.tgz")], { encoding: "utf8" });
        assert.match(listing, /-rwxr-xr-x 0\/0 .* run\.sh/);
        assert.match(listing, /-rw-r--r-- 0\/0 .* x\/y\.txt/);
    });

    it("nothing is tagged when the inputs changed under the build", async () => {
        const root = tempDir();
        writeTree(root, { "c.txt": "gamma\n" });
        const inputs = await bundleInputs("changed", root);
        fs.writeFileSync(path.join(root, "c.txt"), "gamma, edited\n");
        await assert.rejects(createArtifact(inputs, { kinds: providerImpl.buildModuleOf }), /changed while this run was going on/);
        assert.equal(await client.resolveTag("test/changed", inputs.tag), undefined);
    });

    it("pushes alias tags to the same manifest", async () => {
        const root = tempDir();
        writeTree(root, { "d.txt": "delta\n" });
        const inputs = { ...(await bundleInputs("alias", root)), aliasTags: ["latest", "git-abc123"] };
        const outs = await createArtifact(inputs, { kinds: providerImpl.buildModuleOf });
        assert.equal(await client.resolveTag("test/alias", "latest"), outs.digest);
        assert.equal(await client.resolveTag("test/alias", "git-abc123"), outs.digest);
    });

    it("checks blob existence before uploading", async () => {
        const data = Buffer.from("some blob");
        const blob = { digest: digestOf(data), size: data.length, data };
        assert.equal(await client.pushBlob("test/blobs", blob), true);
        const posts = client.calls.POST ?? 0;
        assert.equal(await client.pushBlob("test/blobs", blob), false, "second push skipped");
        assert.equal(client.calls.POST ?? 0, posts, "no upload started");
    });

    it("an unreachable registry is one clear error", async () => {
        const port = await freePort();
        const dead = new RegistryClient({ host: `127.0.0.1:${port}`, insecure: true });
        await assert.rejects(dead.resolveTag("x/y", "z"), new RegExp(`registry 127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\): start the local registry on port ${port} \\(\`warmrun up\` starts it`));
    });
});
