// Subcommand dispatch of `warmrun`: each finds the project, prepares what it needs (engine, stack,
// local registry) and runs the engine or one of the project's scripts with the project's settings.
import * as path from "path";
import { execFileSync } from "child_process";
import { WarmrunError } from "../components/core/errors";
import { CACHE_DIR, discover, findPackageRoot, prepareProjectDir, Project } from "./project";
import { engineDir, engineEnv, runPulumi } from "./engine";
import { ensureLocalRegistry, ensureStack } from "./stack";
import { HELP, COMMAND_HELP, commandHelp } from "./help";

export class UsageError extends WarmrunError {}

/** Takes `--stack NAME` / `-s NAME` / `--stack=NAME` out of the arguments before any `--`. */
export function takeStack(argv: string[]): { stack?: string; rest: string[] } {
    const rest: string[] = [];
    let stack: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            rest.push(...argv.slice(i));
            break;
        }
        if (a === "--stack" || a === "-s") {
            stack = argv[++i];
            if (stack === undefined) throw new UsageError(`${a} needs a stack name`);
        } else if (a.startsWith("--stack=")) stack = a.slice("--stack=".length);
        else rest.push(a);
    }
    return { stack, rest };
}

interface Prepared {
    project: Project;
    env: NodeJS.ProcessEnv;
}

