// The download report of one command or build: Markdown for people, JSON for pipelines, and the
// warm-run thresholds (a warm run downloads nothing: its minimum is 0 items, 0 bytes).
import { DownloadCount } from "./counter";
import { DOWNLOAD_TABLES } from "./rules";

export interface ReportContext {
    label: string;
    command?: string[];
    /** The command's exit status (null: killed by a signal). */
    exitCode?: number | null;
    signal?: string | null;
    seconds?: number;
    maxCount?: number;
    maxBytes?: number;
}

export const WARM_RUN_MINIMUM = { count: 0, bytes: 0 };
const TOP_ITEMS = 10;

export function formatBytes(n: number): string {
    if (n < 1024) return `${n} B`;
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${v.toFixed(1)} ${units[i]}`;
}

/** Which thresholds the run exceeds, one sentence each (empty: none). */
export function exceededThresholds(c: DownloadCount, ctx: Pick<ReportContext, "maxCount" | "maxBytes">): string[] {
    const over: string[] = [];
    if (ctx.maxCount !== undefined && c.count > ctx.maxCount) over.push(`${c.count} downloads exceed --max-count ${ctx.maxCount}`);
    if (ctx.maxBytes !== undefined && c.bytes > ctx.maxBytes) over.push(`${c.bytes} bytes downloaded exceed --max-bytes ${ctx.maxBytes}`);
    return over;
}

export function suggestionFor(tool: string): string | undefined {
    return DOWNLOAD_TABLES.find((t) => t.tool === tool)?.suggestion;
}

export function reportJson(c: DownloadCount, ctx: ReportContext) {
    const exceeded = exceededThresholds(c, ctx);
    return {
        label: ctx.label,
        ...(ctx.command ? { command: ctx.command } : {}),
        ...(ctx.exitCode !== undefined ? { exitCode: ctx.exitCode } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.seconds !== undefined ? { seconds: ctx.seconds } : {}),
        count: c.count,
        bytes: c.bytes,
        warmRunMinimum: WARM_RUN_MINIMUM,
        overMinimum: { count: c.count - WARM_RUN_MINIMUM.count, bytes: c.bytes - WARM_RUN_MINIMUM.bytes },
        thresholds: { ...(ctx.maxCount !== undefined ? { maxCount: ctx.maxCount } : {}), ...(ctx.maxBytes !== undefined ? { maxBytes: ctx.maxBytes } : {}), exceeded },
        byTool: Object.fromEntries(
            Object.entries(c.byTool).map(([tool, t]) => [tool, { ...t, ...(c.reported[tool] ? { reported: c.reported[tool] } : {}), suggestion: suggestionFor(tool) }]),
        ),
        items: c.items,
    };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function reportMarkdown(c: DownloadCount, ctx: ReportContext): string {
    const out: string[] = [`# Downloads: ${cell(ctx.label)}`, ""];
    if (ctx.command) {
        const status = ctx.signal ? `was killed by ${ctx.signal}` : `exited with ${ctx.exitCode ?? "?"}`;
        out.push(`\`${cell(ctx.command.join(" "))}\` ${status}${ctx.seconds !== undefined ? ` after ${ctx.seconds.toFixed(1)} s` : ""}.`, "");
    }
    out.push("| | items | bytes |", "| --- | ---: | ---: |");
    out.push(`| this run | ${c.count} | ${formatBytes(c.bytes)} |`);
    out.push(`| warm-run minimum | ${WARM_RUN_MINIMUM.count} | ${formatBytes(WARM_RUN_MINIMUM.bytes)} |`);
    out.push(`| over the minimum | ${c.count - WARM_RUN_MINIMUM.count} | ${formatBytes(c.bytes - WARM_RUN_MINIMUM.bytes)} |`, "");
    if (c.count === 0) out.push("This run downloaded nothing: it is at the warm-run minimum.", "");
    else out.push(`This run is ${c.count} download${c.count === 1 ? "" : "s"} (${formatBytes(c.bytes)}) away from the warm-run minimum.`, "");
    const exceeded = exceededThresholds(c, ctx);
    if (ctx.maxCount !== undefined || ctx.maxBytes !== undefined) {
        const limits = [ctx.maxCount !== undefined ? `at most ${ctx.maxCount} items` : "", ctx.maxBytes !== undefined ? `at most ${formatBytes(ctx.maxBytes)}` : ""].filter((x) => x).join(", ");
        out.push(exceeded.length ? `**Threshold exceeded** (${limits}): ${exceeded.join("; ")}.` : `Within the thresholds (${limits}).`, "");
    }
    const tools = Object.entries(c.byTool).sort((a, b) => b[1].bytes - a[1].bytes || b[1].count - a[1].count);
    if (tools.length) {
        out.push("## By tool", "", "| tool | items | bytes | the tool's own total |", "| --- | ---: | ---: | --- |");
        for (const [tool, t] of tools) {
            const r = c.reported[tool];
            const own = r ? [r.count !== undefined ? `${r.count} item${r.count === 1 ? "" : "s"}` : "", r.bytes !== undefined ? formatBytes(r.bytes) : ""].filter((x) => x).join(", ") : "";
            out.push(`| ${tool} | ${t.count} | ${formatBytes(t.bytes)} | ${own} |`);
        }
        out.push("");
        const sized = c.items.filter((i) => i.bytes !== undefined).sort((a, b) => (b.bytes as number) - (a.bytes as number));
        const unsized = c.items.length - sized.length;
        out.push("## Top items by size", "");
        if (sized.length) {
            out.push("| item | tool | bytes |", "| --- | --- | ---: |");
            for (const i of sized.slice(0, TOP_ITEMS)) out.push(`| ${cell(i.name)} | ${i.tool} | ${formatBytes(i.bytes as number)} |`);
            out.push("");
        }
        if (sized.length > TOP_ITEMS) out.push(`${sized.length - TOP_ITEMS} more items with a size.`, "");
        if (unsized) {
            const names = c.items.filter((i) => i.bytes === undefined).map((i) => `${cell(i.name)} (${i.tool})`);
            out.push(`${unsized} item${unsized === 1 ? "" : "s"} printed without a size: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", ..." : ""}.`, "");
        }
        out.push("## Suggestions", "");
        for (const [tool] of tools) out.push(`- **${tool}**: ${suggestionFor(tool) ?? "cache what it downloads between runs"}.`);
        out.push("");
    }
    return out.join("\n");
}
