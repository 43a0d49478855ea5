// PackerAppliance's provider side, its pure parts: packer's arguments, the init decision, the manifest post-processor's files.
import { strict as assert } from "assert";
import { initDecision, manifestFiles, packerArgs, parsePackerVersion, pickDisk, secretEnv } from "../../../../components/kinds/packerAppliance/build";
import { NULL_TEMPLATE, spec } from "../../../support/packer";

describe("PackerAppliance build: packer arguments, init, manifest", () => {
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
});
