// PackerAppliance: the pure parts (key, packer arguments, init decision, manifest, OVF) and, under
// Pulumi's mocks, the @pulumi/command runner's resource (command line, triggers, environment,
// secrets). `packer validate` runs for real on a tiny template (it is part of the program).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, ConfigError } from "../../components/core/config";
import { StatCache } from "../../components/core/fileset";
import { buildStack } from "../../components/core/stack";
import { computeKey, shortKey } from "../../components/core/keys";
import { appliancePlan } from "../../components/kinds/packerAppliance/plan";
import { packerCommandScript, shellQuote } from "../../components/kinds/packerAppliance/command";
import { initDecision, manifestFiles, packerArgs, parsePackerVersion, pickDisk, PackerBuildSpec, secretEnv } from "../../components/kinds/packerAppliance/build";
import { ovfDescriptor } from "../../components/kinds/packerAppliance/ova";
import { registered, resetRegistered, plain, isSecret } from "../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";

const NULL_TEMPLATE = `variable "greeting" {
  type = string
}
variable "password" {
  type    = string
  default = ""
}
source "null" "x" {
  communicator = "none"
}
build {
  sources = ["source.null.x"]
  provisioner "shell-local" {
    script = "scripts/01-hello.sh"
  }
  post-processor "manifest" {
    output = "packer-manifest.json"
  }
}
`;

function spec(over: Partial<PackerBuildSpec> = {}): PackerBuildSpec {
    return {
        runner: "warmrun",
        root: "/r",
        files: ["t.pkr.hcl"],
        template: "t.pkr.hcl",
        varFiles: [],
        vars: {},
        sourceFiles: {},
        secretVars: {},
        sshKey: false,
        only: [],
        manifest: "packer-manifest.json",
        vmdk: false,
        ova: false,
        outputDir: "/o",
        ...over,
    };
}

describe("PackerAppliance: key, arguments, manifest, OVF", () => {
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, {
            "app/t.pkr.hcl": NULL_TEMPLATE,
            "app/scripts/01-hello.sh": { content: "#!/bin/sh\necho hello\n", mode: 0o755 },
            "app/output/old.qcow2": "left from a manual build\n",
            "app/lab.pkrvars.hcl": 'greeting = "hi"\n',
            "disk.qcow2": "source disk v1\n",
        });
    });
    after(removeTempDirs);

    const fields = () => ({
        template: path.join(project, "app/t.pkr.hcl"),
        varFiles: [path.join(project, "app/lab.pkrvars.hcl")],
        sourceFiles: { source_image: path.join(project, "disk.qcow2") },
        secretVars: { password: "appliance:password" },
    });
    const keyOf = async (f: any = fields()) => computeKey((await appliancePlan("lab", f, {}, new StatCache(), "/out")).material);

    it("a provisioner script, a var file or the source disk changes the key; packer outputs and secret values do not", async () => {
        const k0 = await keyOf();
        const plan = await appliancePlan("lab", fields(), {}, new StatCache(), "/out");
        assert.deepEqual(plan.spec.files, ["lab.pkrvars.hcl", "scripts/01-hello.sh", "t.pkr.hcl"], "output/ is not an input");
        assert.deepEqual(plan.material.params.secretVars, ["password"], "secret names count, values never enter");
        assert.deepEqual(plan.spec.secretVars, {});
        fs.writeFileSync(path.join(project, "app/output/old.qcow2"), "another manual build\n");
        assert.equal(await keyOf(), k0);
        fs.writeFileSync(path.join(project, "app/scripts/01-hello.sh"), "#!/bin/sh\necho hello again\n");
        const k1 = await keyOf();
        assert.notEqual(k1, k0);
        fs.writeFileSync(path.join(project, "disk.qcow2"), "source disk v2\n");
        const k2 = await keyOf();
        assert.notEqual(k2, k1);
        fs.writeFileSync(path.join(project, "app/lab.pkrvars.hcl"), 'greeting = "hello"\n');
        assert.notEqual(await keyOf(), k2);
        assert.notEqual(await keyOf({ ...fields(), vars: { lab_name: "x" } }), await keyOf());
    });

    it("packer arguments: var files, sorted variables, source files as absolute paths, template last; secrets only in the environment", () => {
        const args = packerArgs("build", spec({ varFiles: ["/v/a.pkrvars.hcl"], vars: { b: "2", a: "1" }, sourceFiles: { source_image: "/d/disk.qcow2" }, only: ["qemu.x"], secretVars: { password: "s3cret" } }));
        assert.deepEqual(args, ["build", "-color=false", "-force", "-only=qemu.x", "-var-file=/v/a.pkrvars.hcl", "-var", "a=1", "-var", "b=2", "-var", "source_image=/d/disk.qcow2", "t.pkr.hcl"]);
        assert.ok(!args.join(" ").includes("s3cret"));
        assert.deepEqual(secretEnv({ password: "s3cret" }), { PKR_VAR_password: "s3cret" });
    });

    it("packer init: skipped without required_plugins, a clear error when this packer cannot init", () => {
        assert.deepEqual(parsePackerVersion("Packer v1.6.6\n"), [1, 6, 6]);
        assert.equal(initDecision("t.pkr.hcl", NULL_TEMPLATE, [1, 6, 6], "lab").run, false);
        assert.match(initDecision("t.pkr.hcl", NULL_TEMPLATE, [1, 6, 6], "lab").note, /skipped/);
        const withPlugins = 'packer {\n  required_plugins {\n    qemu = { version = ">= 1.0.0", source = "github.com/hashicorp/qemu" }\n  }\n}\n';
        assert.throws(() => initDecision("t.pkr.hcl", withPlugins, [1, 6, 6], "lab"), /lab: the template t\.pkr\.hcl declares required_plugins, but packer 1\.6\.6 has no `packer init` \(it came in 1\.7\)/);
        assert.equal(initDecision("t.pkr.hcl", withPlugins, [1, 9, 4], "lab").run, true);
        assert.equal(initDecision("t.json", withPlugins, [1, 9, 4], "lab").run, false, "JSON templates have no init");
        assert.equal(initDecision("t.pkr.hcl", "# required_plugins {\n", [1, 6, 6], "lab").run, false, "a comment is not a declaration");
    });

    it("reads the files of the manifest's last run and picks the disk", () => {
        const manifest = JSON.stringify({
            builds: [
                { name: "a", files: [{ name: "output/old.qcow2", size: 1 }], packer_run_uuid: "r1" },
                { name: "a", files: [{ name: "output/appliance.qcow2", size: 300 }, { name: "output/notes.txt", size: 900 }], packer_run_uuid: "r2" },
            ],
            last_run_uuid: "r2",
        });
        const files = manifestFiles(manifest);
        assert.deepEqual(files.map((f) => f.name), ["output/appliance.qcow2", "output/notes.txt"]);
        assert.equal(pickDisk(files), "output/appliance.qcow2");
        assert.throws(() => manifestFiles("not json"), /not JSON/);
    });

    it("the OVF descriptor names the VMDK, its size and the disk's capacity", () => {
        const ovf = ovfDescriptor({ name: "lab<1>", vmdkName: "lab.vmdk", vmdkSize: 1234, capacityBytes: 1610612736 });
        assert.match(ovf, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Envelope /);
        assert.match(ovf, /<File ovf:id="file1" ovf:href="lab\.vmdk" ovf:size="1234"\/>/);
        assert.match(ovf, /ovf:capacity="1610612736"/);
        assert.match(ovf, /vmdk\.html#streamOptimized/);
        assert.match(ovf, /<Name>lab&lt;1&gt;<\/Name>/);
        const opened = (ovf.match(/<Item>/g) ?? []).length;
        assert.equal(opened, (ovf.match(/<\/Item>/g) ?? []).length);
        assert.equal(opened, 5);
    });

    it("the command runner's script: packer check, a throwaway SSH key, packer build; no secret in it", () => {
        const script = packerCommandScript(spec({ sshKey: true, vars: { lab_name: "my lab" }, secretVars: { password: "s3cret" } }), NULL_TEMPLATE);
        assert.match(script, /^set -eu\ncommand -v packer >\/dev\/null \|\| \{ echo "packer is not installed: run \\`npm run setup\\`" >&2; exit 127; \}\n/);
        assert.match(script, /ssh-keygen -q -t ed25519 -N '' -C packer-build -f "\$keydir\/id_ed25519"\n/);
        assert.match(script, /packer build -color=false -force -var 'lab_name=my lab' -var "ssh_private_key_file=\$keydir\/id_ed25519" -var "ssh_public_key=\$\(cat "\$keydir\/id_ed25519.pub"\)" t\.pkr\.hcl\n$/);
        assert.ok(!script.includes("s3cret"));
        assert.ok(!script.includes("packer init"));
        assert.equal(shellQuote("it's"), `'it'\\''s'`);
    });
});

