// Counts what a build step downloaded, from the lines its tools print. The tools' rule tables are
// data (rules.ts); this file splits a stream into lines (carriage-return progress, ANSI
// colour, very long lines) and applies the tables.
import { StringDecoder } from "string_decoder";
import { DownloadSummary } from "../core/journal";
import { DOWNLOAD_TABLES, ToolRules, DownloadRule, sizeInBytes } from "./rules";

export { DOWNLOAD_TABLES, ToolRules, DownloadRule } from "./rules";

export interface DownloadItem {
    tool: string;
    name: string;
    /** Absent when the tool prints no size for it. */
    bytes?: number;
}

export interface DownloadCount extends DownloadSummary {
    byTool: Record<string, { count: number; bytes: number }>;
    /** Every item counted, in the order printed. */
    items: DownloadItem[];
    /** Each tool's own printed totals (e.g. apt's "Fetched", cargo's "Downloaded N crates (X)"). */
    reported: Record<string, { count?: number; bytes?: number }>;
}

/** Longest line kept; rules match at a line's start, the rest of a longer line is dropped. */
export const MAX_LINE = 64 * 1024;

// CSI (colours, erase line, cursor moves), OSC (titles, links), two-byte escapes, other controls.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

export function stripAnsi(text: string): string {
    return CONTROL.test(text) ? text.replace(ANSI, "") : text;
}

const blank = (s: string) => !/\S/.test(s);

/**
 * Splits a stream of text into the lines a terminal would end up showing: of the frames a line is
 * redrawn in with carriage returns, the last one that is not blank. Memory stays bounded by
 * MAX_LINE, whatever the length of a line or the number of its frames.
 */
export class LineSplitter {
    private frame = "";
    private lastFrame = "";

    constructor(private readonly onLine: (line: string) => void, private readonly maxLine = MAX_LINE) {}

    push(text: string): void {
        let start = 0;
        const breaks = /[\r\n]/g;
        for (let m = breaks.exec(text); m; m = breaks.exec(text)) {
            this.append(text.slice(start, m.index));
            start = m.index + 1;
            if (m[0] === "\n") this.endLine();
            else this.endFrame();
        }
        this.append(text.slice(start));
    }

    end(): void {
        if (this.frame !== "" || this.lastFrame !== "") this.endLine();
    }

    private append(s: string): void {
        if (s === "" || this.frame.length >= this.maxLine) return;
        this.frame += s.length + this.frame.length > this.maxLine ? s.slice(0, this.maxLine - this.frame.length) : s;
    }

    private endFrame(): void {
        const shown = stripAnsi(this.frame);
        if (!blank(shown)) this.lastFrame = shown;
        this.frame = "";
    }

    private endLine(): void {
        const shown = stripAnsi(this.frame);
        const line = blank(shown) ? this.lastFrame : shown;
        this.frame = "";
        this.lastFrame = "";
        this.onLine(line.replace(/\s+$/, ""));
    }
}

interface ToolState {
    count: number;
    bytes: number;
    waiting?: DownloadItem;
    seen?: Set<string>;
}

/**
 * The character a pattern's match must begin with, once leading blanks are skipped (`^X`, `^\s*X`),
 * or undefined when it cannot tell. Only a hint for speed: it narrows which rules a line is tried on.
 */
