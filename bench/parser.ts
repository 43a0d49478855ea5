// Analytics parser: a 200 MB build log (the download corpus between build noise) streamed through
// the download counter, against `grep -c` of one pattern over the same file.
import * as fs from "fs";
import * as path from "path";
import { DownloadCounter } from "../components/downloads/counter";
import { PROJECT_ROOT } from "../test/support/engine";
import { BenchOptions, Figure, figure, medianTime, run, secs, throughput } from "./lib";

const LOG_BYTES = 200 * 1000 * 1000;
const LOG_VERSION = "1";

function ensureLog(dir: string, log: (l: string) => void): string {
    const file = path.join(dir, `build-log-${LOG_VERSION}.txt`);
    if (fs.existsSync(file) && fs.statSync(file).size >= LOG_BYTES) return file;
    log("parser: writing the 200 MB build log (once; kept in the bench cache)");
    const corpus = path.join(PROJECT_ROOT, "test", "fixtures", "downloads");
    const logs = fs.readdirSync(corpus).filter((f) => f.endsWith(".txt")).sort().map((f) => fs.readFileSync(path.join(corpus, f)));
    const noise = Buffer.from("   Compiling serde v1.0.200\nwarning: unused variable `x`\n  --> src/lib.rs:10:9\n".repeat(2000));
    const block = Buffer.concat([...logs, noise]);
    const fd = fs.openSync(`${file}.tmp`, "w");
    let written = 0;
    while (written < LOG_BYTES) written += fs.writeSync(fd, block);
    fs.closeSync(fd);
    fs.renameSync(`${file}.tmp`, file);
    return file;
}

function countFile(file: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const counter = new DownloadCounter();
        fs.createReadStream(file, { highWaterMark: 1 << 16 })
            .on("data", (chunk) => counter.write(chunk as Buffer))
            .on("error", reject)
            .on("end", () => resolve(counter.end().count));
    });
}

export async function parserBench(opts: BenchOptions): Promise<Figure[]> {
    const file = ensureLog(opts.cacheDir, opts.log);
    const bytes = fs.statSync(file).size;
    await run("bash", ["-c", `cat "${file}" > /dev/null`]); // page cache, for both sides
    const ours = await medianTime(opts.runs, () => countFile(file));
    const grep = await medianTime(opts.runs, () => run("grep", ["-c", "Downloaded", file], { allowFailure: true }));
    return [
        figure({
            section: "parser",
            name: `download counting of a ${(bytes / 1e6).toFixed(0)} MB build log, ${ours.value} items`,
            warmrun: `${secs(ours.seconds)} (${throughput(bytes, ours.seconds)}), every tool's rules`,
            baseline: `grep -c one pattern ${secs(grep.seconds)} (${throughput(bytes, grep.seconds)})`,
            ratio: grep.seconds / ours.seconds,
            note: "throughput ratio",
        }),
    ];
}
