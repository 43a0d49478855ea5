// An append-only record of what each run did to each artifact (build, adopt, gone), one JSON line each.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shortKey } from "./keys";

export interface JournalEntry {
    artifact: string;
    kind: string;
    key: string;
    action: "build" | "adopt" | "gone" | "moved" | "delete";
    digest?: string;
    buildSeconds?: number;
    downloads?: DownloadSummary;
    /** A warm-started build (CargoDepsImage): the parent it started from. */
    warmFrom?: WarmFrom;
    /** Units cargo compiled in the build (CargoDepsImage). */
    compiledUnits?: number;
    /** The lease holder this run waited for before it adopted (or, its lease expired, built). */
    waitedFor?: string;
    /** The run that wrote the entry: $WARMRUN_RUN_ID, else one id per process (an up's provider). */
    run?: string;
}

/** One id per process: the entries of one up share it (components/report/stats.ts counts runs by it). */
const PROCESS_RUN = `${os.hostname()}-${process.pid}-${Date.now().toString(36)}`;

export function runId(env: NodeJS.ProcessEnv = process.env): string {
    return env.WARMRUN_RUN_ID || PROCESS_RUN;
}

export interface WarmFrom {
    /** Manifest digest and key of the parent image. */
    digest: string;
    key: string;
    /** Warm starts in the chain, this one included. */
    depth: number;
}

/** `build (warm from <short key>)`: how the log, the journal's readers and the cache report say a warm build. */
export function warmLabel(parentKey: string): string {
    return `build (warm from ${shortKey(parentKey)})`;
}

export interface DownloadSummary {
    count: number;
    bytes: number;
    /** Per tool (apt, cargo, ...), when the build counted its tools' output. */
    byTool?: Record<string, { count: number; bytes: number }>;
}

export const NO_DOWNLOADS: DownloadSummary = { count: 0, bytes: 0 };

export function journalPath(): string {
    return process.env.WARMRUN_JOURNAL || path.join(".warmrun", "journal.jsonl");
}

export function appendJournal(entry: JournalEntry): void {
    const file = journalPath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), run: runId(), ...entry }) + "\n");
}

export function readJournal(file = journalPath()): (JournalEntry & { time: string })[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l));
}
