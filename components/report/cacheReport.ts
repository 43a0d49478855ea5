// The cache report: what a `pulumi up` would rebuild, why, and what it would cost, read from
// `pulumi preview --json`. Pure functions only; scripts/cache-report.ts runs the preview.
import { diffInputs, describeImageChange, EntryDescriber, REASONS_SHOWN } from "../core/keys";
import { describeFolderChange, unfoldSummaries } from "../core/fileSummary";
import { parseCacheStatus } from "../core/preview";
import { warmCandidateOf } from "../images/warmStart";
import { warmLabel } from "../core/journal";
import { kindNamed } from "../kinds";

/** Type prefix of every artifact resource (components/core/artifact.ts registers through the dynamic provider). */
export const ARTIFACT_TYPE_PREFIX = "pulumi-nodejs:dynamic/warmrun:";
/** What the engine shows for a value a preview cannot know yet. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Status = "hit" | "miss" | "new" | "removed";
/** keep: nothing to do; adopt: the registry already holds the new key; build: nobody built it yet. */
export type Action = "keep" | "adopt" | "build" | "delete" | "unknown";

export interface ReportRow {
    artifact: string;
    kind: string;
    status: Status;
    action: Action;
    /** Short keys (the tags), before and after; null where there is none. */
    oldKey: string | null;
    newKey: string | null;
    /** What changed, one entry each: "Cargo.lock changed", "upstream rust-deps changed", ... */
    reasons: string[];
    /** Seconds of the artifact's last recorded build: the expected cost of building it again. */
    lastBuildSeconds: number | null;
    /**
     * A build that would warm-start (CargoDepsImage): the short key of the image the state records,
     * which the provider hands to the build. The build still goes cold if that image cannot serve
     * (gone, another rustc, the chain at its bound); the journal records what it did.
     */
    warmFrom?: string;
    /** The lease holder the journal's latest create of this key waited for (another runner built it). */
    waitedFor?: string;
}

export interface ReportTotals {
    artifacts: number;
    hits: number;
    misses: number;
    new: number;
    removed: number;
    builds: number;
    adopts: number;
    /** Sum of lastBuildSeconds over the rows that build. */
    expectedBuildSeconds: number;
    /** Rows that build without any recorded build time. */
    buildsWithoutRecord: number;
}

/** A build as the journal (components/core/journal.ts) records it. */
export interface RecordedBuild {
    artifact: string;
    action: string;
    key?: string;
    buildSeconds?: number;
    waitedFor?: string;
}

interface PreviewStep {
    op: string;
    urn: string;
    oldState?: { type?: string; inputs?: Record<string, any>; outputs?: Record<string, any> };
    newState?: { type?: string; inputs?: Record<string, any>; outputs?: Record<string, any> };
    replaceReasons?: string[];
}

export interface PreviewJson {
    steps?: PreviewStep[];
    diagnostics?: { urn?: string; message: string; severity: string }[];
}

function typeOfUrn(urn: string): string {
    // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
    const parts = urn.split("::");
    const types = parts[parts.length - 2] ?? "";
    return types.split("$").pop() ?? "";
}

const known = (v: unknown): string | null => (typeof v === "string" && v !== "" && v !== UNKNOWN ? v : null);

function shortOf(key: string | null): string | null {
    return key === null ? null : key.slice(0, 24);
}

/**
 * One reason per changed input entry (components/core/keys.ts inputSummary names: file:, param:,
 * upstream:): upstreams first (they explain a dependent's miss), then the kind's own entries in its
 * words (`describer`, e.g. a deps image's `tokio 1.40.0 -> 1.41.0`), then files, then parameters.
 */