export function leadingChar(pattern: RegExp): string | undefined {
    if (pattern.flags.includes("i")) return undefined;
    const m = /^\^(?:\\s\*)?(?:([^\\()[\].*+?{}|$^])|\\([^a-zA-Z0-9]))(?![?*{])/.exec(pattern.source);
    return m ? m[1] ?? m[2] : undefined;
}

interface IndexedRule {
    table: ToolRules;
    rule: DownloadRule;
}

/** Applies the rule tables to lines, one at a time. */
export class DownloadMatcher {
    private readonly state = new Map<string, ToolState>();
    /** Rules in table order, per leading character of a line (rules with no known one in every list). */
    private readonly byChar = new Map<string, IndexedRule[]>();
    private readonly anyChar: IndexedRule[] = [];
    private readonly ordered: (IndexedRule & { lead?: string })[] = [];
    private readonly items: DownloadItem[] = [];
    private readonly reported: Record<string, { count?: number; bytes?: number }> = {};

    constructor(private readonly tables: ToolRules[] = DOWNLOAD_TABLES) {
        for (const table of tables) for (const rule of table.rules) this.ordered.push({ table, rule, lead: leadingChar(rule.pattern) });
        for (const r of this.ordered) if (r.lead === undefined) this.anyChar.push(r);
    }

    private candidates(line: string): IndexedRule[] {
        const c = line.charAt(line.search(/\S/));
        let list = this.byChar.get(c);
        if (!list) this.byChar.set(c, (list = this.ordered.filter((r) => r.lead === undefined || r.lead === c)));
        return list;
    }

    private stateOf(tool: string): ToolState {
        let s = this.state.get(tool);
        if (!s) this.state.set(tool, (s = { count: 0, bytes: 0 }));
        return s;
    }

    line(line: string): void {
        if (line === "") return;
        for (const { table, rule } of this.candidates(line)) {
            if (rule.kind === "size" && !this.state.get(table.tool)?.waiting) continue;
            const m = rule.pattern.exec(line);
            if (!m) continue;
            this.apply(table, rule, m.groups ?? {});
            return;
        }
    }

    private apply(table: ToolRules, rule: DownloadRule, g: Record<string, string | undefined>): void {
        const st = this.stateOf(table.tool);
        const bytes = g.size !== undefined ? sizeInBytes(g.size, g.unit, table.binaryUnits === true) : undefined;
        switch (rule.kind) {
            case "skip":
                st.waiting = undefined;
                return;
            case "total": {
                const r = (this.reported[table.tool] ??= {});
                if (g.count !== undefined) r.count = parseInt(g.count, 10);
                if (bytes !== undefined) r.bytes = bytes;
                return;
            }
            case "size": {
                const item = st.waiting as DownloadItem;
                item.bytes = bytes;
                st.bytes += bytes ?? 0;
                st.waiting = undefined;
                return;
            }
            case "item": {
                const name = typeof rule.name === "function" ? rule.name(g) : rule.name ?? (g.version ? `${g.item}@${g.version}` : (g.item as string));
                if (table.dedupe) {
                    st.seen ??= new Set();
                    if (st.seen.has(name)) return;
                    st.seen.add(name);
                }
                const item: DownloadItem = { tool: table.tool, name, ...(bytes !== undefined ? { bytes } : {}) };
                this.items.push(item);
                st.count++;
                st.bytes += bytes ?? 0;
                st.waiting = rule.awaitsSize ? item : undefined;
                return;
            }
        }
    }

    summary(): DownloadCount {
        const result: DownloadCount = { count: 0, bytes: 0, byTool: {}, items: this.items.slice(), reported: JSON.parse(JSON.stringify(this.reported)) };
        for (const [tool, st] of this.state) {
            if (st.count === 0) continue;
            let bytes = st.bytes;
            // Tools that print no size per item (cargo) print their total: it is the tool's bytes.
            const sized = this.items.some((i) => i.tool === tool && i.bytes !== undefined);
            if (!sized && this.reported[tool]?.bytes !== undefined) bytes = this.reported[tool].bytes as number;
            result.byTool[tool] = { count: st.count, bytes };
            result.count += st.count;
            result.bytes += bytes;
        }
        return result;
    }
}

/**
 * Streaming counter: write chunks (text or bytes, split anywhere) as they arrive, then end(). Each
 * output stream (stdout, stderr) has its own line splitter, so their partial lines never mix; the
 * tools' state (an item waiting for its size) is shared.
 */
export class DownloadCounter {
    private readonly matcher: DownloadMatcher;
    private readonly streams = new Map<string, { splitter: LineSplitter; decoder: StringDecoder }>();

    constructor(tables: ToolRules[] = DOWNLOAD_TABLES) {
        this.matcher = new DownloadMatcher(tables);
    }

    private streamOf(name: string) {
        let s = this.streams.get(name);
        if (!s) this.streams.set(name, (s = { splitter: new LineSplitter((l) => this.matcher.line(l)), decoder: new StringDecoder("utf8") }));
        return s;
    }

    write(chunk: string | Buffer, stream = "out"): void {
        const s = this.streamOf(stream);
        s.splitter.push(typeof chunk === "string" ? chunk : s.decoder.write(chunk));
    }

    end(): DownloadCount {
        for (const s of this.streams.values()) {
            s.splitter.push(s.decoder.end());
            s.splitter.end();
        }
        return this.matcher.summary();
    }
}

export function countDownloads(text: string, tables: ToolRules[] = DOWNLOAD_TABLES): DownloadCount {
    const counter = new DownloadCounter(tables);
    counter.write(text);
    return counter.end();
}

/** What stack outputs and the journal record of a build: totals and the per-tool breakdown. */
export function summaryOf(c: DownloadCount): DownloadSummary {
    return { count: c.count, bytes: c.bytes, byTool: c.byTool };
}
