// The report and ci-outputs commands as processes, on saved engine output (no engine needed): options, output
// files and exit codes.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile } from "child_process";
import { tempDir, removeTempDirs } from "../support/tmp";
import { parseMarkdown } from "../../components/report/cacheReport";

const ROOT = path.resolve(__dirname, "..", "..");
const PREVIEW = path.join(ROOT, "test/fixtures/preview-replace.json");

function script(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(path.join(ROOT, "node_modules/.bin/ts-node"), ["--transpile-only", `scripts/${name}.ts`, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, stdout, stderr }),
        );
    });
}

describe("cache-report and ci-outputs commands", function () {
    this.timeout(60_000);
    after(removeTempDirs);

    it("cache-report: Markdown to a file (appended), the summary to the terminal, exit 3 on a miss with --fail-on-miss", async () => {
        const dir = tempDir();
        const md = path.join(dir, "summary.md");
        fs.writeFileSync(md, "earlier step\n");
        const r = await script("cache-report", ["--preview-json", PREVIEW, "--journal", path.join(dir, "none.jsonl"), "--format", "markdown", "--output", md, "--append", "--fail-on-miss", "--stack", "ci"]);
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stdout, "2 misses, 2 to build, about 0.1 s of builds\n");
        const text = fs.readFileSync(md, "utf8");
        assert.ok(text.startsWith("earlier step\n### warmrun cache report (stack `ci`)"));
        assert.deepEqual(parseMarkdown(text).map((row) => row.artifact), ["base", "docs", "app"]);
    });

    it("bad arguments exit 2 naming the problem and the usage", async () => {
        const r = await script("cache-report", ["--format", "html"]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--format html is not one of table, markdown, json\nusage: npm run cache-report/);
        const c = await script("ci-outputs", ["--format", "github-output"], { GITHUB_OUTPUT: "" });
        assert.equal(c.code, 2);
        assert.match(c.stderr, /--format github-output needs --output FILE or \$GITHUB_OUTPUT/);
    });

    it("ci-outputs appends to $GITHUB_OUTPUT by default", async () => {
        const dir = tempDir();
        const outputs = path.join(dir, "outputs.json");
        fs.writeFileSync(outputs, JSON.stringify({ registry: "127.0.0.1:5000/warmrun", outputs: { "rust-deps": { pinned: "127.0.0.1:5000/warmrun/rust-deps@sha256:1", digest: "sha256:1" } } }));
        const file = path.join(dir, "github-output");
        fs.writeFileSync(file, "earlier=1\n");
        const r = await script("ci-outputs", ["--outputs-json", outputs, "--fields", "pinned"], { GITHUB_OUTPUT: file });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(fs.readFileSync(file, "utf8"), "earlier=1\nWARMRUN_REGISTRY=127.0.0.1:5000/warmrun\nWARMRUN_RUST_DEPS=127.0.0.1:5000/warmrun/rust-deps@sha256:1\n");
    });
});
