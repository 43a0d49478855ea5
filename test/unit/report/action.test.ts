// The GitHub Action's pure parts: inputs, outputs (as action.yml declares them), the comment marker,
// and action.yml itself (its inputs and outputs are the ones the step reads and writes).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { actionOutputs, commentBody, commentMarker, findMarkedComment, INPUT_ENV, outputVariables, parseInputs, pullRequestNumber } from "../../../components/report/action";
import { ReportRow } from "../../../components/report/cacheReport";
import { parseGithubFile, renderGithubFile } from "../../../components/report/ciEnv";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const DIGEST = `sha256:${"b".repeat(64)}`;
const row = (artifact: string, status: ReportRow["status"]): ReportRow => ({ artifact, kind: "FileBundle", status, action: status === "hit" ? "keep" : "build", oldKey: null, newKey: "k", reasons: [], lastBuildSeconds: null });

describe("GitHub Action", () => {
    it("reads its inputs from the step's environment, with defaults and one error per bad input", () => {
        assert.deepEqual(parseInputs({}), { command: "report", stack: undefined, failOnMiss: false, comment: true });
        assert.deepEqual(parseInputs({ [INPUT_ENV.command]: "up", [INPUT_ENV.stack]: "ci", [INPUT_ENV.failOnMiss]: "TRUE", [INPUT_ENV.comment]: "false" }), { command: "up", stack: "ci", failOnMiss: true, comment: false });
        assert.throws(() => parseInputs({ [INPUT_ENV.command]: "destroy" }), /input command is "destroy": give one of up, preview, report/);
        assert.throws(() => parseInputs({ [INPUT_ENV.failOnMiss]: "yes" }), /input fail-on-miss is "yes": give true or false/);
        assert.throws(() => parseInputs({ [INPUT_ENV.stack]: "ci; rm -rf /" }), /input stack/);
    });

    it("outputs the pinned references as JSON, cache-hit, the misses and ci-outputs' variables", () => {
        const stack = { registry: "127.0.0.1:5000/w", outputs: { deps: { pinned: `127.0.0.1:5000/w/deps@${DIGEST}`, digest: DIGEST, cacheHit: true }, secret: { pinned: "[secret]" } } };
        const o = actionOutputs(stack, [row("deps", "hit"), row("new-one", "new"), row("changed", "miss"), row("old", "removed")]);
        assert.deepEqual(o.artifacts, { deps: `127.0.0.1:5000/w/deps@${DIGEST}` });
        assert.equal(o.misses, 2);
        assert.equal(o.cacheHit, false);
        const file = parseGithubFile(renderGithubFile(outputVariables(o)));
        assert.deepEqual(JSON.parse(file.artifacts), o.artifacts);
        assert.equal(file["cache-hit"], "false");
        assert.equal(file.misses, "2");
        assert.equal(file.WARMRUN_DEPS, `127.0.0.1:5000/w/deps@${DIGEST}`);
        assert.equal(file.WARMRUN_DEPS_DIGEST, DIGEST);
        assert.equal(file.WARMRUN_SECRET, undefined);
        assert.equal(actionOutputs({}, [row("deps", "hit")]).cacheHit, true);
    });

    it("finds its earlier comment by the marker on the first line, per stack", () => {
        const marker = commentMarker("ci");
        assert.notEqual(marker, commentMarker("dev"));
        const body = commentBody(marker, "### report\n\n| a |\n");
        assert.ok(body.startsWith(`${marker}\n### report`));
        const comments = [{ id: 1, body: "looks good" }, { id: 2, body: `quoting\n${marker}` }, { id: 3, body }, { id: 4, body }];
        assert.equal(findMarkedComment(comments, marker)?.id, 3);
        assert.equal(findMarkedComment(comments, commentMarker("dev")), undefined);
    });

    it("comments only on pull request events", () => {
        assert.equal(pullRequestNumber("pull_request", { pull_request: { number: 7 } }), 7);
        assert.equal(pullRequestNumber("pull_request_target", { number: 8 }), 8);
        assert.equal(pullRequestNumber("push", { pull_request: { number: 7 } }), undefined);
        assert.equal(pullRequestNumber("pull_request", {}), undefined);
    });

    it("action.yml declares the inputs the step reads and the outputs it writes", () => {
        const action = YAML.parse(fs.readFileSync(path.join(ROOT, "action.yml"), "utf8"));
        assert.equal(action.runs.using, "composite");
        assert.deepEqual(Object.keys(action.inputs).sort(), ["command", "comment", "fail-on-miss", "github-token", "registry-password", "registry-username", "stack", "working-directory"]);
        const run = action.runs.steps.find((s: any) => s.id === "run");
        assert.deepEqual(
            Object.values(INPUT_ENV).map((e) => [e, run.env[e]]),
            [
                [INPUT_ENV.command, "${{ inputs.command }}"],
                [INPUT_ENV.stack, "${{ inputs.stack }}"],
                [INPUT_ENV.failOnMiss, "${{ inputs.fail-on-miss }}"],
                [INPUT_ENV.comment, "${{ inputs.comment }}"],
                [INPUT_ENV.token, "${{ inputs.github-token }}"],
            ],
        );
        for (const name of ["artifacts", "cache-hit", "misses"]) assert.equal(action.outputs[name].value, `\${{ steps.run.outputs.${name} }}`);
        // No input reaches a shell script as an expression (template injection): only through env.
        for (const s of action.runs.steps) if (s.run) assert.doesNotMatch(s.run, /\$\{\{/, `step ${s.name} expands an expression in its script`);
        // Every uses: is pinned by a full commit SHA with its version in a comment.
        const text = fs.readFileSync(path.join(ROOT, "action.yml"), "utf8");
        for (const m of text.matchAll(/uses: (\S+)(.*)/g)) assert.match(`${m[1]}${m[2]}`, /@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    });
});