export function describeReasons(olds: Record<string, string>, news: Record<string, string>, describer?: EntryDescriber, lists?: { old?: string; now?: string }): string[] {
    // Files by name where both file lists of folded summaries are kept (core/fileSummary.ts).
    const unfolded = lists ? unfoldSummaries(olds, news, lists.old, lists.now) : undefined;
    if (unfolded) [olds, news] = [unfolded.olds, unfolded.news];
    const c = diffInputs(olds, news);
    const RANK: Record<string, number> = { upstream: 0, image: 0, file: 1, param: 2 };
    const reasons: { rank: number; text: string }[] = [];
    const say = (entry: string, how: "changed" | "added" | "removed") => {
        const colon = entry.indexOf(":");
        const space = entry.slice(0, colon);
        const name = entry.slice(colon + 1);
        const rank = RANK[space] ?? 3;
        if (space === "file") reasons.push({ rank, text: `${name} ${how}` });
        else if (space === "files") reasons.push({ rank: RANK.file, text: describeFolderChange(entry, how === "added" ? undefined : olds[entry], how === "removed" ? undefined : news[entry]) });
        else if (space === "image") reasons.push({ rank, text: describeImageChange(entry, olds[entry], news[entry]) });
        else if (space === "upstream") reasons.push({ rank, text: `upstream ${name} ${how}` });
        else if (space === "param" && how === "changed" && (olds[entry] + news[entry]).length <= 60) reasons.push({ rank, text: `param ${name}: ${olds[entry]} -> ${news[entry]}` });
        else if (space === "param") reasons.push({ rank, text: `param ${name} ${how}` });
        else reasons.push({ rank, text: `${entry} ${how}` });
    };
    const generic = (entries: string[]) => (describer ? entries.filter((e) => !describer.covers(e)) : entries);
    for (const text of describer?.describe(olds, news) ?? []) reasons.push({ rank: 0.5, text });
    for (const e of generic(c.changed)) say(e, "changed");
    for (const e of generic(c.added)) say(e, "added");
    for (const e of generic(c.removed)) say(e, "removed");
    const texts = reasons.sort((a, b) => a.rank - b.rank).map((r) => r.text);
    return texts.length > REASONS_SHOWN ? [...texts.slice(0, REASONS_SHOWN), `and ${texts.length - REASONS_SHOWN} more`] : texts;
}

/** The engine's replace reasons that are not inputs (where the artifact is published, its kind). */
function placeReasons(replaceReasons: string[] | undefined): string[] {
    const out: string[] = [];
    for (const r of replaceReasons ?? []) {
        if (r === "registry") out.push("registry moved");
        else if (r === "repository") out.push("repository moved");
        else if (r === "kind") out.push("kind changed");
        else if (r === "tagInRegistry") out.push(GONE_REASON);
    }
    return out;
}

/**
 * The latest recorded build time of an artifact: the state's when its last create built, else the
 * journal's latest build, else a build the state records as 0 s (e.g. a Docker build, not timed).
 */
function lastBuild(name: string, oldOutputs: Record<string, any> | undefined, journal: RecordedBuild[]): number | null {
    const builtHere = oldOutputs?.cacheHit === false && typeof oldOutputs.buildSeconds === "number";
    if (builtHere && oldOutputs!.buildSeconds > 0) return oldOutputs!.buildSeconds;
    for (let i = journal.length - 1; i >= 0; i--) {
        const e = journal[i];
        if (e.artifact === name && e.action === "build" && typeof e.buildSeconds === "number") return e.buildSeconds;
    }
    return builtHere ? oldOutputs!.buildSeconds : null;
}

/** core/lifecycle.ts TAG_GONE_REASON: a plain `pulumi up` builds or adopts it again. */
export const GONE_REASON = "tag gone from the registry";

/**
 * The report's rows, one per artifact, in the preview's order (upstreams first). Whether the
 * registry holds a new key comes from the look-up the program itself logs during the preview
 * (components/core/preview.ts), so no tag is asked twice.
 */
