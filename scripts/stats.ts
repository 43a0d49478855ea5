// The cache's history from the build journal (components/report/stats.ts): hit rate, builds and
// their time, time saved and bytes not downloaded, per artifact and in total.
//
//   npm run stats -- [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]]
//
// Exit codes: 0 written; 1 the journal cannot be read; 2 bad arguments.
import * as fs from "fs";
import * as path from "path";
import { journalPath, readJournal } from "../components/core/journal";
import { WarmrunError } from "../components/core/errors";
import { computeStats, renderStats, STATS_FORMATS, StatsFormat, windowLine } from "../components/report/stats";
import { parseOptions, PROJECT_ROOT, UsageError } from "./pulumiCli";

export const USAGE = "usage: npm run stats -- [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]]";

function count(name: string, v: string | undefined, usage: string): number | undefined {
    if (v === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} ${v}: give a whole number above 0\n${usage}`);
    return Number(v);
}

export async function main(argv: string[], usage = USAGE): Promise<number> {
    const o = parseOptions(argv, ["--runs", "--days", "--format", "--journal", "--output"], ["--append", "--help"], usage);
    if (o.flags.has("help")) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    const format = (o.values.format ?? "table") as StatsFormat;
    if (!STATS_FORMATS.includes(format)) throw new UsageError(`--format ${format} is not one of ${STATS_FORMATS.join(", ")}\n${usage}`);
    if (o.flags.has("append") && !o.values.output) throw new UsageError(`--append needs --output FILE\n${usage}`);
    const file = path.resolve(PROJECT_ROOT, o.values.journal ?? journalPath());
    let journal;
    try {
        journal = readJournal(file);
    } catch (e: any) {
        throw new WarmrunError(`the journal ${file} cannot be read (${e.message}): fix or remove the broken line`);
    }
    const stats = computeStats(journal, { runs: count("runs", o.values.runs, usage), days: count("days", o.values.days, usage) });
    const text = renderStats(format, stats);
    if (o.values.output) {
        (o.flags.has("append") ? fs.appendFileSync : fs.writeFileSync)(o.values.output, text);
        process.stdout.write(`stats of ${windowLine(stats)} written to ${o.values.output}\n`);
    } else process.stdout.write(text);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`stats: ${e.message}\n`);
            process.exitCode = e instanceof UsageError ? 2 : 1;
        },
    );
}
