// What `pulumi up` would rebuild, why, and what it would cost: runs `pulumi preview --json` on a
// stack and prints one row per artifact (components/report/cacheReport.ts).
//
//   npm run cache-report -- [--stack NAME] [--format table|markdown|json] [--output FILE [--append]]
//                           [--fail-on-miss] [--config-file FILE] [--preview-json FILE] [--journal FILE]
//
// Exit codes: 0 report written; 1 the preview failed; 2 bad arguments; 3 (--fail-on-miss) some
// artifact misses or is new.
import * as fs from "fs";
import * as path from "path";
import { EXIT_ON_MISS, FORMATS, Format, hasMiss, PreviewJson, render, reportRows, summaryLine } from "../components/report/cacheReport";
import { journalPath, readJournal } from "../components/core/journal";
import { parseOptions, pulumi, PROJECT_ROOT, UsageError } from "./pulumiCli";

const USAGE =
    "usage: npm run cache-report -- [--stack NAME] [--format table|markdown|json] [--output FILE [--append]] [--fail-on-miss]\n" +
    "                               [--config-file FILE] [--preview-json FILE] [--journal FILE]";

/** Runs the preview, or reads one saved with `pulumi preview --json --show-sames > FILE`. */
async function previewOf(stack: string, previewFile: string | undefined, configFile: string | undefined): Promise<PreviewJson> {
    if (previewFile) return JSON.parse(fs.readFileSync(previewFile, "utf8"));
    // --show-sames: unchanged artifacts too, with their recorded build times.
    const args = ["preview", "--json", "--show-sames", "--non-interactive", "--stack", stack, ...(configFile ? ["--config-file", path.resolve(configFile)] : [])];
    // Every registry answer is logged, hits too (components/preview.ts), for the report to read back.
    const run = await pulumi(args, { WARMRUN_REPORT_LOOKUPS: "1" });
    let parsed: PreviewJson | undefined;
    try {
        parsed = JSON.parse(run.stdout);
    } catch {
        parsed = undefined;
    }
    if (run.code !== 0 || !parsed) {
        const errors = (parsed?.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => d.message.trim());
        throw new PreviewFailed(`pulumi preview of stack ${stack} failed (exit ${run.code}):\n${errors.length ? errors.join("\n") : (run.stderr || run.stdout).trim()}`);
    }
    return parsed;
}

class PreviewFailed extends Error {}

export async function main(argv: string[]): Promise<number> {
    const o = parseOptions(argv, ["--stack", "--format", "--output", "--config-file", "--preview-json", "--journal"], ["--fail-on-miss", "--append", "--help"], USAGE);
    if (o.flags.has("help")) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const format = (o.values.format ?? "table") as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format ${format} is not one of ${FORMATS.join(", ")}\n${USAGE}`);
    if (o.flags.has("append") && !o.values.output) throw new UsageError(`--append needs --output FILE\n${USAGE}`);
    const stack = o.values.stack ?? process.env.WARMRUN_STACK ?? "dev";
    const preview = await previewOf(stack, o.values["preview-json"], o.values["config-file"]);
    const journal = readJournal(path.resolve(PROJECT_ROOT, o.values.journal ?? journalPath()));
    const rows = reportRows(preview, journal);
    const text = render(format, rows, { stack });
    if (o.values.output) {
        (o.flags.has("append") ? fs.appendFileSync : fs.writeFileSync)(o.values.output, text);
        process.stdout.write(`${summaryLine(rows)}\n`);
    } else process.stdout.write(text);
    return o.flags.has("fail-on-miss") && hasMiss(rows) ? EXIT_ON_MISS : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`cache-report: ${e.message}\n`);
            process.exitCode = e instanceof UsageError ? 2 : 1;
        },
    );
}