export function reportRows(preview: PreviewJson, journal: RecordedBuild[] = []): ReportRow[] {
    const registryHolds = new Map<string, boolean>();
    for (const d of preview.diagnostics ?? []) {
        const s = parseCacheStatus(d.message);
        if (s) registryHolds.set(`${s.artifact}@${s.ref.split(":").pop()}`, s.digest !== undefined);
    }
    // A replace may also appear as its create-replacement/delete-replaced halves: one row per URN.
    const byUrn = new Map<string, PreviewStep[]>();
    for (const step of preview.steps ?? []) {
        if (!typeOfUrn(step.urn).startsWith(ARTIFACT_TYPE_PREFIX)) continue;
        if (!byUrn.has(step.urn)) byUrn.set(step.urn, []);
        byUrn.get(step.urn)!.push(step);
    }
    const rows: ReportRow[] = [];
    for (const [urn, steps] of byUrn) {
        const ops = new Set(steps.map((s) => s.op));
        const step = steps.find((s) => s.op === "replace") ?? steps.find((s) => s.op === "create-replacement") ?? steps[0];
        const oldState = steps.find((s) => s.oldState)?.oldState;
        const newState = steps.find((s) => s.newState && s.op !== "delete-replaced")?.newState;
        const artifact: string = newState?.inputs?.name ?? oldState?.inputs?.name ?? urn.split("::").pop()!;
        const kind = typeOfUrn(urn).slice(ARTIFACT_TYPE_PREFIX.length);
        const oldKey = shortOf(known(oldState?.outputs?.key ?? oldState?.inputs?.key));
        const newKey = shortOf(known(newState?.inputs?.key));
        const replaced = ops.has("replace") || ops.has("create-replacement");
        let status: Status;
        if (step.op === "delete" || (!newState && oldState)) status = "removed";
        else if (step.op === "create" || !oldState) status = "new";
        else if (replaced || oldKey !== newKey) status = "miss";
        else status = "hit";

        const reasons =
            status === "miss"
                ? [
                      ...describeReasons(oldState?.inputs?.inputs ?? oldState?.outputs?.inputs ?? {}, newState?.inputs?.inputs ?? {}, kindNamed(kind)?.definition.inputs, {
                          old: oldState?.outputs?.fileList ?? oldState?.inputs?.fileList,
                          now: newState?.inputs?.fileList,
                      }),
                      ...placeReasons(step.replaceReasons),
                  ]
                : [];
        if (status === "miss" && reasons.length === 0) reasons.push("key changed (recipe version)");
        if (status === "removed") reasons.push("no longer in the config; registry content stays");

        const holds = newKey === null ? undefined : registryHolds.get(`${artifact}@${newKey}`);
        let action: Action;
        if (status === "hit" && holds === false) {
            // The state still names it, but the registry lost the tag (deleted, garbage-collected).
            status = "miss";
            action = "build";
            reasons.push(GONE_REASON);
        } else if (status === "hit") action = "keep";
        else if (status === "removed") action = "delete";
        else action = holds === undefined ? "unknown" : holds ? "adopt" : "build";
        // The image the provider's diff would hand to the build as its warm-start candidate.
        const candidate = action === "build" && oldState ? warmCandidateOf({ ...oldState.inputs, ...oldState.outputs }, newState?.inputs) : undefined;
        const warmFrom = candidate ? shortOf(known(candidate.key)) : null;
        rows.push({
            artifact,
            kind,
            status,
            action,
            oldKey: status === "new" ? null : oldKey,
            newKey: status === "removed" ? null : newKey,
            reasons,
            lastBuildSeconds: lastBuild(artifact, oldState?.outputs, journal),
            ...(warmFrom ? { warmFrom } : {}),
        });
    }
    // A preview without --show-sames lists no unchanged artifact: its registry look-up still names it.
    const seen = new Set(rows.map((r) => r.artifact));
    for (const d of preview.diagnostics ?? []) {
        const s = parseCacheStatus(d.message);
        if (!s || seen.has(s.artifact)) continue;
        seen.add(s.artifact);
        const tag = s.ref.split(":").pop()!;
        const kind = (d.urn ?? "").split("::").slice(-2, -1)[0]?.split("$").pop()?.replace(/^warmrun:index:/, "") ?? "";
        const gone = s.digest === undefined;
        rows.push({ artifact: s.artifact, kind, status: gone ? "miss" : "hit", action: gone ? "build" : "keep", oldKey: tag, newKey: tag, reasons: gone ? [GONE_REASON] : [], lastBuildSeconds: lastBuild(s.artifact, undefined, journal) });
    }
    for (const r of rows) {
        const waited = lastWait(r.artifact, r.newKey ?? r.oldKey, journal);
        if (waited) r.waitedFor = waited;
    }
    return rows;
}

