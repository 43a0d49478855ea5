#!/usr/bin/env node
// The `warmrun` command (bin: loader/warmrun.js runs this file): up, preview, report, outputs,
// downloads, qcow2, registry and pulumi, run from the user's repository (cli/commands.ts).
import { WarmrunError } from "../components/core/errors";
import { UsageError as ScriptUsageError } from "../scripts/pulumiCli";
import { run, UsageError } from "./commands";

/** The scripts' usage lines name their npm scripts; here they are subcommands. */
function asSubcommands(message: string): string {
    return message.replace(/npm run cache-report --/g, "warmrun report").replace(/npm run ci-outputs --/g, "warmrun outputs").replace(/npm run qcow2 --/g, "warmrun qcow2");
}

export async function main(argv: string[]): Promise<number> {
    try {
        return await run(argv);
    } catch (e: any) {
        const usage = e instanceof UsageError || e instanceof ScriptUsageError;
        // A user-facing error is its message alone; anything else is a bug and keeps its stack.
        const text = usage || e instanceof WarmrunError ? e.message : e?.stack ?? String(e);
        process.stderr.write(`warmrun: ${asSubcommands(text)}\n`);
        return usage ? 2 : 1;
    }
}

if (require.main === module) main(process.argv.slice(2)).then((code) => (process.exitCode = code));
