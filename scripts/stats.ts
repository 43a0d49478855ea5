// The cache's history from the build journal (components/report/stats.ts): hit rate, builds and
// their time, time saved and bytes not downloaded, per artifact and in total.
//
//   npm run stats -- [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]]
//                    [--shared REPOSITORY [--push] [--stack NAME]]
//
// --shared: the stack's journal in the registry (components/report/sharedJournal.ts), with the
// local entries it lacks; --push appends those to it first.
//
// Exit codes: 0 written; 1 the journal cannot be read; 2 bad arguments.
import * as fs from "fs";
import * as path from "path";
import { journalPath, readJournal } from "../components/core/journal";
import { WarmrunError } from "../components/core/errors";
import { computeStats, renderStats, STATS_FORMATS, StatsFormat, windowLine } from "../components/report/stats";
import { appendShared, Entry, journalTag, mergeEntries, readShared } from "../components/report/sharedJournal";
import { defaultInsecure, RegistryClient } from "../components/oci/registry";
import { parseOptions, PROJECT_ROOT, UsageError } from "./pulumiCli";

export const USAGE =
    "usage: npm run stats -- [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]]\n" +
    "                        [--shared HOST/REPOSITORY [--push] [--stack NAME]]";

function count(name: string, v: string | undefined, usage: string): number | undefined {
    if (v === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} ${v}: give a whole number above 0\n${usage}`);
    return Number(v);
}

/** The registry's journal of the stack and the local entries it lacks; with push, appended to it first. */
async function shared(where: string, stack: string, local: Entry[], push: boolean): Promise<Entry[]> {
    const slash = where.indexOf("/");
    if (slash <= 0 || slash === where.length - 1) throw new UsageError(`--shared ${where}: give HOST/REPOSITORY, e.g. 127.0.0.1:5000/myapp/warmrun-journal`);
    const host = where.slice(0, slash);
    const repository = where.slice(slash + 1);
    const client = new RegistryClient({ host, insecure: defaultInsecure(host), username: process.env.WARMRUN_REGISTRY_USERNAME, password: process.env.WARMRUN_REGISTRY_PASSWORD });
    if (push) {
        const r = await appendShared(client, repository, stack, local);
        process.stderr.write(`stats: ${r.added} entries appended to ${where}:${journalTag(stack)} (${r.total} in all, ${r.attempts} attempt${r.attempts === 1 ? "" : "s"})\n`);
    }
    return mergeEntries((await readShared(client, repository, stack)).entries, local).merged;
}

export async function main(argv: string[], usage = USAGE): Promise<number> {
    const o = parseOptions(argv, ["--runs", "--days", "--format", "--journal", "--output", "--shared", "--stack"], ["--append", "--push", "--help"], usage);
    if (o.flags.has("help")) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    const format = (o.values.format ?? "table") as StatsFormat;
    if (!STATS_FORMATS.includes(format)) throw new UsageError(`--format ${format} is not one of ${STATS_FORMATS.join(", ")}\n${usage}`);
    if (o.flags.has("append") && !o.values.output) throw new UsageError(`--append needs --output FILE\n${usage}`);
    if (o.flags.has("push") && !o.values.shared) throw new UsageError(`--push needs --shared HOST/REPOSITORY\n${usage}`);
    const file = path.resolve(PROJECT_ROOT, o.values.journal ?? journalPath());
    let journal: Entry[];
    try {
        journal = readJournal(file) as unknown as Entry[];
    } catch (e: any) {
        throw new WarmrunError(`the journal ${file} cannot be read (${e.message}): fix or remove the broken line`);
    }
    if (o.values.shared) journal = await shared(o.values.shared, o.values.stack ?? process.env.WARMRUN_STACK ?? "dev", journal, o.flags.has("push"));
    const stats = computeStats(journal as any, { runs: count("runs", o.values.runs, usage), days: count("days", o.values.days, usage) });
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