/** Whom the latest journal entry of this artifact and (short) key waited for, if it waited. */
export function lastWait(name: string, shortKey: string | null, journal: RecordedBuild[]): string | undefined {
    if (shortKey === null) return undefined;
    for (let i = journal.length - 1; i >= 0; i--) {
        const e = journal[i];
        if (e.artifact === name && (e.action === "build" || e.action === "adopt") && e.key?.startsWith(shortKey)) return e.waitedFor;
    }
    return undefined;
}

/** One line per row whose last create waited on another runner's lease. */
function waitNotes(rows: ReportRow[]): string[] {
    return rows.filter((r) => r.waitedFor).map((r) => `${r.artifact}: its last create waited for ${r.waitedFor}`);
}

export function totals(rows: ReportRow[]): ReportTotals {
    const count = (f: (r: ReportRow) => boolean) => rows.filter(f).length;
    const building = rows.filter((r) => r.action === "build" || r.action === "unknown");
    return {
        artifacts: rows.length,
        hits: count((r) => r.status === "hit"),
        misses: count((r) => r.status === "miss"),
        new: count((r) => r.status === "new"),
        removed: count((r) => r.status === "removed"),
        builds: building.length,
        adopts: count((r) => r.action === "adopt"),
        expectedBuildSeconds: Math.round(building.reduce((s, r) => s + (r.lastBuildSeconds ?? 0), 0) * 10) / 10,
        buildsWithoutRecord: building.filter((r) => r.lastBuildSeconds === null).length,
    };
}

/** 0.4 s, 42 s, 27 min, 2.5 h. */
export function formatDuration(seconds: number): string {
    if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
    if (seconds < 90) return `${Math.round(seconds)} s`;
    if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
    return `${Math.round(seconds / 360) / 10} h`;
}

/** "3 misses, about 27 min of builds", with what was new, adopted or has no recorded time. */
export function summaryLine(rows: ReportRow[]): string {
    const t = totals(rows);
    const parts = [`${t.misses} miss${t.misses === 1 ? "" : "es"}`];
    if (t.new) parts.push(`${t.new} new`);
    let line = parts.join(", ");
    if (t.builds) {
        const timed = t.builds - t.buildsWithoutRecord;
        line += `, ${t.builds} to build`;
        if (timed) line += `, about ${formatDuration(t.expectedBuildSeconds)} of builds`;
        if (t.buildsWithoutRecord) line += ` (${t.buildsWithoutRecord} with no recorded build time)`;
    }
    if (t.adopts) line += `; ${t.adopts} adopted from the registry, no build`;
    if (t.removed) line += `; ${t.removed} removed`;
    return line;
}

/** Exit code of `npm run cache-report -- --fail-on-miss` when some artifact misses or is new. */
export const EXIT_ON_MISS = 3;

export function hasMiss(rows: ReportRow[]): boolean {
    return rows.some((r) => r.status === "miss" || r.status === "new");
}

// ---- formats ----

const COLUMNS = ["artifact", "kind", "status", "action", "old key", "new key", "why", "last build"] as const;
const NONE = "—";

/** `build`, or `build (warm from <short key>)` for a build that would warm-start. */
function actionText(r: ReportRow): string {
    return r.action === "build" && r.warmFrom ? warmLabel(r.warmFrom) : r.action;
}

function seconds(v: number | null): string {
    return v === null ? NONE : `${v} s`;
}

/** A plain-text table for terminals. */
export function renderTable(rows: ReportRow[], opts: { stack?: string } = {}): string {
    const cells = rows.map((r) => {
        const why = r.reasons.length > 3 ? [...r.reasons.slice(0, 3), `and ${r.reasons.length - 3} more`] : r.reasons;
        return [
            r.artifact,
            r.kind,
            r.status,
            actionText(r),
            (r.oldKey ?? NONE).slice(0, 12),
            (r.newKey ?? NONE).slice(0, 12),
            why.join("; ") || NONE,
            r.lastBuildSeconds === null ? NONE : formatDuration(r.lastBuildSeconds),
        ];
    });
    const header = COLUMNS.map((c) => c.toUpperCase());
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join("  ");
    const title = `warmrun cache report${opts.stack ? ` (stack ${opts.stack})` : ""}`;
    const notes = waitNotes(rows);
    return [title, "", line(header), ...cells.map(line), "", summaryLine(rows), ...(notes.length ? ["", ...notes] : []), ""].join("\n");
}

