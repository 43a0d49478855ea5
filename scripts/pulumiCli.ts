// Runs the pinned Pulumi engine the way `npm run up` does (scripts/lib.sh: use_engine, the local
// state backend and dev passphrase unless PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE say otherwise).
import { execFile } from "child_process";
import { findPackageRoot } from "../components/core/packageRoot";

export const PROJECT_ROOT = findPackageRoot(__dirname);

export interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
}

export function pulumi(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    // Under the `warmrun` command the engine is on PATH already and the project is elsewhere.
    const project = process.env.WARMRUN_PULUMI_PROJECT;
    const script = '. scripts/lib.sh && use_engine && exec pulumi "$@"';
    const [command, argv] = project ? ["pulumi", args] : ["bash", ["-c", script, "pulumi", ...args]];
    return new Promise((resolve) => {
        execFile(command, argv, { cwd: project || PROJECT_ROOT, env: { ...process.env, ...extraEnv }, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0, stdout, stderr });
        });
    });
}

/** Reads `--name value` options; flags take no value. Unknown options are an error naming the usage. */
export function parseOptions(argv: string[], valued: string[], flags: string[], usage: string): { values: Record<string, string>; flags: Set<string>; rest: string[] } {
    const values: Record<string, string> = {};
    const set = new Set<string>();
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            rest.push(...argv.slice(i + 1));
            break;
        }
        const eq = arg.indexOf("=");
        const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
        if (valued.includes(name)) {
            const v = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : argv[++i];
            if (v === undefined) throw new UsageError(`${name} needs a value\n${usage}`);
            values[name.slice(2)] = v;
        } else if (flags.includes(arg)) set.add(arg.slice(2));
        else throw new UsageError(`unknown argument ${arg}\n${usage}`);
    }
    return { values, flags: set, rest };
}

export class UsageError extends Error {}
