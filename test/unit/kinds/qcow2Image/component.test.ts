// Qcow2Image's wiring under Pulumi's mocks: the disk's tag and alias, built from the upstream's pinned digest.
import { strict as assert } from "assert";
import { validateConfig } from "../../../../components/core/config";
import { StatCache } from "../../../../components/core/fileset";
import { buildStack } from "../../../../components/core/stack";
import { shortKey } from "../../../../components/core/keys";
import { registered, resetRegistered } from "../../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";

describe("Qcow2Image component (mocks)", () => {
    after(removeTempDirs);
    beforeEach(resetRegistered);

    it("the disk is tagged base-qcow2-<key>, aliased base-qcow2-<git-sha>, built from the upstream's pinned digest", async () => {
        const project = tempDir();
        writeTree(project, { "base/os-release": "ID=debian\n" });
        const cwd = process.cwd();
        process.chdir(project);
        try {
            const raw = {
                "warmrun:registry": "127.0.0.1:5000/warmrun",
                "warmrun:cacheDir": tempDir(),
                "warmrun:artifacts": JSON.stringify({
                    base: { kind: "FileBundle", root: "base" },
                    disk: { kind: "Qcow2Image", upstream: ["base"], size: "1G" },
                }),
            };
            const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set(["warmrun:artifacts"]) });
            const s = await buildStack(config, new StatCache(), undefined, async () => undefined, { clean: false, commit: "0123456789abcdef", shortCommit: "0123456" });
            await Promise.all(Object.values(s).map((c) => new Promise((r) => c.artifact.id.apply(r))));
            await new Promise((r) => setTimeout(r, 100));
            const disk = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:Qcow2Image")!.inputs;
            assert.equal(disk.tag, `base-qcow2-${shortKey(await s.disk.key)}`);
            assert.deepEqual(disk.aliasTags, ["base-qcow2-0123456"]);
            assert.equal(disk.build.upstreamRef, `127.0.0.1:5000/warmrun/base@sha256:${"d".repeat(64)}`);
            assert.equal(disk.inputs["upstream:base"], await s.base.key);
        } finally {
            process.chdir(cwd);
        }
    });
});
