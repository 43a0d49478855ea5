// `warmrun downloads`: runs a command, passes its output through unchanged (byte for byte, stdout to
// stdout, stderr to stderr), counts what it downloaded, writes the report, and fails the pipeline
// when a warm run downloads more than allowed.
//
//   npx warmrun downloads [--report FILE.md] [--json FILE] [--label NAME] [--max-count N] [--max-bytes N] -- <command...>
//
// Exit status: the command's own status when it fails (128+n when killed by signal n); otherwise
// THRESHOLD_EXCEEDED when a threshold is exceeded; otherwise 0. USAGE on bad arguments, 127 when
// the command cannot be started.
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { constants } from "os";
import { DownloadCounter } from "../components/downloads/counter";
import { exceededThresholds, reportJson, reportMarkdown, ReportContext } from "../components/downloads/report";
import { sizeInBytes } from "../components/downloads/rules";

export const THRESHOLD_EXCEEDED = 3;
export const USAGE = 2;

const HELP = `usage: warmrun downloads [--report FILE.md] [--json FILE] [--label NAME] [--max-count N] [--max-bytes N] -- <command...>

Runs <command>, passes its output through unchanged, counts what it downloaded (apt, debootstrap,
cargo, rustup, makepkg, pacman, git, dnf/yum, pip, npm, go, curl, wget) and writes the report.
  --report FILE   Markdown report (totals per tool, top items, warm-run minimum, suggestions)
  --json FILE     the same as JSON
  --label NAME    what the report calls this run (default: the command)
  --max-count N   fail when more than N items were downloaded (0: a warm run downloads nothing)
  --max-bytes N   fail when more than N bytes were downloaded (suffixes k, M, G, KiB, MiB, GiB)
Exit status: the command's status when it fails; ${THRESHOLD_EXCEEDED} when a threshold is exceeded; else 0.`;

export interface CliOptions {
    report?: string;
    json?: string;
    label?: string;
    maxCount?: number;
    maxBytes?: number;
    command: string[];
}

export class UsageError extends Error {}

function parseCount(flag: string, v: string | undefined): number {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${flag} needs a whole number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
    return parseInt(v, 10);
}

function parseBytes(flag: string, v: string | undefined): number {
    const m = v === undefined ? null : /^(\d+(?:\.\d+)?)\s*([kKMGT]?i?B?)$/.exec(v);
    if (!m) throw new UsageError(`${flag} needs a size such as 0, 500000, 20MB or 1.5GiB, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
    const unit = m[2] === "" ? "B" : m[2].endsWith("B") ? m[2] : m[2] + "B";
    return sizeInBytes(m[1], unit, false);
}

export function parseArgs(argv: string[]): CliOptions {
    const opts: CliOptions = { command: [] };
    let i = 0;
    for (; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            i++;
            break;
        }
        const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
        const value = () => (inline !== undefined ? inline : argv[++i]);
        switch (flag) {
            case "--report":
                opts.report = value();
                break;
            case "--json":
                opts.json = value();
                break;
            case "--label":
                opts.label = value();
                break;
            case "--max-count":
                opts.maxCount = parseCount(flag, value());
                break;
            case "--max-bytes":
                opts.maxBytes = parseBytes(flag, value());
                break;
            case "-h":
            case "--help":
                throw new UsageError("");
            default:
                if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
                // The command may also follow the options without "--".
                opts.command = argv.slice(i);
                return check(opts);
        }
        if ((flag === "--report" || flag === "--json" || flag === "--label") && !(opts as any)[flag.slice(2)]) throw new UsageError(`${flag} needs a value`);
    }
    opts.command = argv.slice(i);
    return check(opts);
}

function check(opts: CliOptions): CliOptions {
    if (opts.command.length === 0) throw new UsageError("no command given: put it after --");
    return opts;
}

/** Runs the command with its output passed through, and resolves with its status and the counts. */
export function runCounted(command: string[]): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; counts: ReturnType<DownloadCounter["end"]>; seconds: number; spawnError?: Error }> {
    return new Promise((resolve) => {
        const started = Date.now();
        const counter = new DownloadCounter();
        const child = spawn(command[0], command.slice(1), { stdio: ["inherit", "pipe", "pipe"] });
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
        for (const s of signals) process.on(s, forward);
        const pass = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream, name: string) => {
            from.on("data", (chunk: Buffer) => {
                counter.write(chunk, name);
                // Keep memory flat when our reader is slower than the command.
                if (!to.write(chunk)) {
                    from.pause();
                    to.once("drain", () => from.resume());
                }
            });
        };
        pass(child.stdout, process.stdout, "out");
        pass(child.stderr, process.stderr, "err");
        let spawnError: Error | undefined;
        child.on("error", (e) => (spawnError = e));
        child.on("close", (code, signal) => {
            for (const s of signals) process.off(s, forward);
            resolve({ exitCode: code, signal, counts: counter.end(), seconds: (Date.now() - started) / 1000, spawnError });
        });
    });
}

export function exitStatusOf(exitCode: number | null, signal: NodeJS.Signals | null, exceeded: boolean): number {
    if (signal) return 128 + ((constants.signals as Record<string, number>)[signal] ?? 1);
    if (exitCode !== 0 && exitCode !== null) return exitCode;
    return exceeded ? THRESHOLD_EXCEEDED : 0;
}

function writeFile(file: string, text: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
}

export async function main(argv: string[]): Promise<number> {
    let opts: CliOptions;
    try {
        opts = parseArgs(argv);
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(e.message ? `warmrun downloads: ${e.message}\n${HELP}\n` : `${HELP}\n`);
        return e.message ? USAGE : 0;
    }
    const run = await runCounted(opts.command);
    if (run.spawnError) {
        const code = (run.spawnError as NodeJS.ErrnoException).code;
        process.stderr.write(`warmrun downloads: cannot run ${opts.command[0]}: ${code === "ENOENT" ? "command not found" : run.spawnError.message}\n`);
        return 127;
    }
    const ctx: ReportContext = {
        label: opts.label ?? opts.command.join(" "),
        command: opts.command,
        exitCode: run.exitCode,
        signal: run.signal,
        seconds: run.seconds,
        maxCount: opts.maxCount,
        maxBytes: opts.maxBytes,
    };
    if (opts.report) writeFile(opts.report, reportMarkdown(run.counts, ctx));
    if (opts.json) writeFile(opts.json, JSON.stringify(reportJson(run.counts, ctx), null, 2) + "\n");
    const exceeded = exceededThresholds(run.counts, opts);
    // Said after the command's own output, so what the command printed stays untouched.
    if (exceeded.length) process.stderr.write(`warmrun downloads: warm-run threshold exceeded: ${exceeded.join("; ")}\n`);
    return exitStatusOf(run.exitCode, run.signal, exceeded.length > 0);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`warmrun downloads: ${e.stack ?? e}\n`);
            process.exitCode = 1;
        },
    );
}
