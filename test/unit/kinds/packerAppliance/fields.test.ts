// PackerAppliance's checks of its fields, through config validation.
import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, ConfigError } from "../../../../components/core/config";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";
import { NULL_TEMPLATE } from "../../../support/packer";

describe("PackerAppliance fields", () => {
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
