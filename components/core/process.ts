// Runs a build tool with its output streamed to the log (long builds show progress) and kept
// for download counting and error messages.
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { WarmrunError } from "./errors";
import { DownloadCount, DownloadCounter } from "../downloads/counter";

export interface RunResult {
    output: string;
    /** What the tool downloaded, counted from its output as it streamed. */
    downloads: DownloadCount;
}

/** A tool that ran and failed: its exit code and the last lines of its output, for callers to explain. */
export class ToolError extends WarmrunError {
    constructor(message: string, readonly exitCode: number | null, readonly tail: string) {
        super(message);
        this.name = "ToolError";
    }
}

/** Where a command is found on PATH (an executable file), or undefined. */
export function findOnPath(command: string, envPath: string = process.env.PATH ?? ""): string | undefined {
    const candidates = command.includes("/") ? [command] : envPath.split(path.delimiter).filter(Boolean).map((d) => path.join(d, command));
    for (const c of candidates) {
        try {
            if (fs.statSync(c).isFile()) {
                fs.accessSync(c, fs.constants.X_OK);
                return c;
            }
        } catch {
            /* not this one */
        }
    }
    return undefined;
}

/** The commands of a list that are not on PATH. */
export function missingTools(tools: string[], envPath?: string): string[] {
    return tools.filter((t) => findOnPath(t, envPath) === undefined);
}

export function runTool(
    what: string,
    command: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; stream?: (chunk: string) => void; secrets?: string[]; stdout?: (chunk: Buffer) => void } = {},
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        const counter = new DownloadCounter();
        const redact = (s: string) => (opts.secrets ?? []).filter((x) => x).reduce((acc, secret) => acc.split(secret).join("[secret]"), s);
        const take = (stream: string) => (d: Buffer) => {
            counter.write(d, stream);
            const text = redact(d.toString("utf8"));
            output += text;
            (opts.stream ?? ((t: string) => process.stderr.write(t)))(text);
        };
        // A tool whose stdout is data (cargo's JSON messages) hands it to opts.stdout, not to the log.
        const data = opts.stdout;
        child.stdout.on("data", data ? (d: Buffer) => { counter.write(d, "out"); data(d); } : take("out"));
        child.stderr.on("data", take("err"));
        child.on("error", (e: NodeJS.ErrnoException) =>
            reject(new WarmrunError(e.code === "ENOENT" ? `${what}: ${command} is not installed: run \`npm run setup\`` : `${what}: ${e.message}`)),
        );
        child.on("close", (code) => {
            if (code === 0) return resolve({ output, downloads: counter.end() });
            const tail = output.trim().split("\n").slice(-15).join("\n");
            reject(new ToolError(`${what}: ${command} exited with ${code}; last lines:\n${tail}`, code, tail));
        });
    });
}
