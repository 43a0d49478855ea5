// PackerAppliance's plan: what enters the key (files under root, var files, source files, secret names) and what does not.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { StatCache } from "../../../../components/core/fileset";
import { computeKey } from "../../../../components/core/keys";
import { appliancePlan } from "../../../../components/kinds/packerAppliance/plan";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";
import { NULL_TEMPLATE, spec } from "../../../support/packer";

describe("PackerAppliance plan", () => {
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
});
