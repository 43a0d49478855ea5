// Stack outputs -> CI variables (components/report/ciEnv.ts): $GITHUB_OUTPUT, $GITHUB_ENV or a dotenv file.
// Reads `pulumi stack output --json` without --show-secrets, so secrets never reach the file.
//
//   npm run ci-outputs -- [--stack NAME] [--format github-output|github-env|dotenv] [--output FILE]
//                         [--artifacts a,b] [--fields pinned,ref,digest,key,cacheHit] [--outputs-json FILE]
//
// GitHub files are appended to (as the runner expects); a dotenv file is replaced. Without --output:
// github-output writes to $GITHUB_OUTPUT, github-env to $GITHUB_ENV, dotenv to standard output.
import * as fs from "fs";
import { CiField, CI_FIELD_NAMES, ciVariables, renderFor, Target, TARGETS } from "../components/report/ciEnv";
import { parseOptions, pulumi, UsageError } from "./pulumiCli";

const USAGE =
    "usage: npm run ci-outputs -- [--stack NAME] [--format github-output|github-env|dotenv] [--output FILE]\n" +
    "                             [--artifacts a,b] [--fields pinned,ref,digest,key,cacheHit] [--outputs-json FILE]";

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean));

async function stackOutputs(stack: string, file: string | undefined): Promise<any> {
    if (file) return JSON.parse(fs.readFileSync(file, "utf8"));
    const run = await pulumi(["stack", "output", "--json", "--stack", stack, "--non-interactive"]);
    if (run.code !== 0) throw new Error(`pulumi stack output of stack ${stack} failed (exit ${run.code}): ${run.stderr.trim()}`);
    return JSON.parse(run.stdout);
}

export async function main(argv: string[]): Promise<number> {
    const o = parseOptions(argv, ["--stack", "--format", "--output", "--artifacts", "--fields", "--outputs-json"], ["--help"], USAGE);
    if (o.flags.has("help")) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const format = (o.values.format ?? (process.env.GITHUB_OUTPUT ? "github-output" : "dotenv")) as Target;
    if (!TARGETS.includes(format)) throw new UsageError(`--format ${format} is not one of ${TARGETS.join(", ")}\n${USAGE}`);
    const fields = list(o.values.fields) as CiField[] | undefined;
    const badField = fields?.find((f) => !CI_FIELD_NAMES.includes(f));
    if (badField) throw new UsageError(`--fields: ${badField} is not one of ${CI_FIELD_NAMES.join(", ")}\n${USAGE}`);
    const target = o.values.output ?? (format === "github-output" ? process.env.GITHUB_OUTPUT : format === "github-env" ? process.env.GITHUB_ENV : undefined);
    if (format !== "dotenv" && !target) throw new UsageError(`--format ${format} needs --output FILE or $${format === "github-env" ? "GITHUB_ENV" : "GITHUB_OUTPUT"}\n${USAGE}`);

    const stack = o.values.stack ?? process.env.WARMRUN_STACK ?? "dev";
    const { variables, skipped } = ciVariables(await stackOutputs(stack, o.values["outputs-json"]), { artifacts: list(o.values.artifacts), fields });
    const text = renderFor(format, variables);
    if (!target) process.stdout.write(text);
    else {
        (format === "dotenv" ? fs.writeFileSync : fs.appendFileSync)(target, text);
        process.stderr.write(`ci-outputs: ${variables.length} variables of stack ${stack} written to ${target}\n`);
    }
    if (skipped.length) process.stderr.write(`ci-outputs: left out secret outputs ${skipped.join(", ")}\n`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`ci-outputs: ${e.message}\n`);
            process.exitCode = e instanceof UsageError ? 2 : 1;
        },
    );
}
