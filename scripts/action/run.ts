// The GitHub Action's main step (action.yml, through scripts/action/main.js), run in the input
// working-directory. It runs the `warmrun` command of the action's checkout:
//
//   1. `warmrun report --format json`: the cache report (one preview), whose Markdown goes to
//      $GITHUB_STEP_SUMMARY; with fail-on-miss and a miss, `up` is not run;
//   2. command up: `warmrun up --skip-preview`; command preview: `warmrun preview` (the engine's view);
//   3. the stack's outputs: the action's outputs (artifacts, cache-hit, misses) and ci-outputs'
//      WARMRUN_<ARTIFACT> variables to $GITHUB_OUTPUT, the variables to $GITHUB_ENV too;
//   4. on a pull request (comment: true and a token), one comment with the report, updated on every push.
//
// Exit codes: 0 done; 1 a command failed; 2 bad inputs; 3 fail-on-miss and some artifact misses.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { WarmrunError } from "../../components/core/errors";
import { findPackageRoot } from "../../cli/project";
import { EXIT_ON_MISS, renderMarkdown, ReportRow } from "../../components/report/cacheReport";
import { renderGithubFile } from "../../components/report/ciEnv";
import {
    actionOutputs,
    ActionInputs,
    commentBody,
    commentMarker,
    findMarkedComment,
    INPUT_ENV,
    IssueComment,
    outputVariables,
    parseInputs,
    pullRequestNumber,
} from "../../components/report/action";

// The package's root: this checkout, or an installed package (whose compiled copy runs from dist/).
const WARMRUN = path.join(findPackageRoot(__dirname), "loader", "warmrun.js");

interface Run {
    code: number;
    stdout: string;
}

/** Runs `warmrun ARGS` in the working directory; its stderr (progress) goes to the job's log. */
function warmrun(args: string[], env: NodeJS.ProcessEnv, capture = false): Promise<Run> {
    process.stderr.write(`warmrun ${args.join(" ")}\n`);
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [WARMRUN, ...args], { env, stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"] });
        let stdout = "";
        child.stdout?.on("data", (d) => (stdout += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
    });
}

const stackArgs = (i: ActionInputs) => (i.stack ? ["--stack", i.stack] : []);

/** The environment of the warmrun commands: the credentials only when given, never the action's token. */
export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const out: NodeJS.ProcessEnv = { ...env };
    for (const name of Object.values(INPUT_ENV)) delete out[name];
    for (const name of ["WARMRUN_REGISTRY_USERNAME", "WARMRUN_REGISTRY_PASSWORD"]) if (out[name] === "") delete out[name];
    // The journal's entries of this workflow run share its id (warmrun stats counts runs by it).
    if (!out.WARMRUN_RUN_ID && out.GITHUB_RUN_ID) out.WARMRUN_RUN_ID = `github-${out.GITHUB_RUN_ID}-${out.GITHUB_RUN_ATTEMPT ?? "1"}`;
    return out;
}

async function report(inputs: ActionInputs, env: NodeJS.ProcessEnv, dir: string): Promise<{ rows: ReportRow[]; stack: string }> {
    const file = path.join(dir, "report.json");
    const r = await warmrun(["report", ...stackArgs(inputs), "--format", "json", "--output", file], env);
    if (r.code !== 0) throw new CommandFailed(`warmrun report failed (exit ${r.code}); see its lines above`);
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    return { rows: json.rows, stack: json.stack };
}

async function stackOutputs(stack: string, env: NodeJS.ProcessEnv): Promise<any> {
    const r = await warmrun(["pulumi", "--stack", stack, "--", "stack", "output", "--json", "--non-interactive"], env, true);
    if (r.code !== 0) throw new CommandFailed(`warmrun pulumi -- stack output failed (exit ${r.code}); see its lines above`);
    return JSON.parse(r.stdout || "{}");
}

class CommandFailed extends Error {}

type Fetch = typeof fetch;

