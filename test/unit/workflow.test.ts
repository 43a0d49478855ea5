// The example GitHub Actions workflow is valid YAML, has the documented jobs, runs warmrun through
// its own action (action.yml) and consumes the outputs the action declares.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { variableName } from "../../components/report/ciEnv";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(ROOT, "examples/github-workflow/warmrun.yml");

describe("example GitHub Actions workflow", () => {
    const text = fs.readFileSync(WORKFLOW, "utf8");
    const doc = YAML.parseDocument(text);
    const wf = doc.toJS();
    const action = YAML.parse(fs.readFileSync(path.join(ROOT, "action.yml"), "utf8"));
    const steps = (job: string): any[] => wf.jobs[job].steps;
    const warmrunStep = (job: string) => steps(job).find((s) => s.uses === "./node_modules/warmrun");

    it("parses as YAML, on pull requests and pushes to the default branch", () => {
        assert.deepEqual(doc.errors, []);
        assert.ok("pull_request" in wf.on);
        assert.deepEqual(wf.on.push.branches, ["main"]);
        assert.deepEqual(Object.keys(wf.jobs), ["cache-report", "up", "tests", "vm-tests"]);
    });

    it("pins every action by a full commit SHA with its version in a comment; checkout keeps no credentials", () => {
        const uses = [...text.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
        assert.ok(uses.length >= 8);
        for (const [, ref, rest] of uses) {
            if (ref.startsWith("./")) continue;
            assert.match(ref, /^[\w-]+\/[\w-]+@[0-9a-f]{40}$/, ref);
            assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${ref} has no version comment`);
        }
        for (const job of Object.keys(wf.jobs)) {
            for (const s of steps(job).filter((s) => String(s.uses).startsWith("actions/checkout@"))) assert.equal(s.with["persist-credentials"], false, `${job}: persist-credentials`);
        }
    });

    it("grants nothing at the top and least privilege per job", () => {
        assert.deepEqual(wf.permissions, {});
        assert.deepEqual(wf.jobs["cache-report"].permissions, { contents: "read", "pull-requests": "write" });
        for (const job of ["up", "tests", "vm-tests"]) assert.deepEqual(wf.jobs[job].permissions, { contents: "read" }, job);
    });

    it("pull requests get the report with fail-on-miss under a label; the default branch runs up", () => {
        assert.equal(wf.jobs["cache-report"].if, "github.event_name == 'pull_request'");
        const report = warmrunStep("cache-report");
        assert.equal(report.with.command, "report");
        assert.match(report.with["fail-on-miss"], /frozen-dependencies/);
        assert.equal(wf.jobs.up.if, "github.event_name == 'push'");
        assert.equal(warmrunStep("up").with.command, "up");
        for (const job of ["cache-report", "up"]) {
            for (const input of Object.keys(warmrunStep(job).with)) assert.ok(input in action.inputs, `${job}: action.yml has no input ${input}`);
            // warmrun's package comes from npm ci before the action runs.
            const i = steps(job).indexOf(warmrunStep(job));
            assert.ok(steps(job).slice(0, i).some((s) => s.run === "npm ci"), `${job}: npm ci before the action`);
        }
    });

    it("tests consume digest-pinned outputs: the action's artifacts JSON, else the variables warmrun:github keeps", () => {
        assert.ok("artifacts" in action.outputs);
        assert.equal(wf.jobs.up.outputs["rust-deps"], "${{ fromJSON(steps.warmrun.outputs.artifacts)['rust-deps'] }}");
        assert.equal(wf.jobs.up.outputs["base-qcow2"], "${{ fromJSON(steps.warmrun.outputs.artifacts)['base-qcow2'] }}");
        assert.equal(wf.jobs.tests.container.image, `\${{ needs.up.outputs.rust-deps || vars.${variableName("rust-deps")} }}`);
        assert.deepEqual(wf.jobs.tests.needs, "up");
        assert.match(wf.jobs["vm-tests"].env.DISK_IMAGE, new RegExp(`vars\\.${variableName("base-qcow2")}`));
        assert.match(steps("vm-tests").map((s) => s.run ?? "").join("\n"), /npx warmrun qcow2 pull "\$DISK_IMAGE" disk\/disk.qcow2/);
    });
});