describe("PackerAppliance config validation", () => {
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, { "app/t.pkr.hcl": NULL_TEMPLATE, "app/scripts/01-hello.sh": "echo\n" });
    });
    after(removeTempDirs);

    const problems = (lab: Record<string, unknown>, secretKeys: string[] = []): string[] => {
        try {
            validateConfig({ "warmrun:registry": "127.0.0.1:5000/w", "warmrun:artifacts": JSON.stringify({ lab: { kind: "PackerAppliance", template: "app/t.pkr.hcl", ...lab } }) }, { projectRoot: project, secretKeys: new Set(secretKeys) });
            return [];
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return e.problems;
        }
    };

    it("names a missing var file, a missing source file, a plaintext secret and a bad runner", () => {
        assert.deepEqual(problems({ varFiles: ["app/lab.pkrvars.hcl"] }), ["warmrun:artifacts.lab.varFiles[0]: file app/lab.pkrvars.hcl does not exist: create it or fix the path (relative to the project)"]);
        assert.deepEqual(problems({ sourceFiles: { source_image: "disk.qcow2" } }), ["warmrun:artifacts.lab.sourceFiles.source_image: file disk.qcow2 does not exist: create it or fix the path (relative to the project)"]);
        assert.deepEqual(problems({ secretVars: { password: "appliance:password" } }), ["warmrun:artifacts.lab.secretVars.password: appliance:password is not set as a secret: set it with `pulumi config set --secret appliance:password`"]);
        assert.deepEqual(problems({ secretVars: { password: "appliance:password" } }, ["appliance:password"]), []);
        assert.deepEqual(problems({ runner: "docker" }), ['warmrun:artifacts.lab.runner "docker" is not one of warmrun, command']);
        assert.deepEqual(problems({ template: "app/missing.pkr.hcl" }), ["warmrun:artifacts.lab.template: file app/missing.pkr.hcl does not exist: create it or fix the path (relative to the project)"]);
    });
});

describe("PackerAppliance command runner (mocks)", () => {
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