function stackNames(stack: string | undefined): string[] | undefined {
    return stack?.split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * `npm run gc`'s arguments for `warmrun gc` in a user's repository: gc's own defaults are relative to
 * warmrun's checkout, so the repository's journal and sightings file instead, and the user's relative
 * paths resolved from where the command runs. A `--stack` the user gave always passes through (with
 * `--state-file` too, so gc refuses the pair); the project's stack only when neither was given.
 */
export function gcArguments(o: { stack?: string; rest: string[]; projectRoot: string; projectStack: string; journal?: string; cwd?: string }): string[] {
    const resolve = (p: string) => path.resolve(o.cwd ?? process.cwd(), p);
    const rest = o.rest;
    const args = rest.map((a, i) => (["--journal", "--seen-file"].includes(rest[i - 1]) ? resolve(a) : rest[i - 1] === "--state-file" ? a.split(",").map(resolve).join(",") : a));
    const unless = (flag: string, value: string) => (rest.includes(flag) ? [] : [flag, value]);
    const stacks = stackNames(o.stack);
    const stackArgs = stacks ? ["--stack", stacks.join(",")] : rest.includes("--state-file") ? [] : ["--stack", o.projectStack];
    return [
        ...stackArgs,
        ...unless("--journal", o.journal || path.join(o.projectRoot, CACHE_DIR, "journal.jsonl")),
        ...unless("--seen-file", path.join(o.projectRoot, CACHE_DIR, "gc-seen.json")),
        ...args,
    ];
}

/** Project, engine and environment; with `stack`, the stack selected (created on first use); with `registry`, the local registry up. */
async function prepare(stack: string | undefined, needs: { stack?: boolean; registry?: boolean } = {}): Promise<Prepared> {
    const project = discover({ cwd: process.cwd(), stack });
    prepareProjectDir(project);
    const env = engineEnv(project, await engineDir(project.packageRoot), process.env);
    if (needs.registry) await ensureLocalRegistry(project, env);
    if (needs.stack) ensureStack(project, env);
    return { project, env };
}

/** The project's scripts read the engine's settings from the process environment. */
function adopt(env: NodeJS.ProcessEnv): void {
    for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
}

function wantsHelp(argv: string[]): boolean {
    const end = argv.indexOf("--");
    const before = end < 0 ? argv : argv.slice(0, end);
    return before.includes("--help") || before.includes("-h");
}

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
    async up(argv) {
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stack, { stack: true, registry: true });
        return runPulumi(project, env, ["up", "--yes", "--stack", project.stack, ...dropDashes(rest)]);
    },
    async preview(argv) {
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stack, { stack: true, registry: true });
        return runPulumi(project, env, ["preview", "--stack", project.stack, ...dropDashes(rest)]);
    },
    async report(argv) {
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stack, { stack: true, registry: true });
        adopt(env);
        const { main } = await import("../scripts/cache-report");
        return main(["--stack", project.stack, ...rest]);
    },
    async outputs(argv) {
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stack);
        adopt(env);
        const { main } = await import("../scripts/ci-outputs");
        return main(["--stack", project.stack, ...rest]);
    },
    async stats(argv) {
        // The journal only: no engine; the stack names the registry's journal (--shared).
        const { stack, rest } = takeStack(argv);
        const given = rest.findIndex((a) => a === "--journal" || a.startsWith("--journal="));
        const args = [...rest];
        if (given < 0) {
            const project = discover({ cwd: process.cwd() });
            args.push("--journal", process.env.WARMRUN_JOURNAL || path.join(project.root, CACHE_DIR, "journal.jsonl"));
        } else if (args[given] === "--journal" && args[given + 1] !== undefined) args[given + 1] = path.resolve(args[given + 1]);
        if (rest.includes("--shared")) args.push("--stack", discover({ cwd: process.cwd(), stack }).stack);
        const { main } = await import("../scripts/stats");
        return main(args, `usage: ${COMMAND_HELP.stats.usage}`);
    },
    async gc(argv) {
        // Retention over one stack or several (--stack a,b); the first one finds the project.
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stackNames(stack)?.[0]);
        adopt(env);
        const { main } = await import("../scripts/gc");
        return main(gcArguments({ stack, rest, projectRoot: project.root, projectStack: project.stack, journal: process.env.WARMRUN_JOURNAL }));
    },
    async downloads(argv) {
        const { main } = await import("../scripts/warmrun-downloads");
        return main(argv);
    },
    async qcow2(argv) {
        const { stack, rest } = takeStack(argv);
        const { project, env } = await prepare(stack);
        adopt(env);
        const { main } = await import("../scripts/qcow2");
        try {
            return await main([...rest, "--stack", project.stack]);
        } catch (e) {
            // The qcow2 cache's own contract: 2 is an error (1 means "build it").
            if (!(e instanceof WarmrunError)) throw e;
            process.stderr.write(`[qcow2] ${e.message}\n`);
            return 2;
        }
    },
    async registry(argv) {
        const [action = "start", port, ...extra] = argv;
        if (!["start", "stop", "status"].includes(action) || extra.length || (port !== undefined && !/^\d+$/.test(port))) throw new UsageError(`usage: ${COMMAND_HELP.registry.usage}`);
        const packageRoot = findPackageRoot();
        try {
            execFileSync("bash", [path.join(packageRoot, "scripts", "registry.sh"), action, ...(port ? [port] : [])], { stdio: "inherit" });
            return 0;
        } catch (e: any) {
            return typeof e.status === "number" ? e.status : 1;
        }
    },
    async pulumi(argv) {
        const dash = argv.indexOf("--");
        const before = dash < 0 ? argv : argv.slice(0, dash);
        const args = dash < 0 ? [] : argv.slice(dash + 1);
        const { stack, rest } = takeStack(before);
        if (rest.length) throw new UsageError(`put pulumi's arguments after --: warmrun pulumi [--stack NAME] -- ${rest.join(" ")}`);
        // A --stack among pulumi's own arguments names the stack to select too.
        const inner = takeStack(args).stack;
        const { project, env } = await prepare(stack ?? inner, { stack: true });
        return runPulumi(project, env, args);
    },
};

/** The subcommands, in the order `warmrun --help` lists them. */
export const COMMAND_NAMES = Object.keys(COMMANDS);

/** `warmrun up -- --diff` and `warmrun up --diff` both pass --diff to pulumi. */
function dropDashes(argv: string[]): string[] {
    return argv.filter((a, i) => !(a === "--" && i === argv.indexOf("--")));
}

export async function run(argv: string[]): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
        const topic = name === "help" ? rest[0] : undefined;
        process.stdout.write(topic && COMMAND_HELP[topic] ? commandHelp(topic) : HELP);
        return 0;
    }
    if (name === "--version" || name === "version") {
        process.stdout.write(`${require(path.join(findPackageRoot(), "package.json")).version}\n`);
        return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command ${name}; the commands are ${Object.keys(COMMANDS).join(", ")} (warmrun --help)`);
    if (wantsHelp(rest)) {
        process.stdout.write(commandHelp(name));
        return 0;
    }
    return command(rest);
}
