// The GitHub Action (action.yml): its inputs, the outputs it writes, and the one pull request
// comment it keeps up to date. Pure functions; scripts/action/run.ts runs the commands.
import { WarmrunError } from "../core/errors";
import { ReportRow } from "./cacheReport";
import { CiVariable, ciVariables, SECRET_PLACEHOLDER } from "./ciEnv";

export const COMMANDS = ["up", "preview", "report"] as const;
export type ActionCommand = (typeof COMMANDS)[number];

export interface ActionInputs {
    command: ActionCommand;
    /** Empty: the repository's only stack, or $WARMRUN_STACK (the warmrun command decides). */
    stack?: string;
    failOnMiss: boolean;
    comment: boolean;
}

/** The environment names the action's step passes its inputs under (action.yml). */
export const INPUT_ENV = {
    command: "WARMRUN_ACTION_COMMAND",
    stack: "WARMRUN_ACTION_STACK",
    failOnMiss: "WARMRUN_ACTION_FAIL_ON_MISS",
    comment: "WARMRUN_ACTION_COMMENT",
    token: "WARMRUN_ACTION_TOKEN",
} as const;

function bool(name: string, value: string | undefined, fallback: boolean): boolean {
    const v = (value ?? "").trim().toLowerCase();
    if (v === "") return fallback;
    if (v === "true") return true;
    if (v === "false") return false;
    throw new WarmrunError(`the action's input ${name} is ${JSON.stringify(value)}: give true or false`);
}

/** The inputs as the step's environment holds them; one error naming the input and its values. */
export function parseInputs(env: NodeJS.ProcessEnv): ActionInputs {
    const command = (env[INPUT_ENV.command] ?? "").trim() || "report";
    if (!(COMMANDS as readonly string[]).includes(command)) throw new WarmrunError(`the action's input command is ${JSON.stringify(command)}: give one of ${COMMANDS.join(", ")}`);
    const stack = (env[INPUT_ENV.stack] ?? "").trim();
    if (stack && !/^[\w.-]+$/.test(stack)) throw new WarmrunError(`the action's input stack is ${JSON.stringify(stack)}: a stack name has letters, digits, '-', '_' and '.' only`);
    return {
        command: command as ActionCommand,
        stack: stack || undefined,
        failOnMiss: bool("fail-on-miss", env[INPUT_ENV.failOnMiss], false),
        comment: bool("comment", env[INPUT_ENV.comment], true),
    };
}

/** Artifacts an up would build or adopt under a new key: status miss or new. */
export function missCount(rows: ReportRow[]): number {
    return rows.filter((r) => r.status === "miss" || r.status === "new").length;
}

export interface ActionOutputs {
    /** {"rust-deps": "registry/.../rust-deps@sha256:..."}: every artifact's pinned reference. */
    artifacts: Record<string, string>;
    /** "true" when no artifact misses, as actions/cache says an exact hit. */
    cacheHit: boolean;
    misses: number;
    /** WARMRUN_<ARTIFACT>... of ci-outputs (components/report/ciEnv.ts), for the step's outputs and the job's environment. */
    variables: CiVariable[];
}

/** What the action writes, from the stack's outputs (`pulumi stack output --json`) and the cache report. */
export function actionOutputs(stackOutputs: any, rows: ReportRow[]): ActionOutputs {
    const { variables } = ciVariables(stackOutputs ?? {});
    const artifacts: Record<string, string> = {};
    const outputs: Record<string, any> = stackOutputs?.outputs ?? {};
    for (const name of Object.keys(outputs).sort()) {
        const pinned = outputs[name]?.pinned;
        if (typeof pinned === "string" && pinned !== SECRET_PLACEHOLDER) artifacts[name] = pinned;
    }
    const misses = missCount(rows);
    return { artifacts, cacheHit: misses === 0, misses, variables };
}

/** The action's own outputs (action.yml declares them) followed by ci-outputs' variables. */
export function outputVariables(o: ActionOutputs): CiVariable[] {
    return [
        { name: "artifacts", value: JSON.stringify(o.artifacts) },
        { name: "cache-hit", value: String(o.cacheHit) },
        { name: "misses", value: String(o.misses) },
        ...o.variables,
    ];
}

/** The hidden line that finds the action's earlier comment on a pull request (one per stack). */
export function commentMarker(stack: string | undefined): string {
    return `<!-- warmrun cache report${stack ? ` stack=${stack}` : ""} -->`;
}

export function commentBody(marker: string, markdown: string): string {
    return `${marker}\n${markdown.trimEnd()}\n`;
}

export interface IssueComment {
    id: number;
    body?: string | null;
}

/** The earliest comment that carries the marker on its first line, or undefined. */
export function findMarkedComment(comments: IssueComment[], marker: string): IssueComment | undefined {
    return comments.find((c) => (c.body ?? "").split("\n", 1)[0].trim() === marker);
}

/** The pull request number of a pull_request(_target) event payload, else undefined. */
export function pullRequestNumber(eventName: string | undefined, payload: any): number | undefined {
    if (eventName !== "pull_request" && eventName !== "pull_request_target") return undefined;
    const n = payload?.pull_request?.number ?? payload?.number;
    return Number.isInteger(n) && n > 0 ? n : undefined;
}
