// CloudInitIso's wiring under Pulumi's mocks: the seed's content reaches its Artifact only as a secret.
import { strict as assert } from "assert";
import { validateConfig } from "../../../../components/core/config";
import { StatCache } from "../../../../components/core/fileset";
import { buildStack } from "../../../../components/core/stack";
import { registered, resetRegistered, plain, isSecret } from "../../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";

const KEY_TEXT = "-----BEGIN PRIVATE KEY-----\nunit-test-key-material\n-----END PRIVATE KEY-----\n";

describe("CloudInitIso component (mocks)", () => {
    after(removeTempDirs);
    beforeEach(resetRegistered);

    it("the ISO's content is a secret; the Artifact names the ISO's path", async () => {
        const project = tempDir();
        writeTree(project, { "pki/agent.key": KEY_TEXT });
        const cwd = process.cwd();
        process.chdir(project);
        try {
            const raw = {
                "warmrun:registry": "127.0.0.1:5000/warmrun",
                "warmrun:cacheDir": tempDir(),
                "warmrun:artifacts": JSON.stringify({
                    seed: { kind: "CloudInitIso", keys: { "/etc/agent.key": "pki/agent.key" }, secretFiles: { "/etc/other.key": KEY_TEXT } },
                }),
            };
            const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set(["warmrun:artifacts"]) });
            const s = await buildStack(config, new StatCache(), undefined, async () => undefined, { clean: false, commit: "0123456789abcdef", shortCommit: "0123456" });
            await Promise.all(Object.values(s).map((c) => new Promise((r) => c.artifact.id.apply(r))));
            await new Promise((r) => setTimeout(r, 100));
            const iso = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:CloudInitIso")!.inputs;
            assert.ok(isSecret(iso.build), "the rendered seed reaches the provider as a secret");
            assert.ok(plain(iso.build).userData.includes("unit-test-key-material"));
            const rest = JSON.stringify({ ...iso, build: undefined });
            assert.ok(!rest.includes("unit-test-key-material"), rest);
            assert.match(iso.path, /cloud-init\/seed-[0-9a-f]{24}\.iso$/);
        } finally {
            process.chdir(cwd);
        }
    });
});
