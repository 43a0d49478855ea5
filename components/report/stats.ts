// The cache's history from the build journal (components/core/journal.ts): per artifact and in
// total, over the last N runs or days, the hit rate, the builds and their time, the time and the
// bytes that adoptions saved. Pure functions; scripts/stats.ts reads the journal and prints.
//
// A run is the entries of one `up`: those that carry the same `run` id (journal.ts writes one per
// process, or $WARMRUN_RUN_ID), and for entries written before runs had ids, consecutive entries
// less than RUN_GAP_SECONDS apart. A run that changed nothing writes no entry, so it is not counted.
import { WarmrunError } from "../core/errors";

export interface StatsEntry {
    time: string;
    artifact: string;
    kind: string;
    action: string;
    buildSeconds?: number;
    downloads?: { count: number; bytes: number };
    run?: string;
}

export const RUN_GAP_SECONDS = 600;

export interface StatsOptions {
    /** The last N runs. */
    runs?: number;
    /** The entries of the last N days (N × 24 hours before `now`). */
    days?: number;
    now?: Date;
}

export interface Figures {
    /** Runs that built or adopted the artifact (in total: runs in the window). */
    runs: number;
    builds: number;
    buildSeconds: number;
    adoptions: number;
    /** adoptions / (builds + adoptions); null without either. */
    hitRate: number | null;
    /** Each adoption priced at the artifact's last build before it (its seconds). */
    timeSavedSeconds: number;
    /** Adoptions with no earlier build in the journal to price them by. */
    unpricedAdoptions: number;
    /** Each adoption: what the artifact's last build downloaded, less what the adoption did. */
    bytesNotDownloaded: number;
    /** What the builds and adoptions downloaded. */
    bytesDownloaded: number;
}

export interface ArtifactStats extends Figures {
    artifact: string;
    kind: string;
}

export interface DayStats {
    /** UTC date, YYYY-MM-DD. */
    day: string;
    builds: number;
    adoptions: number;
    hitRate: number | null;
    buildSeconds: number;
}

export interface Stats {
    window: { runs: number; from: string | null; to: string | null; lastRuns?: number; lastDays?: number };
    artifacts: ArtifactStats[];
    total: Figures;
    days: DayStats[];
}

/** The journal's entries grouped into runs, in order. */
export function groupRuns<E extends StatsEntry>(entries: E[]): E[][] {
    const runs: E[][] = [];
    const byId = new Map<string, E[]>();
    let legacy: E[] | undefined;
    let last: number | undefined;
    for (const e of entries) {
        const t = Date.parse(e.time);
        if (e.run !== undefined) {
            let run = byId.get(e.run);
            if (!run) {
                run = [];
                byId.set(e.run, run);
                runs.push(run);
            }
            run.push(e);
            legacy = undefined;
        } else {
            if (!legacy || last === undefined || t - last > RUN_GAP_SECONDS * 1000) runs.push((legacy = []));
            legacy.push(e);
        }
        last = t;
    }
    return runs;
}

const COUNTED = new Set(["build", "adopt"]);

function emptyFigures(): Figures {
    return { runs: 0, builds: 0, buildSeconds: 0, adoptions: 0, hitRate: null, timeSavedSeconds: 0, unpricedAdoptions: 0, bytesNotDownloaded: 0, bytesDownloaded: 0 };
}

function finish(f: Figures): Figures {
    const events = f.builds + f.adoptions;
    f.hitRate = events === 0 ? null : f.adoptions / events;
    f.buildSeconds = round(f.buildSeconds, 1);
    f.timeSavedSeconds = round(f.timeSavedSeconds, 1);
    return f;
}

export function round(n: number, digits: number): number {
    const p = 10 ** digits;
    return Math.round(n * p) / p;
}

function checkWindow(opts: StatsOptions): void {
    for (const [name, v] of [["--runs", opts.runs], ["--days", opts.days]] as const) {
        if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new WarmrunError(`${name} ${v}: give a whole number above 0`);
    }
}

