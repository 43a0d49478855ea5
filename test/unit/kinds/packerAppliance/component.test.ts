// PackerAppliance's wiring under Pulumi's mocks: the command runner's resource (command line, triggers, environment, secrets); `packer validate` runs for real on a tiny template.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig } from "../../../../components/core/config";
import { StatCache } from "../../../../components/core/fileset";
import { buildStack } from "../../../../components/core/stack";
import { shortKey } from "../../../../components/core/keys";
import { registered, resetRegistered, plain, isSecret } from "../../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";
import { NULL_TEMPLATE } from "../../../support/packer";

describe("PackerAppliance component (mocks)", function () {
    // The first registration loads the Pulumi runtime and the command provider: over 2 s on a busy machine.
    this.timeout(20_000);
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, { "app/t.pkr.hcl": NULL_TEMPLATE, "app/scripts/01-hello.sh": { content: "#!/bin/sh\necho hello\n", mode: 0o755 } });
        pulumi.runtime.setConfig("appliance:password", "s3cret");
    });
    after(removeTempDirs);
    beforeEach(resetRegistered);

    function stack(lookup: (repo: string, tag: string) => Promise<string | undefined>) {
        const raw = {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:cacheDir": tempDir(),
            "warmrun:artifacts": JSON.stringify({
                lab: { kind: "PackerAppliance", template: "app/t.pkr.hcl", runner: "command", vars: { greeting: "hi" }, secretVars: { password: "appliance:password" } },
            }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set(["appliance:password"]) });
        return buildStack(config, new StatCache(), undefined, lookup);
    }
    const settled = (s: Awaited<ReturnType<typeof stack>>) => Promise.all(Object.values(s).map((c) => new Promise((r) => c.artifact.id.apply(r)))).then(() => new Promise((r) => setTimeout(r, 100)));

    it("on a miss, a local.Command runs packer build with triggers = [key]; the secret travels in its environment, as a secret", async () => {
        const s = await stack(async () => undefined);
        await settled(s);
        const commands = registered.filter((r) => r.type === "command:local:Command");
        assert.equal(commands.length, 1);
        const cmd = commands[0].inputs;
        const key = await s.lab.key;
        assert.deepEqual(cmd.triggers, [key]);
        assert.match(cmd.create, /\npacker build -color=false -force -var greeting=hi t\.pkr\.hcl\n$/);
        assert.ok(!cmd.create.includes("s3cret"));
        assert.ok(cmd.dir.endsWith(path.join(`lab-${shortKey(key)}`, "build")), cmd.dir);
        assert.ok(fs.existsSync(path.join(cmd.dir, "scripts/01-hello.sh")), "packer runs in a copy of the key's files");
        assert.ok(isSecret(cmd.environment), "the environment holding the secret is a secret");
        assert.equal(plain(cmd.environment).PKR_VAR_password, "s3cret");
        const artifact = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:PackerAppliance")!.inputs;
        assert.ok(isSecret(artifact.build), "the Artifact's build block carries the secret, so it is a secret");
        assert.equal(plain(artifact.build).runner, "command");
        assert.equal(plain(artifact.build).commandDir, cmd.dir);
        assert.ok(!JSON.stringify(artifact.inputs).includes("s3cret"));
    });

    it("on a hit, registers no Command: the Artifact adopts from the registry", async () => {
        const s = await stack(async () => `sha256:${"e".repeat(64)}`);
        await settled(s);
        assert.equal(registered.filter((r) => r.type === "command:local:Command").length, 0);
        assert.equal(registered.filter((r) => r.type === "pulumi-nodejs:dynamic/warmrun:PackerAppliance").length, 1);
    });
});
