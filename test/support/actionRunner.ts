// Runs a composite action's steps (action.yml) as a GitHub runner would, on this machine: each
// `run` step in bash with its own $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY files, a $GITHUB_ENV
// shared by the job, the event payload in $GITHUB_EVENT_PATH, expressions and `if:` evaluated.
// `uses:` steps (actions of other repositories, which need GitHub) are recorded with their
// evaluated inputs, not run. Only the expressions action.yml uses are understood: anything else
// throws, so a change to action.yml that this runner cannot follow fails the test.
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import YAML from "yaml";
import { parseGithubFile } from "../../components/report/ciEnv";

export interface ActionRun {
    /** Evaluated outputs of the action (its `outputs:`). */
    outputs: Record<string, string>;
    /** Every step's outputs by id. */
    steps: Record<string, { outputs: Record<string, string>; outcome: "success" | "failure" | "skipped" }>;
    /** The `uses:` steps with their evaluated `with:`. */
    uses: { uses: string; with: Record<string, string> }[];
    /** $GITHUB_ENV as the job's next steps would see it. */
    env: Record<string, string>;
    /** The job summary: every step's $GITHUB_STEP_SUMMARY, in order. */
    summary: string;
    /** The exit code of the step that failed, else 0. */
    code: number;
    log: string;
}

export interface RunOptions {
    actionDir: string;
    workspace: string;
    inputs: Record<string, string>;
    eventName: string;
    event: unknown;
    /** The job's directory of runner files (output, env, summary, event). */
    runnerTemp: string;
    env: NodeJS.ProcessEnv;
    github?: Record<string, string>;
}

type Context = { inputs: Record<string, string>; steps: Record<string, { outputs: Record<string, string> }>; github: Record<string, string>; runner: Record<string, string> };

function lookup(expr: string, ctx: Context): string {
    const m = /^(inputs|github|runner)\.([\w-]+)$/.exec(expr) ?? /^(steps)\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (!m) throw new Error(`the action runner does not understand the expression ${JSON.stringify(expr)}`);
    if (m[1] === "steps") return ctx.steps[m[2]]?.outputs[m[3]] ?? "";
    const v = (ctx as any)[m[1]][m[2]];
    if (v === undefined) throw new Error(`${expr} is not in the action runner's context`);
    return v;
}

/** `a == 'x' && b != 'y'`, or a bare value: the forms action.yml's `if:` uses. */
function condition(expr: string, ctx: Context): boolean {
    return expr.split("&&").every((part) => {
        const m = /^\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*$/.exec(part);
        if (!m) throw new Error(`the action runner does not understand the condition ${JSON.stringify(part)}`);
        const v = lookup(m[1], ctx);
        return m[2] === "==" ? v === m[3] : v !== m[3];
    });
}

const substitute = (text: string, ctx: Context) => text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e) => lookup(e, ctx));

export async function runAction(o: RunOptions): Promise<ActionRun> {
    const action = YAML.parse(fs.readFileSync(path.join(o.actionDir, "action.yml"), "utf8"));
    if (action.runs?.using !== "composite") throw new Error("not a composite action");
    fs.mkdirSync(o.runnerTemp, { recursive: true });
    const eventPath = path.join(o.runnerTemp, "event.json");
    fs.writeFileSync(eventPath, JSON.stringify(o.event));
    const envFile = path.join(o.runnerTemp, "env");
    fs.writeFileSync(envFile, "");
    const github = { action_path: o.actionDir, token: "ghs_test-token", event_name: o.eventName, workspace: o.workspace, ...o.github };
    const inputs: Record<string, string> = {};
    for (const [name, def] of Object.entries<any>(action.inputs ?? {})) {
        if (name in o.inputs) inputs[name] = o.inputs[name];
        else inputs[name] = def.default === undefined ? "" : substitute(String(def.default), { inputs: {}, steps: {}, github, runner: {} });
    }
    for (const name of Object.keys(o.inputs)) if (!(name in inputs)) throw new Error(`the action has no input ${name}`);
    const ctx: Context = { inputs, steps: {}, github, runner: { os: "Linux", temp: o.runnerTemp } };
    const result: ActionRun = { outputs: {}, steps: {}, uses: [], env: {}, summary: "", code: 0, log: "" };
    for (const [i, step] of (action.runs.steps as any[]).entries()) {
        const id: string = step.id ?? `__step${i}`;
        if (step.if !== undefined && !condition(String(step.if), ctx)) {
            ctx.steps[id] = { outputs: {} };
            result.steps[id] = { outputs: {}, outcome: "skipped" };
            continue;
        }
        if (step.uses) {
            const w = Object.fromEntries(Object.entries<any>(step.with ?? {}).map(([k, v]) => [k, substitute(String(v), ctx)]));
            result.uses.push({ uses: step.uses, with: w });
            ctx.steps[id] = { outputs: {} };
            result.steps[id] = { outputs: {}, outcome: "success" };
            continue;
        }
        if (step.shell !== "bash") throw new Error(`step ${step.name}: shell ${step.shell}; the action runner runs bash`);
        const output = path.join(o.runnerTemp, `output-${i}`);
        const summary = path.join(o.runnerTemp, `summary-${i}`);
        fs.writeFileSync(output, "");
        fs.writeFileSync(summary, "");
        const script = path.join(o.runnerTemp, `step-${i}.sh`);
        fs.writeFileSync(script, substitute(String(step.run), ctx));
        const stepEnv = Object.fromEntries(Object.entries<any>(step.env ?? {}).map(([k, v]) => [k, substitute(String(v), ctx)]));
        const env: NodeJS.ProcessEnv = {
            ...o.env,
            ...parseGithubFile(fs.readFileSync(envFile, "utf8")),
            CI: "true",
            GITHUB_ACTIONS: "true",
            GITHUB_ACTION_PATH: o.actionDir,
            GITHUB_WORKSPACE: o.workspace,
            GITHUB_EVENT_NAME: o.eventName,
            GITHUB_EVENT_PATH: eventPath,
            GITHUB_OUTPUT: output,
            GITHUB_ENV: envFile,
            GITHUB_STEP_SUMMARY: summary,
            RUNNER_OS: "Linux",
            RUNNER_TEMP: o.runnerTemp,
            ...Object.fromEntries(Object.entries(o.github ?? {}).map(([k, v]) => [`GITHUB_${k.toUpperCase()}`, v])),
            ...stepEnv,
        };
        const cwd = path.resolve(o.workspace, step["working-directory"] ? substitute(String(step["working-directory"]), ctx) : ".");
        // As the runner runs `shell: bash`.
        // Asynchronous, so servers of the test's own process (an API stand-in) answer the step.
        const r = await new Promise<{ status: number; output: string }>((resolve, reject) => {
            const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
            let output = "";
            child.stdout.on("data", (d) => (output += d));
            child.stderr.on("data", (d) => (output += d));
            child.on("error", reject);
            child.on("close", (code) => resolve({ status: code ?? 1, output }));
        });
        result.log += `--- ${step.name} (exit ${r.status})\n${r.output}`;
        const outputs = parseGithubFile(fs.readFileSync(output, "utf8"));
        ctx.steps[id] = { outputs };
        result.steps[id] = { outputs, outcome: r.status === 0 ? "success" : "failure" };
        result.summary += fs.readFileSync(summary, "utf8");
        if (r.status !== 0) {
            result.code = r.status;
            break;
        }
    }
    for (const [name, def] of Object.entries<any>(action.outputs ?? {})) result.outputs[name] = substitute(String(def.value), ctx);
    result.env = parseGithubFile(fs.readFileSync(envFile, "utf8"));
    return result;
}