/** The figures of the entries in the window; every build of the whole journal prices the adoptions. */
export function computeStats(journal: StatsEntry[], opts: StatsOptions = {}): Stats {
    checkWindow(opts);
    const now = (opts.now ?? new Date()).getTime();
    // The last build of each artifact before each entry, over the whole journal.
    const price = new Map<StatsEntry, StatsEntry | undefined>();
    const lastBuild = new Map<string, StatsEntry>();
    for (const e of journal) {
        if (e.action === "adopt") price.set(e, lastBuild.get(e.artifact));
        if (e.action === "build" && typeof e.buildSeconds === "number") lastBuild.set(e.artifact, e);
    }
    let runs = groupRuns(journal);
    if (opts.runs !== undefined) runs = runs.slice(-opts.runs);
    if (opts.days !== undefined) {
        const since = now - opts.days * 86400 * 1000;
        runs = runs.map((r) => r.filter((e) => Date.parse(e.time) >= since)).filter((r) => r.length > 0);
    }
    const per = new Map<string, ArtifactStats>();
    const days = new Map<string, DayStats>();
    const total = emptyFigures();
    total.runs = runs.length;
    for (const run of runs) {
        const seen = new Set<string>();
        for (const e of run) {
            if (!COUNTED.has(e.action)) continue;
            let a = per.get(e.artifact);
            if (!a) per.set(e.artifact, (a = { artifact: e.artifact, kind: e.kind, ...emptyFigures() }));
            if (!seen.has(e.artifact)) {
                seen.add(e.artifact);
                a.runs++;
            }
            const dayKey = e.time.slice(0, 10);
            let d = days.get(dayKey);
            if (!d) days.set(dayKey, (d = { day: dayKey, builds: 0, adoptions: 0, hitRate: null, buildSeconds: 0 }));
            const bytes = e.downloads?.bytes ?? 0;
            for (const f of [a, total]) f.bytesDownloaded += bytes;
            if (e.action === "build") {
                const s = e.buildSeconds ?? 0;
                for (const f of [a, total]) {
                    f.builds++;
                    f.buildSeconds += s;
                }
                d.builds++;
                d.buildSeconds += s;
            } else {
                const p = price.get(e);
                for (const f of [a, total]) {
                    f.adoptions++;
                    if (p) {
                        f.timeSavedSeconds += p.buildSeconds ?? 0;
                        f.bytesNotDownloaded += Math.max(0, (p.downloads?.bytes ?? 0) - bytes);
                    } else f.unpricedAdoptions++;
                }
                d.adoptions++;
            }
        }
    }
    const dayList = [...days.values()].sort((x, y) => x.day.localeCompare(y.day));
    for (const d of dayList) {
        d.hitRate = d.builds + d.adoptions === 0 ? null : d.adoptions / (d.builds + d.adoptions);
        d.buildSeconds = round(d.buildSeconds, 1);
    }
    const inWindow = runs.flat();
    return {
        window: {
            runs: runs.length,
            from: inWindow.length ? inWindow.map((e) => e.time).sort()[0] : null,
            to: inWindow.length ? inWindow.map((e) => e.time).sort().slice(-1)[0] : null,
            ...(opts.runs !== undefined ? { lastRuns: opts.runs } : {}),
            ...(opts.days !== undefined ? { lastDays: opts.days } : {}),
        },
        artifacts: [...per.values()].sort((x, y) => x.artifact.localeCompare(y.artifact)).map((a) => finish(a) as ArtifactStats),
        total: finish(total),
        days: dayList,
    };
}

// ---- rendering: the numbers every format shows come from these functions, so they agree.

/** A hit rate in percent, one decimal; "-" without events. */
export function percent(rate: number | null): string {
    return rate === null ? "-" : `${round(rate * 100, 1)}%`;
}

/** Build minutes of a day, two decimals. */
export function minutes(seconds: number): number {
    return round(seconds / 60, 2);
}

