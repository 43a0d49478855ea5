// npm run bench [-- --only hashing,noop --runs 5 --markdown FILE]: every figure next to its
// baseline, measured in the same run, medians of several runs.
import * as fs from "fs";
import * as os from "os";
import { benchCacheDir, BenchOptions, Figure, formatFigures } from "./lib";
import { hashingBench } from "./hashing";
import { noopBench } from "./noop";
import { cargoBench } from "./cargoKey";
import { compressionBench } from "./compression";
import { restoreBench } from "./restore";
import { parserBench } from "./parser";
import { missCostBench } from "./missCost";
import { baseStepBench } from "./baseStep";
import { perArtifactBench } from "./perArtifact";

const SECTIONS: Record<string, (opts: BenchOptions) => Promise<Figure[]>> = {
    hashing: hashingBench,
    noop: noopBench,
    perArtifact: perArtifactBench,
    restore: restoreBench,
    compression: compressionBench,
    parser: parserBench,
    cargo: cargoBench,
    // About 4 minutes a run (two builds of a two-step Containerfile): run it with --only baseStep.
    baseStep: baseStepBench,
    // About an hour on 2 cores (seven builds of a 154-crate workspace): run it with --only missCost.
    missCost: missCostBench,
};
/** Sections a plain `npm run bench` runs. */
const DEFAULT_SECTIONS = Object.keys(SECTIONS).filter((s) => s !== "missCost" && s !== "baseStep");

function parseArgs(argv: string[]): { only: string[]; runs: number; markdown?: string } {
    const out = { only: DEFAULT_SECTIONS, runs: 3, markdown: undefined as string | undefined };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--only") out.only = argv[++i].split(",");
        else if (a === "--runs") out.runs = Number(argv[++i]);
        else if (a === "--markdown") out.markdown = argv[++i];
        else throw new Error(`unknown argument ${a}: use --only ${Object.keys(SECTIONS).join(",")} --runs N --markdown FILE`);
    }
    for (const s of out.only) if (!SECTIONS[s]) throw new Error(`unknown section ${s}: use ${Object.keys(SECTIONS).join(", ")}`);
    if (!(out.runs >= 1)) throw new Error("--runs takes a number of runs, at least 1");
    return out;
}

function machine(): string {
    const cpus = os.cpus();
    return `${cpus.length} x ${cpus[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, node ${process.version}`;
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const opts: BenchOptions = { runs: args.runs, cacheDir: benchCacheDir(), log: (l) => console.error(`bench: ${l}`) };
    const figures: Figure[] = [];
    const failures: string[] = [];
    for (const name of args.only) {
        const start = Date.now();
        try {
            figures.push(...(await SECTIONS[name](opts)));
        } catch (e: any) {
            failures.push(`${name}: ${e.message}`);
        }
        opts.log(`${name}: ${((Date.now() - start) / 1000).toFixed(0)} s`);
    }
    const when = new Date().toISOString().slice(0, 16).replace("T", " ");
    const text = [`warmrun benchmarks, ${when} UTC, medians of ${args.runs} runs`, `machine: ${machine()}`, "", formatFigures(figures), ...failures.map((f) => `\nFAILED ${f}`)].join("\n");
    console.log(text);
    if (args.markdown) fs.writeFileSync(args.markdown, `${text}\n`);
    return failures.length ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (e) => {
        console.error(`bench: ${e.message}`);
        process.exit(2);
    },
);
