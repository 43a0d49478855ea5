// The GitHub Action (action.yml) run step by step on this machine (test/support/actionRunner.ts:
// simulated $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $GITHUB_ENV and event payloads) as warmrun's own
// repository uses it (`uses: ./`): a throwaway two-bundle stack file in this checkout, its state
// in a temporary backend, on the real engine and a registry of its own. GitHub's comments API is
// a stand-in on 127.0.0.1 that records the requests (GitHub is out of reach).
//
//   1. report on a pull request: npm and the engine cached by their keys, both artifacts new, the
//      report in the summary, one comment;
//   2. up on a push: both built, their pinned references as outputs and in $GITHUB_ENV (skopeo's
//      digests as the oracle), the journal's entries under the workflow run's id;
//   3. report with fail-on-miss on the pull request again: all hits, the same comment edited;
//   4. an input changed, up with fail-on-miss: exit 3, nothing built.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { removeTempDirs, tempDir, writeTree } from "../support/tmp";
import { runAction, ActionRun } from "../support/actionRunner";
import { readJournal } from "../../components/core/journal";
import { commentMarker } from "../../components/report/action";
import { parseMarkdown } from "../../components/report/cacheReport";

interface Comment {
    id: number;
    body: string;
}

/** GitHub's issue comments API, as much as the action uses, for one repository. */
async function githubStandIn(repository: string): Promise<{ url: string; comments: Map<number, Comment[]>; requests: string[]; close: () => Promise<void> }> {
    const comments = new Map<number, Comment[]>();
    const requests: string[] = [];
    let next = 1000;
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const url = new URL(req.url!, "http://x");
            requests.push(`${req.method} ${url.pathname}`);
            const send = (status: number, json: unknown) => {
                res.writeHead(status, { "content-type": "application/json" });
                res.end(JSON.stringify(json));
            };
            if (req.headers.authorization !== "Bearer ghs_test-token") return send(401, { message: "Bad credentials" });
            const base = `/repos/${repository}/issues`;
            const list = new RegExp(`^${base}/(\\d+)/comments$`).exec(url.pathname);
            const one = new RegExp(`^${base}/comments/(\\d+)$`).exec(url.pathname);
            if (list && req.method === "GET") {
                const all = comments.get(Number(list[1])) ?? [];
                const per = Number(url.searchParams.get("per_page") ?? 30);
                const page = Number(url.searchParams.get("page") ?? 1);
                return send(200, all.slice((page - 1) * per, page * per));
            }
            if (list && req.method === "POST") {
                const c = { id: next++, body: JSON.parse(body).body };
                comments.set(Number(list[1]), [...(comments.get(Number(list[1])) ?? []), c]);
                return send(201, c);
            }
            if (one && req.method === "PATCH") {
                for (const cs of comments.values()) {
                    const c = cs.find((x) => x.id === Number(one[1]));
                    if (c) {
                        c.body = JSON.parse(body).body;
                        return send(200, c);
                    }
                }
            }
            send(404, { message: "Not Found" });
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as any).port;
    return { url: `http://127.0.0.1:${port}`, comments, requests, close: () => new Promise((r) => server.close(() => r())) };
}

