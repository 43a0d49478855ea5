import { strict as assert } from "assert";
import { countDownloads } from "../../../components/downloads/counter";
import { exceededThresholds, formatBytes, reportJson, reportMarkdown } from "../../../components/downloads/report";
import { downloadsThisRun } from "../../../components/core/artifact";
import { parseArgs, exitStatusOf, THRESHOLD_EXCEEDED } from "../../../scripts/warmrun-downloads";

const LOG = [
    "Get:1 http://mirror.example/debian trixie/main amd64 libc6 amd64 2.41-12 [2,851 kB]",
    "Get:2 http://mirror.example/debian trixie/main amd64 hello amd64 2.10-5 [53.1 kB]",
    "  Downloaded itoa v1.0.11",
    "  Downloaded 1 crate (10.1 KiB) in 0.2s",
].join("\n");

describe("download report", () => {
    it("Markdown: totals, the warm-run minimum and the distance to it, tools, top items, suggestions", () => {
        const c = countDownloads(LOG);
        const md = reportMarkdown(c, { label: "deps", command: ["make", "deps"], exitCode: 0, seconds: 1.25, maxCount: 0 });
        assert.match(md, /^# Downloads: deps$/m);
        assert.match(md, /`make deps` exited with 0 after 1\.3 s\./);
        assert.match(md, /\| this run \| 3 \| 2\.8 MiB \|/);
        assert.match(md, /\| warm-run minimum \| 0 \| 0 B \|/);
        assert.match(md, /This run is 3 downloads \(2\.8 MiB\) away from the warm-run minimum\./);
        assert.match(md, /\*\*Threshold exceeded\*\* \(at most 0 items\): 3 downloads exceed --max-count 0\./);
        assert.match(md, /\| apt \| 2 \| 2\.8 MiB \|  \|/);
        assert.match(md, /\| cargo \| 1 \| 10\.1 KiB \| 1 item, 10\.1 KiB \|/);
        assert.ok(md.indexOf("| libc6@2.41-12 | apt |") < md.indexOf("| hello@2.10-5 | apt |"), "top items by size, largest first");
        assert.match(md, /1 item printed without a size: itoa@1\.0\.11 \(cargo\)\./);
        assert.match(md, /- \*\*cargo\*\*: build in a CargoDepsImage/);
    });

    it("JSON: the same figures, thresholds and items", () => {
        const j = reportJson(countDownloads(LOG), { label: "deps", maxBytes: 1_000_000 });
        assert.equal(j.count, 3);
        assert.equal(j.bytes, 2_851_000 + 53_100 + Math.round(10.1 * 1024));
        assert.deepEqual(j.warmRunMinimum, { count: 0, bytes: 0 });
        assert.deepEqual(j.overMinimum, { count: 3, bytes: j.bytes });
        assert.deepEqual(j.thresholds.exceeded, [`${j.bytes} bytes downloaded exceed --max-bytes 1000000`]);
        assert.equal(j.byTool.apt.reported, undefined);
        assert.deepEqual(j.byTool.cargo.reported, { count: 1, bytes: Math.round(10.1 * 1024) });
        assert.equal(j.items.length, 3);
    });

    it("a run that downloaded nothing is at the minimum and within any threshold", () => {
        const c = countDownloads("Hit:1 http://mirror.example/debian trixie InRelease\nReading package lists...\n");
        assert.deepEqual(exceededThresholds(c, { maxCount: 0, maxBytes: 0 }), []);
        assert.match(reportMarkdown(c, { label: "warm" }), /This run downloaded nothing: it is at the warm-run minimum\./);
        assert.equal(formatBytes(0), "0 B");
        assert.equal(formatBytes(1536), "1.5 KiB");
    });

    it("stack outputs: downloads count for the run that built the artifact only", () => {
        const d = { count: 4, bytes: 100 };
        assert.deepEqual(downloadsThisRun("run-1", d, "run-1"), d);
        assert.deepEqual(downloadsThisRun("run-0", d, "run-1"), { count: 0, bytes: 0 });
        assert.deepEqual(downloadsThisRun(undefined, undefined, "run-1"), { count: 0, bytes: 0 });
    });
});

describe("warmrun-downloads arguments and exit status", () => {
    it("parses options before -- and the command after it", () => {
        assert.deepEqual(parseArgs(["--report", "r.md", "--json=r.json", "--label", "x", "--max-count", "0", "--max-bytes", "20MB", "--", "make", "--max-count", "9"]), {
            report: "r.md",
            json: "r.json",
            label: "x",
            maxCount: 0,
            maxBytes: 20_000_000,
            command: ["make", "--max-count", "9"],
        });
        assert.equal(parseArgs(["--max-bytes", "1.5GiB", "--", "true"]).maxBytes, 1.5 * 2 ** 30);
        assert.throws(() => parseArgs(["--max-count", "-1", "--", "true"]), /--max-count needs a whole number/);
        assert.throws(() => parseArgs(["--report"]), /needs a value|no command/);
        assert.throws(() => parseArgs(["--", ]), /no command given: put it after --/);
        assert.throws(() => parseArgs(["--frobnicate", "--", "true"]), /unknown option --frobnicate/);
    });

    it("the command's failure wins; then the threshold; else 0", () => {
        assert.equal(exitStatusOf(0, null, false), 0);
        assert.equal(exitStatusOf(0, null, true), THRESHOLD_EXCEEDED);
        assert.equal(exitStatusOf(9, null, true), 9);
        assert.equal(exitStatusOf(null, "SIGTERM", false), 143);
    });
});