/** Posts the report on the pull request, or edits the comment an earlier run posted (found by its marker). */
export async function upsertComment(o: { api: string; repository: string; pr: number; token: string; marker: string; body: string; fetch?: Fetch }): Promise<{ action: "created" | "updated"; id: number }> {
    const f = o.fetch ?? fetch;
    const headers = { accept: "application/vnd.github+json", authorization: `Bearer ${o.token}`, "content-type": "application/json", "x-github-api-version": "2022-11-28" };
    const base = `${o.api.replace(/\/$/, "")}/repos/${o.repository}/issues`;
    const call = async (method: string, url: string, body?: unknown): Promise<any> => {
        const res = await f(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
        return res.json();
    };
    let found: IssueComment | undefined;
    for (let page = 1; !found; page++) {
        const comments: IssueComment[] = await call("GET", `${base}/${o.pr}/comments?per_page=100&page=${page}`);
        found = findMarkedComment(comments, o.marker);
        if (comments.length < 100) break;
    }
    if (found) {
        await call("PATCH", `${base}/comments/${found.id}`, { body: o.body });
        return { action: "updated", id: found.id };
    }
    const created = await call("POST", `${base}/${o.pr}/comments`, { body: o.body });
    return { action: "created", id: created.id };
}

async function comment(inputs: ActionInputs, stack: string, markdown: string, env: NodeJS.ProcessEnv): Promise<void> {
    if (!inputs.comment) return;
    const payload = env.GITHUB_EVENT_PATH && fs.existsSync(env.GITHUB_EVENT_PATH) ? JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, "utf8")) : undefined;
    const pr = pullRequestNumber(env.GITHUB_EVENT_NAME, payload);
    if (pr === undefined) return;
    const token = env[INPUT_ENV.token];
    if (!token || !env.GITHUB_REPOSITORY) {
        process.stdout.write(`::warning::warmrun: no token or repository to comment on pull request #${pr} with (the action's input github-token)\n`);
        return;
    }
    const marker = commentMarker(stack);
    try {
        const r = await upsertComment({ api: env.GITHUB_API_URL || "https://api.github.com", repository: env.GITHUB_REPOSITORY, pr, token, marker, body: commentBody(marker, markdown) });
        process.stderr.write(`warmrun action: comment ${r.id} ${r.action} on pull request #${pr}\n`);
    } catch (e: any) {
        // A fork's pull request gets a read-only token: the summary still has the report.
        process.stdout.write(`::warning::warmrun: could not comment on pull request #${pr}: ${e.message}\n`);
    }
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
    let inputs: ActionInputs;
    try {
        inputs = parseInputs(env);
    } catch (e: any) {
        process.stdout.write(`::error::warmrun: ${e.message}\n`);
        return 2;
    }
    const childEnv = commandEnv(env);
    const dir = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), "warmrun-action-"));
    try {
        const { rows, stack } = await report(inputs, childEnv, dir);
        const markdown = renderMarkdown(rows, { stack });
        if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, markdown + "\n");
        await comment(inputs, stack, markdown, env);
        const blocked = inputs.failOnMiss && rows.some((r) => r.status === "miss" || r.status === "new");
        if (!blocked && inputs.command !== "report") {
            const args = inputs.command === "up" ? ["up", "--stack", stack, "--skip-preview"] : ["preview", "--stack", stack];
            const r = await warmrun(args, childEnv);
            if (r.code !== 0) throw new CommandFailed(`warmrun ${inputs.command} failed (exit ${r.code}); see its lines above`);
        }
        const outputs = actionOutputs(await stackOutputs(stack, childEnv), rows);
        if (env.GITHUB_OUTPUT) fs.appendFileSync(env.GITHUB_OUTPUT, renderGithubFile(outputVariables(outputs)));
        if (env.GITHUB_ENV) fs.appendFileSync(env.GITHUB_ENV, renderGithubFile(outputs.variables));
        process.stderr.write(`warmrun action: ${outputs.misses} miss(es), ${Object.keys(outputs.artifacts).length} artifact output(s)\n`);
        if (blocked) {
            process.stdout.write(`::error::warmrun: ${outputs.misses} artifact(s) of stack ${stack} miss and fail-on-miss is set${inputs.command === "up" ? "; nothing was built" : ""}\n`);
            return EXIT_ON_MISS;
        }
        return 0;
    } catch (e: any) {
        const known = e instanceof CommandFailed || e instanceof WarmrunError;
        process.stdout.write(`::error::warmrun: ${known ? e.message : e?.stack ?? String(e)}\n`);
        return 1;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