describe("the GitHub Action, its steps run locally (real engine)", function () {
    this.timeout(900_000);
    let registry: TestRegistry;
    let api: Awaited<ReturnType<typeof githubStandIn>>;
    const STACK = `action-e2e-${process.pid}`;
    const stackFile = path.join(PROJECT_ROOT, `Pulumi.${STACK}.yaml`);
    let inputsDir: string;
    let journal: string;
    let env: NodeJS.ProcessEnv;
    let runs = 0;
    const PR = { pull_request: { number: 7, head: { sha: "0".repeat(40) } }, number: 7 };

    const action = async (inputs: Record<string, string>, eventName: string, event: unknown): Promise<ActionRun> => {
        const started = Date.now();
        const r = await runAction({
            actionDir: PROJECT_ROOT,
            workspace: PROJECT_ROOT,
            inputs: { stack: STACK, ...inputs },
            eventName,
            event,
            runnerTemp: tempDir("warmrun-runner-"),
            env,
            github: { repository: "acme/app", api_url: api.url, run_id: `${4200 + ++runs}`, run_attempt: "1" },
        });
        console.log(`      ${inputs.command} on ${eventName}: exit ${r.code}, ${Math.round((Date.now() - started) / 1000)} s`);
        return r;
    };
    /** The sha256 of the manifest bytes skopeo fetches for the reference. */
    const skopeoDigest = (ref: string) => `sha256:${createHash("sha256").update(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`])).digest("hex")}`;

    before(async () => {
        engineDir();
        try {
            execFileSync("sh", ["-c", "command -v skopeo"], { stdio: "ignore" });
        } catch {
            throw new Error("skopeo is not installed: run `npm run setup` (it installs skopeo)");
        }
        registry = await startRegistry();
        api = await githubStandIn("acme/app");
        inputsDir = tempDir("warmrun-action-inputs-");
        journal = path.join(tempDir("warmrun-action-journal-"), "journal.jsonl");
        writeTree(inputsDir, { "base/a.txt": `base ${Date.now()}\n`, "app/b.txt": "app\n" });
        fs.writeFileSync(
            stackFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": `${registry.host}/app`,
                    "warmrun:cacheDir": path.join(inputsDir, ".cache"),
                    "warmrun:artifacts": {
                        base: { kind: "FileBundle", root: path.join(inputsDir, "base") },
                        app: { kind: "FileBundle", root: path.join(inputsDir, "app"), upstream: ["base"] },
                    },
                },
            }),
        );
        // The job's environment, as a workflow's env: sets it: a state backend of its own.
        env = { ...process.env, WARMRUN_JOURNAL: journal, PULUMI_BACKEND_URL: `file://${tempDir("warmrun-action-state-")}`, PULUMI_CONFIG_PASSPHRASE: "warmrun-dev" };
        for (const name of ["WARMRUN_STACK", "WARMRUN_RUN_ID", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"]) delete env[name];
    });
    after(async () => {
        fs.rmSync(stackFile, { force: true });
        await registry?.stop();
        await api?.close();
        removeTempDirs();
    });

    let commentId: number;

    it("report on a pull request: npm and the engine cached, the report in the summary and one comment", async () => {
        const r = await action({ command: "report" }, "pull_request", PR);
        assert.equal(r.code, 0, r.log);
        const lock = execFileSync("sha256sum", [path.join(PROJECT_ROOT, "package-lock.json")], { encoding: "utf8" }).split(" ")[0];
        const version = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8")).packages["node_modules/@pulumi/pulumi"].version;
        assert.deepEqual(
            r.uses.map((u) => [u.uses.split("@")[0], u.with.key]),
            [
                ["actions/cache", `warmrun-npm-Linux-${lock}`],
                ["actions/cache", `warmrun-engine-Linux-${version}`],
            ],
        );
        assert.equal(r.uses[1].with.path, path.join(process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun"), "engine", `v${version}`));
        // setup.sh's npm ci stamped node_modules with the lock's hash: the install step is skipped.
        assert.equal(Object.values(r.steps).filter((s) => s.outcome === "skipped").length, 1, r.log);
        // Nothing built yet: both artifacts are new, and the stack has no outputs.
        assert.equal(r.outputs.misses, "2");
        assert.equal(r.outputs["cache-hit"], "false");
        assert.deepEqual(JSON.parse(r.outputs.artifacts), {});
        const rows = parseMarkdown(r.summary);
        assert.deepEqual(rows.map((x) => [x.artifact, x.status, x.action]).sort(), [["app", "new", "build"], ["base", "new", "build"]]);
        assert.match(r.summary, new RegExp(`^### warmrun cache report \\(stack \`${STACK}\`\\)`));
        const comments = api.comments.get(7)!;
        assert.equal(comments.length, 1);
        assert.equal(comments[0].body.split("\n")[0], commentMarker(STACK));
        assert.ok(comments[0].body.includes(r.summary.trim()), "the comment is the summary's report");
        commentId = comments[0].id;
        assert.deepEqual(readJournal(journal), [], "a report builds nothing");
    });

    let pinned: Record<string, string>;

    it("up on a push: both built, the pinned references as outputs and in $GITHUB_ENV", async () => {
        const r = await action({ command: "up" }, "push", {});
        assert.equal(r.code, 0, r.log);
        assert.equal(r.outputs.misses, "2");
        pinned = JSON.parse(r.outputs.artifacts);
        assert.deepEqual(Object.keys(pinned).sort(), ["app", "base"]);
        for (const [name, ref] of Object.entries(pinned)) {
            assert.match(ref, new RegExp(`^${registry.host.replace(/\./g, "\\.")}/app/${name}@sha256:[0-9a-f]{64}$`));
            // skopeo reads the registry: the digest is what it serves.
            assert.equal(skopeoDigest(ref), ref.split("@")[1], name);
            const variable = `WARMRUN_${name.toUpperCase()}`;
            assert.equal(r.env[variable], ref, `$GITHUB_ENV ${variable}`);
            assert.equal(r.steps.run.outputs[variable], ref, `$GITHUB_OUTPUT ${variable}`);
            assert.equal(r.env[`${variable}_DIGEST`], ref.split("@")[1]);
        }
        const entries = readJournal(journal);
        assert.deepEqual(entries.map((e) => [e.artifact, e.action]).sort(), [["app", "build"], ["base", "build"]]);
        assert.deepEqual([...new Set(entries.map((e) => e.run))], [`github-${4200 + runs}-1`]);
        assert.equal(api.comments.get(7)!.length, 1, "no comment on a push");
        assert.equal(api.requests.length, 2, "no request to GitHub on a push");
    });

    it("report with fail-on-miss on the pull request again: all hits, the same comment edited", async () => {
        const r = await action({ command: "report", "fail-on-miss": "true" }, "pull_request", PR);
        assert.equal(r.code, 0, r.log);
        assert.equal(r.outputs.misses, "0");
        assert.equal(r.outputs["cache-hit"], "true");
        assert.deepEqual(JSON.parse(r.outputs.artifacts), pinned);
        assert.deepEqual(parseMarkdown(r.summary).map((x) => [x.artifact, x.status]).sort(), [["app", "hit"], ["base", "hit"]]);
        const comments = api.comments.get(7)!;
        assert.equal(comments.length, 1, "still one comment");
        assert.equal(comments[0].id, commentId);
        assert.ok(comments[0].body.includes(r.summary.trim()));
        assert.ok(api.requests.includes(`PATCH /repos/acme/app/issues/comments/${commentId}`));
    });

    it("an input changed, up with fail-on-miss: exit 3 and nothing built", async () => {
        fs.writeFileSync(path.join(inputsDir, "base/a.txt"), "changed\n");
        const before = readJournal(journal).length;
        const r = await action({ command: "up", "fail-on-miss": "true" }, "push", {});
        assert.equal(r.code, 3, r.log);
        assert.ok(r.log.includes(`::error::warmrun: 2 artifact(s) of stack ${STACK} miss and fail-on-miss is set; nothing was built`), r.log);
        assert.equal(r.outputs.misses, "2");
        assert.equal(r.outputs["cache-hit"], "false");
        assert.deepEqual(parseMarkdown(r.summary).map((x) => [x.artifact, x.status]).sort(), [["app", "miss"], ["base", "miss"]]);
        assert.equal(readJournal(journal).length, before, "nothing built or adopted");
        // The outputs still name what the stack holds: the last up's references.
        assert.deepEqual(JSON.parse(r.outputs.artifacts), pinned);
    });
});
