// What every benchmark shares: timing, medians, and the side-by-side table of figures.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFile } from "child_process";

/** One printed figure: warmrun's measurement next to its baseline from the same run. */
export interface Figure {
    section: string;
    name: string;
    warmrun: string;
    baseline: string;
    /** warmrun / baseline in the sense the target is written (throughput or time), if any. */
    ratio?: number;
    /** e.g. ">= 0.9" or "<= 100 ms"; absent for figures without a target. */
    target?: string;
    met?: boolean;
    note?: string;
}

export interface BenchOptions {
    runs: number;
    cacheDir: string;
    log: (line: string) => void;
}

export function benchCacheDir(): string {
    const base = process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
    const dir = path.join(base, "bench");
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

export function median(values: number[]): number {
    if (values.length === 0) throw new Error("median of no values");
    const s = [...values].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
    const start = process.hrtime.bigint();
    const value = await fn();
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** Runs fn `runs` times and returns the median seconds and the last value. */
export async function medianTime<T>(runs: number, fn: () => Promise<T>): Promise<{ seconds: number; all: number[]; value: T }> {
    const all: number[] = [];
    let value!: T;
    for (let i = 0; i < runs; i++) {
        const r = await timeIt(fn);
        all.push(r.seconds);
        value = r.value;
    }
    return { seconds: median(all), all, value };
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion; a non-zero exit is an error unless allowed. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0;
            if (code !== 0 && !opts.allowFailure) reject(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${stdout}\n${stderr}`));
            else resolve({ code, stdout, stderr });
        });
    });
}

export function mib(bytes: number): string {
    return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

export function secs(s: number): string {
    return s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}

export function throughput(bytes: number, seconds: number): string {
    return `${(bytes / (1 << 20) / seconds).toFixed(0)} MiB/s`;
}

/** A target written as ">= x" or "<= x" met by value. */
export function meets(value: number, target: string): boolean {
    const m = /^(>=|<=)\s*([\d.]+)/.exec(target);
    if (!m) throw new Error(`target ${target} is not ">= n" or "<= n"`);
    const bound = parseFloat(m[2]);
    return m[1] === ">=" ? value >= bound : value <= bound;
}

export function figure(f: Omit<Figure, "met">): Figure {
    if (f.target && f.ratio !== undefined) {
        const numeric = f.target.replace(/\s*(ms|s)$/, "");
        return { ...f, met: meets(f.ratio, numeric) };
    }
    return f;
}

/** The figures as a Markdown table (also readable on a terminal). */
export function formatFigures(figures: Figure[]): string {
    const head = ["section", "figure", "warmrun", "baseline (same run)", "ratio", "target", "met"];
    const rows = figures.map((f) => [
        f.section,
        f.name + (f.note ? ` (${f.note})` : ""),
        f.warmrun,
        f.baseline,
        f.ratio === undefined ? "" : f.ratio.toFixed(2),
        f.target ?? "",
        f.met === undefined ? "" : f.met ? "yes" : "NO",
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