// Markdown cells: backslash and pipe escaped; reasons one per line (<br>), HTML-special characters as entities.
function mdEscape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdUnescape(text: string): string {
    return text.replace(/\\([\\|])/g, "$1").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function mdCode(v: string | null): string {
    return v === null ? NONE : `\`${v}\``;
}

/** Markdown for $GITHUB_STEP_SUMMARY and pull-request comments; parseMarkdown reads it back. */
export function renderMarkdown(rows: ReportRow[], opts: { stack?: string } = {}): string {
    const head = `| ${COLUMNS.join(" | ")} |`;
    const rule = `|${COLUMNS.map(() => " --- ").join("|")}|`;
    const body = rows.map(
        (r) =>
            `| ${[
                mdEscape(r.artifact),
                mdEscape(r.kind),
                r.status,
                actionText(r),
                mdCode(r.oldKey),
                mdCode(r.newKey),
                r.reasons.length ? r.reasons.map(mdEscape).join("<br>") : NONE,
                seconds(r.lastBuildSeconds),
            ].join(" | ")} |`,
    );
    const notes = waitNotes(rows).map((n) => `- ${mdEscape(n)}`);
    return [`### warmrun cache report${opts.stack ? ` (stack \`${opts.stack}\`)` : ""}`, "", `**${summaryLine(rows)}**`, "", head, rule, ...body, ...(notes.length ? ["", ...notes] : []), ""].join("\n");
}

/** Splits a table line into cells, honouring escaped pipes. */
function splitCells(line: string): string[] {
    const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
    const cells: string[] = [];
    let cur = "";
    for (let i = 0; i < inner.length; i++) {
        if (inner[i] === "\\" && i + 1 < inner.length) {
            cur += inner[i] + inner[i + 1];
            i++;
        } else if (inner[i] === "|") {
            cells.push(cur.trim());
            cur = "";
        } else cur += inner[i];
    }
    cells.push(cur.trim());
    return cells;
}

/** Reads the rows of a report written by renderMarkdown (the first table with its header). */
export function parseMarkdown(text: string): ReportRow[] {
    const lines = text.split("\n");
    const start = lines.findIndex((l) => l.trim().startsWith("|") && splitCells(l).join("|") === COLUMNS.join("|"));
    if (start < 0) throw new Error("no warmrun cache report table in this Markdown");
    const rows: ReportRow[] = [];
    for (const line of lines.slice(start + 2)) {
        if (!line.trim().startsWith("|")) break;
        const c = splitCells(line);
        if (c.length !== COLUMNS.length) throw new Error(`a report row has ${c.length} cells, not ${COLUMNS.length}: ${line}`);
        const key = (v: string) => (v === NONE ? null : v.replace(/^`|`$/g, ""));
        const warm = /^build \(warm from ([0-9a-f]+)\)$/.exec(c[3]);
        rows.push({
            artifact: mdUnescape(c[0]),
            kind: mdUnescape(c[1]),
            status: c[2] as Status,
            action: (warm ? "build" : c[3]) as Action,
            ...(warm ? { warmFrom: warm[1] } : {}),
            oldKey: key(c[4]),
            newKey: key(c[5]),
            reasons: c[6] === NONE ? [] : c[6].split("<br>").map(mdUnescape),
            lastBuildSeconds: c[7] === NONE ? null : Number(c[7].replace(/ s$/, "")),
        });
    }
    return rows;
}

export function renderJson(rows: ReportRow[], opts: { stack?: string } = {}): string {
    return JSON.stringify({ stack: opts.stack ?? null, summary: summaryLine(rows), totals: totals(rows), rows }, null, 2) + "\n";
}

export const FORMATS = ["table", "markdown", "json"] as const;
export type Format = (typeof FORMATS)[number];

export function render(format: Format, rows: ReportRow[], opts: { stack?: string } = {}): string {
    return format === "markdown" ? renderMarkdown(rows, opts) : format === "json" ? renderJson(rows, opts) : renderTable(rows, opts);
}
