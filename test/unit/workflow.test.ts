// The example GitHub Actions workflow is valid YAML, has the documented jobs, and calls only npm
// scripts and variables this project defines.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { variableName } from "../../components/report/ciEnv";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(ROOT, "examples/github-workflow/warmrun.yml");

describe("example GitHub Actions workflow", () => {
    const doc = YAML.parseDocument(fs.readFileSync(WORKFLOW, "utf8"));
    const wf = doc.toJS();
    const runs = (job: string): string => (wf.jobs[job].steps as any[]).map((s) => s.run ?? "").join("\n");

    it("parses as YAML, on pull requests and pushes to the default branch", () => {
        assert.deepEqual(doc.errors, []);
        assert.ok("pull_request" in wf.on);
        assert.deepEqual(wf.on.push.branches, ["main"]);
        assert.deepEqual(Object.keys(wf.jobs), ["cache-report", "up", "tests", "vm-tests"]);
    });

    it("every npm run names a script of package.json", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
        const used = [...Object.keys(wf.jobs).map(runs).join("\n").matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]);
        assert.deepEqual([...new Set(used)].sort(), ["cache-report", "ci-outputs", "qcow2", "up"]);
        for (const s of used) assert.ok(s in scripts, `package.json has no script ${s}`);
    });

    it("pull requests get the report (summary, comment, --fail-on-miss); the default branch runs up then ci-outputs", () => {
        assert.equal(wf.jobs["cache-report"].if, "github.event_name == 'pull_request'");
        assert.match(runs("cache-report"), /npm run --silent cache-report -- .*--format markdown .*--fail-on-miss/);
        assert.match(runs("cache-report"), /GITHUB_STEP_SUMMARY/);
        assert.equal(wf.jobs.up.if, "github.event_name == 'push'");
        assert.match(runs("up"), /npm run up[\s\S]*npm run --silent ci-outputs -- .*--format github-output/);
    });

    it("tests consume digest-pinned outputs under the names ci-outputs and warmrun:github give them", () => {
        assert.equal(wf.jobs.up.outputs["rust-deps"], `\${{ steps.outputs.outputs.${variableName("rust-deps")} }}`);
        assert.equal(wf.jobs.up.outputs["base-qcow2"], `\${{ steps.outputs.outputs.${variableName("base-qcow2")} }}`);
        assert.equal(wf.jobs.tests.container.image, `\${{ needs.up.outputs.rust-deps || vars.${variableName("rust-deps")} }}`);
        assert.deepEqual(wf.jobs.tests.needs, "up");
        assert.match(wf.jobs["vm-tests"].env.DISK_IMAGE, new RegExp(`vars\\.${variableName("base-qcow2")}`));
        assert.match(runs("vm-tests"), /npm run qcow2 -- pull "\$DISK_IMAGE" disk\/disk.qcow2/);
    });
});
