// Throughput of download counting: the corpus, padded with build noise, streamed in 64 KiB chunks.
//   npm run bench:downloads [-- MiB]
import * as fs from "fs";
import * as path from "path";
import { DownloadCounter } from "../components/downloads/counter";
import { findPackageRoot } from "../components/core/packageRoot";

const corpus = path.join(findPackageRoot(__dirname), "test", "fixtures", "downloads");
const logs = fs.readdirSync(corpus).filter((f) => f.endsWith(".txt")).map((f) => fs.readFileSync(path.join(corpus, f)));
const noise = Buffer.from("   Compiling serde v1.0.200\nwarning: unused variable `x`\n  --> src/lib.rs:10:9\n".repeat(2000));
const block = Buffer.concat([...logs, noise]);
const target = (Number(process.argv[2]) || 100) * 2 ** 20;

const counter = new DownloadCounter();
const started = process.hrtime.bigint();
let fed = 0;
while (fed < target) {
    for (let i = 0; i < block.length && fed < target; i += 65536) {
        const chunk = block.subarray(i, i + 65536);
        counter.write(chunk);
        fed += chunk.length;
    }
}
const result = counter.end();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`${(fed / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(2)} s: ${(fed / 2 ** 20 / seconds).toFixed(1)} MiB/s, ${result.count} items, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
