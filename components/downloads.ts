// Counts what a build step downloaded, from the lines its tools print. A rule table per tool;
// adding a tool means adding a rule.
import { DownloadSummary } from "./journal";

export interface DownloadRule {
    tool: string;
    /** Matches one downloaded item; the named group `size` (with `unit`) gives bytes when printed. */
    pattern: RegExp;
}

const UNITS: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1 << 20, GB: 1e9, GiB: 1 << 30 };

export const DOWNLOAD_RULES: DownloadRule[] = [
    // apt-get: "Get:12 <mirror> trixie/main amd64 libc6 amd64 2.41-12 [2,851 kB]" (index files,
    // "Get:1 <mirror> trixie InRelease [140 kB]", are not packages and do not match)
    { tool: "apt", pattern: /^Get:\d+ \S+ \S+ \S+ (?<item>\S+) \S+ \S+ \[(?<size>[\d,.]+) (?<unit>[kKMG]?i?B)\]/ },
    // debootstrap: "I: Retrieving libc6 2.41-12"
    { tool: "debootstrap", pattern: /^I: Retrieving (?<item>\S+) \S+$/ },
    // cargo: "  Downloaded itoa v1.0.11"
    { tool: "cargo", pattern: /^\s*Downloaded (?<item>\S+ v\S+)$/ },
];

export interface DownloadCount extends DownloadSummary {
    byTool: Record<string, { count: number; bytes: number }>;
}

export function countDownloads(text: string, rules: DownloadRule[] = DOWNLOAD_RULES): DownloadCount {
    const result: DownloadCount = { count: 0, bytes: 0, byTool: {} };
    // eslint-disable-next-line no-control-regex
    for (const raw of text.split(/\r?\n|\r/)) {
        const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
        for (const rule of rules) {
            const m = rule.pattern.exec(line);
            if (!m) continue;
            const size = m.groups?.size ? Math.round(parseFloat(m.groups.size.replace(/,/g, "")) * (UNITS[m.groups.unit ?? "B"] ?? 1)) : 0;
            const t = (result.byTool[rule.tool] ??= { count: 0, bytes: 0 });
            t.count++;
            t.bytes += size;
            result.count++;
            result.bytes += size;
            break;
        }
    }
    return result;
}
