// The one list of kinds: a kind that exists only for tests (test/kinds/echo, one folder) joins
// the list with one line, and config validation, the stack's wiring (preview and up, under
// Pulumi's mocks) and the provider's build all find it there.
import { strict as assert } from "assert";
import * as path from "path";
import { KINDS, kindFolder, kindNames } from "../../../components/kinds";
import { ConfigError, validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { buildStack } from "../../../components/core/stack";
import { computeKey, shortKey } from "../../../components/core/keys";
import { ArtifactInputs, createArtifact } from "../../../components/core/lifecycle";
import { buildModuleOf } from "../../../components/core/providerImpl";
import { RegistryClient } from "../../../components/oci/registry";
import { KEY_ANNOTATION } from "../../../components/oci/annotations";
import { echo } from "../../kinds/echo/fields";
import { registered, resetRegistered, setPreview, plain } from "../../support/mocks";
import { tempDir, removeTempDirs } from "../../support/tmp";

describe("the list of kinds: a test-only kind through config, preview, up and the provider", () => {
    const raw = (artifacts: Record<string, unknown>) => ({ "warmrun:registry": "127.0.0.1:5000/warmrun", "warmrun:cacheDir": tempDir(), "warmrun:artifacts": JSON.stringify(artifacts) });
    const opts = { projectRoot: process.cwd(), secretKeys: new Set<string>() };
    const echoKey = (text: string, times: number) => computeKey({ kind: "Echo", recipeVersion: 1, files: [], params: { text, times }, upstream: {} });

    before(() => {
        KINDS.push(kindFolder(echo, path.join(__dirname, "../../kinds/echo")));
    });
    after(() => {
        KINDS.splice(KINDS.findIndex((k) => k.definition === echo), 1);
        setPreview(false);
        removeTempDirs();
    });
    beforeEach(resetRegistered);

    it("config validation reads the kind's fields and checks from the list", () => {
        assert.ok(kindNames().includes("Echo"));
        const config = validateConfig(raw({ hello: { kind: "Echo", text: "hi", times: 2 } }), opts);
        assert.deepEqual(config.artifacts.map((a) => [a.name, a.kind, a.fields.text]), [["hello", "Echo", "hi"]]);
        assert.throws(
            () => validateConfig(raw({ hello: { kind: "Echo", txt: "hi", times: 0 } }), opts),
            (e: ConfigError) =>
                e.problems.includes("warmrun:artifacts.hello: unknown field txt (did you mean text?); a Echo takes kind, upstream, text, times") &&
                e.problems.includes("warmrun:artifacts.hello.text is missing: the text to publish") &&
                e.problems.includes("warmrun:artifacts.hello.times must be at least 1, not 0"),
        );
    });

    for (const preview of [true, false]) {
        it(`${preview ? "preview" : "up"} registers its component and Artifact, keyed by its plan, with upstream keys chained`, async () => {
            setPreview(preview);
            const config = validateConfig(raw({ hello: { kind: "Echo", text: "hi", times: 2 }, bundle: { kind: "FileBundle", root: "examples/bundles/toolchain-config", upstream: ["hello"] } }), opts);
            const lookups: string[] = [];
            const stack = await buildStack(config, new StatCache(), undefined, async (repo, tag) => {
                lookups.push(`${repo}:${tag}`);
                return undefined;
            });
            await Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
            assert.equal(stack.hello.key, echoKey("hi", 2));
            assert.ok(registered.some((r) => r.type === "warmrun:index:Echo" && r.name === "hello"));
            const artifact = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:Echo")!.inputs;
            assert.equal(artifact.key, echoKey("hi", 2));
            assert.equal(artifact.tag, shortKey(echoKey("hi", 2)));
            assert.deepEqual(plain(artifact.build), { text: "hihi" });
            const bundle = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:FileBundle")!.inputs;
            assert.equal(bundle.inputs["upstream:hello"], echoKey("hi", 2), "a dependent's key holds the test kind's key");
            assert.deepEqual(lookups.sort(), [`warmrun/bundle:${shortKey(stack.bundle.key)}`, `warmrun/hello:${shortKey(echoKey("hi", 2))}`]);
        });
    }

    it("the provider finds its build in the list and publishes what it builds, manifest last", async () => {
        const pushed: string[] = [];
        const manifests = new Map<string, any>();
        const fake = {
            resolveTag: async () => undefined,
            pushBlob: async (_repo: string, blob: { digest: string }) => (pushed.push(blob.digest), true),
            putManifest: async (_repo: string, tag: string, _type: string, body: Buffer) => {
                pushed.push(`manifest:${tag}`);
                manifests.set(tag, JSON.parse(body.toString()));
                return "sha256:" + "f".repeat(64);
            },
        } as unknown as RegistryClient;
        assert.ok(buildModuleOf("Echo")?.build);
        const key = echoKey("hi", 1);
        const inputs: ArtifactInputs = {
            name: "hello",
            kind: "Echo",
            key,
            registry: { host: "127.0.0.1:5000", insecure: true },
            repository: "warmrun/hello",
            tag: shortKey(key),
            aliasTags: [],
            inputs: {},
            build: { text: "hi" },
            // The fake registry holds no lease (core/lease.ts is tested against a real one).
            leaseSeconds: 0,
        };
        const outs = await createArtifact(inputs, { kinds: buildModuleOf, clientFor: () => fake, journal: false });
        assert.equal(outs.digest, "sha256:" + "f".repeat(64));
        assert.equal(outs.pinned, `127.0.0.1:5000/warmrun/hello@sha256:${"f".repeat(64)}`);
        assert.equal(pushed[pushed.length - 1], `manifest:${shortKey(key)}`, "the manifest goes last");
        assert.equal(manifests.get(shortKey(key)).annotations[KEY_ANNOTATION], key);
    });
});
