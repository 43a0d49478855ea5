// actionlint and zizmor (offline) on action.yml and the example workflow: no finding above low.
// The workflow is linted in a repository laid out as a user's: .github/workflows/ and the action
// under node_modules/warmrun, so actionlint checks the workflow's inputs against action.yml.
// Each linter also sees a broken copy and must object: a linter that finds nothing proves nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { actionlint, actionlintPath, zizmor, zizmorPath } from "../support/linters";

const ROOT = path.resolve(__dirname, "..", "..");
const ACTION = path.join(ROOT, "action.yml");
const WORKFLOW = path.join(ROOT, "examples/github-workflow/warmrun.yml");

function userRepo(workflow: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-lint-"));
    fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
    fs.mkdirSync(path.join(dir, "node_modules", "warmrun"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".github", "workflows", "warmrun.yml"), workflow);
    fs.copyFileSync(ACTION, path.join(dir, "node_modules", "warmrun", "action.yml"));
    execFileSync("git", ["init", "-q"], { cwd: dir });
    return dir;
}

const ABOVE_LOW = ["Medium", "High"];

describe("workflow linters", function () {
    this.timeout(60000);
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("a missing linter fails naming it and npm run setup", () => {
        const saved = process.env.WARMRUN_CACHE;
        process.env.WARMRUN_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-nolint-"));
        dirs.push(process.env.WARMRUN_CACHE);
        try {
            assert.throws(actionlintPath, /^Error: actionlint is not installed: run `npm run setup`/);
            assert.throws(zizmorPath, /^Error: zizmor is not installed: run `npm run setup`/);
        } finally {
            if (saved === undefined) delete process.env.WARMRUN_CACHE;
            else process.env.WARMRUN_CACHE = saved;
        }
    });

    it("actionlint: the example workflow, its inputs checked against action.yml, has no error", () => {
        const dir = userRepo(fs.readFileSync(WORKFLOW, "utf8"));
        dirs.push(dir);
        assert.deepEqual(actionlint(dir), []);
        const broken = userRepo(fs.readFileSync(WORKFLOW, "utf8").replace("command: up", "command: up\n          no-such-input: x"));
        dirs.push(broken);
        const errors = actionlint(broken);
        assert.equal(errors.length, 1, JSON.stringify(errors));
        assert.match(errors[0].message, /input "no-such-input" is not defined in action "warmrun"/);
    });

    it("zizmor --offline: action.yml and the example workflow have no finding above low", () => {
        const findings = zizmor([ACTION, WORKFLOW]);
        const serious = findings.filter((f) => ABOVE_LOW.includes(f.severity));
        assert.deepEqual(serious, [], serious.map((f) => `${f.severity} ${f.ident} at ${f.where}: ${f.desc}`).join("\n"));
        // What is left is low or informational: the local action's `./` path (self-repository).
        for (const f of findings) assert.ok(["Low", "Informational", "Unknown"].includes(f.severity), f.ident);
    });

    it("zizmor objects to an action pinned by tag and a checkout that keeps its credentials", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-zizmor-"));
        dirs.push(dir);
        const bad = fs
            .readFileSync(WORKFLOW, "utf8")
            .replace(/actions\/checkout@[0-9a-f]{40} # v4.2.2\n(\s+)with:\n\s+persist-credentials: false/, "actions/checkout@v4\n$1with:\n$1  fetch-depth: 1");
        assert.notEqual(bad, fs.readFileSync(WORKFLOW, "utf8"));
        const file = path.join(dir, "warmrun.yml");
        fs.writeFileSync(file, bad);
        const idents = new Set(zizmor([file]).filter((f) => ABOVE_LOW.includes(f.severity)).map((f) => f.ident));
        assert.ok(idents.has("unpinned-uses"), [...idents].join(", "));
        assert.ok(idents.has("artipacked"), [...idents].join(", "));
    });
});