export function duration(seconds: number): string {
    if (seconds < 60) return `${round(seconds, 1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function bytes(n: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let v = n;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
    }
    return u === 0 ? `${n} B` : `${round(v, 1)} ${units[u]}`;
}

const COLUMNS = ["artifact", "kind", "runs", "builds", "build time", "adoptions", "hit rate", "time saved", "not downloaded"];

function cells(name: string, kind: string, f: Figures): string[] {
    const saved = duration(f.timeSavedSeconds) + (f.unpricedAdoptions ? ` (+${f.unpricedAdoptions} unpriced)` : "");
    return [name, kind, String(f.runs), String(f.builds), duration(f.buildSeconds), String(f.adoptions), percent(f.hitRate), saved, bytes(f.bytesNotDownloaded)];
}

function rowsOf(s: Stats): string[][] {
    return [...s.artifacts.map((a) => cells(a.artifact, a.kind, a)), cells("total", "", s.total)];
}

const DAY_COLUMNS = ["day", "builds", "adoptions", "hit rate", "build minutes"];
const dayCells = (d: DayStats) => [d.day, String(d.builds), String(d.adoptions), percent(d.hitRate), String(minutes(d.buildSeconds))];

export function windowLine(s: Stats): string {
    const last = (n: number | undefined, unit: string) => (n === undefined ? "" : n === 1 ? `the last ${unit}` : `the last ${n} ${unit}s`);
    const scope = [last(s.window.lastRuns, "run"), last(s.window.lastDays, "day")].filter(Boolean).join(" within ") || "the whole journal";
    const span = s.window.from ? `, ${s.window.from.slice(0, 10)} to ${s.window.to!.slice(0, 10)}` : "";
    return `${s.window.runs} run${s.window.runs === 1 ? "" : "s"} (${scope}${span})`;
}

export function renderStatsTable(s: Stats): string {
    const table = (head: string[], body: string[][]) => {
        const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
        return [head.map((h) => h.toUpperCase()), ...body].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join("  ")).join("\n");
    };
    return [`warmrun cache stats: ${windowLine(s)}`, "", table(COLUMNS, rowsOf(s)), "", table(DAY_COLUMNS, s.days.map(dayCells)), ""].join("\n");
}

export function renderStatsJson(s: Stats): string {
    return JSON.stringify(s, null, 2) + "\n";
}

const mdRow = (c: string[]) => `| ${c.map((v) => v.replace(/\|/g, "\\|")).join(" | ")} |`;
const mdTable = (head: string[], body: string[][]) => [mdRow(head), `|${head.map(() => " --- ").join("|")}|`, ...body.map(mdRow)].join("\n");

/** A Mermaid xychart-beta bar chart of one value per day. */
export function xychart(title: string, yTitle: string, days: string[], values: number[], max?: number): string {
    const axis = max === undefined ? `y-axis "${yTitle}"` : `y-axis "${yTitle}" 0 --> ${max}`;
    return ["```mermaid", "xychart-beta", `    title "${title}"`, `    x-axis [${days.map((d) => `"${d}"`).join(", ")}]`, `    ${axis}`, `    bar [${values.join(", ")}]`, "```"].join("\n");
}

/** The charts' values, the same numbers the day table shows: hit rate in percent (0 without events), build minutes. */
export function chartValues(s: Stats): { days: string[]; hitRate: number[]; buildMinutes: number[] } {
    return { days: s.days.map((d) => d.day), hitRate: s.days.map((d) => (d.hitRate === null ? 0 : round(d.hitRate * 100, 1))), buildMinutes: s.days.map((d) => minutes(d.buildSeconds)) };
}

export function renderStatsMarkdown(s: Stats): string {
    const c = chartValues(s);
    const charts = s.days.length
        ? ["", xychart("Hit rate per day (%)", "hit rate (%)", c.days, c.hitRate, 100), "", xychart("Build minutes per day", "minutes", c.days, c.buildMinutes)]
        : [];
    return [`### warmrun cache stats`, "", `**${windowLine(s)}**`, "", mdTable(COLUMNS, rowsOf(s)), "", mdTable(DAY_COLUMNS, s.days.map(dayCells)), ...charts, ""].join("\n");
}

export const STATS_FORMATS = ["table", "json", "markdown"] as const;
export type StatsFormat = (typeof STATS_FORMATS)[number];

export function renderStats(format: StatsFormat, s: Stats): string {
    return format === "json" ? renderStatsJson(s) : format === "markdown" ? renderStatsMarkdown(s) : renderStatsTable(s);
}
