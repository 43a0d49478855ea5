// The cache's history from a journal of known builds and adoptions: every figure, the windows,
// the three formats, and the Mermaid charts parsed by Mermaid's own parser, whose numbers must
// equal the day table's.
import { strict as assert } from "assert";
import { computeStats, groupRuns, renderStatsJson, renderStatsMarkdown, renderStatsTable, StatsEntry } from "../../../components/report/stats";
import { parseXychart } from "../../support/mermaid";

const e = (time: string, run: string | undefined, artifact: string, action: string, buildSeconds?: number, bytes = 0): StatsEntry => ({
    time: `2026-11-${time}Z`,
    ...(run ? { run } : {}),
    artifact,
    kind: { a: "FileBundle", b: "BaseImage", c: "Qcow2Image" }[artifact]!,
    action,
    ...(buildSeconds !== undefined ? { buildSeconds } : {}),
    downloads: { count: bytes ? 1 : 0, bytes },
});

// r1..r4 carry run ids; the c entries are from before runs had ids (grouped by their gaps).
const JOURNAL: StatsEntry[] = [
    e("01T08:00:00", "r1", "a", "build", 60, 1000),
    e("01T08:01:00", "r1", "b", "build", 120, 5000),
    e("01T09:00:00", "r2", "a", "adopt"),
    e("01T09:02:00", "r2", "b", "build", 90, 4000),
    e("02T08:00:00", "r3", "a", "adopt"),
    e("02T08:00:01", "r3", "b", "adopt", undefined, 500),
    e("02T08:00:02", "r3", "a", "gone"),
    e("02T10:00:00", undefined, "c", "adopt"),
    e("02T10:05:00", undefined, "c", "build", 30, 200),
    e("02T12:00:00", undefined, "c", "adopt"),
    e("03T09:00:00", "r4", "a", "build", 45, 800),
];

describe("cache stats", () => {
    const s = computeStats(JOURNAL);

    it("groups runs by id, and id-less entries by gaps of more than ten minutes", () => {
        assert.deepEqual(
            groupRuns(JOURNAL).map((r) => r.map((x) => `${x.artifact}:${x.action}`)),
            [["a:build", "b:build"], ["a:adopt", "b:build"], ["a:adopt", "b:adopt", "a:gone"], ["c:adopt", "c:build"], ["c:adopt"], ["a:build"]],
        );
    });

    it("per artifact: runs, builds and their time, adoptions, hit rate, time saved and bytes not downloaded", () => {
        const by = Object.fromEntries(s.artifacts.map((a) => [a.artifact, a]));
        // a: built 60 s (1000 B), adopted twice (each priced at that build), rebuilt 45 s.
        assert.deepEqual(by.a, { artifact: "a", kind: "FileBundle", runs: 4, builds: 2, buildSeconds: 105, adoptions: 2, hitRate: 0.5, timeSavedSeconds: 120, unpricedAdoptions: 0, bytesNotDownloaded: 2000, bytesDownloaded: 1800 });
        // b: built 120 s then 90 s (4000 B); the adoption downloaded 500 B of it.
        assert.deepEqual(by.b, { artifact: "b", kind: "BaseImage", runs: 3, builds: 2, buildSeconds: 210, adoptions: 1, hitRate: 1 / 3, timeSavedSeconds: 90, unpricedAdoptions: 0, bytesNotDownloaded: 3500, bytesDownloaded: 9500 });
        // c: adopted before any build of it (unpriced), built 30 s, adopted again.
        assert.deepEqual(by.c, { artifact: "c", kind: "Qcow2Image", runs: 2, builds: 1, buildSeconds: 30, adoptions: 2, hitRate: 2 / 3, timeSavedSeconds: 30, unpricedAdoptions: 1, bytesNotDownloaded: 200, bytesDownloaded: 200 });
        assert.deepEqual(s.total, { runs: 6, builds: 5, buildSeconds: 345, adoptions: 5, hitRate: 0.5, timeSavedSeconds: 240, unpricedAdoptions: 1, bytesNotDownloaded: 5700, bytesDownloaded: 11500 });
    });

    it("per day: builds, adoptions, hit rate and build time", () => {
        assert.deepEqual(s.days, [
            { day: "2026-11-01", builds: 3, adoptions: 1, hitRate: 0.25, buildSeconds: 270 },
            { day: "2026-11-02", builds: 1, adoptions: 4, hitRate: 0.8, buildSeconds: 30 },
            { day: "2026-11-03", builds: 1, adoptions: 0, hitRate: 0, buildSeconds: 45 },
        ]);
        assert.deepEqual(s.window, { runs: 6, from: "2026-11-01T08:00:00Z", to: "2026-11-03T09:00:00Z" });
    });

    it("over the last N runs or days; adoptions keep the price of builds before the window", () => {
        const runs = computeStats(JOURNAL, { runs: 2 });
        assert.deepEqual(runs.artifacts.map((a) => [a.artifact, a.builds, a.adoptions, a.timeSavedSeconds, a.bytesNotDownloaded]), [["a", 1, 0, 0, 0], ["c", 0, 1, 30, 200]]);
        assert.deepEqual([runs.total.runs, runs.total.hitRate, runs.window.lastRuns], [2, 0.5, 2]);
        const days = computeStats(JOURNAL, { days: 2, now: new Date("2026-11-03T12:00:00Z") });
        assert.deepEqual([days.total.runs, days.total.builds, days.total.buildSeconds, days.total.adoptions, days.total.hitRate, days.total.timeSavedSeconds], [4, 2, 75, 4, 4 / 6, 180]);
        assert.deepEqual(days.days.map((d) => d.day), ["2026-11-02", "2026-11-03"]);
        assert.throws(() => computeStats(JOURNAL, { runs: 0 }), /--runs 0: give a whole number above 0/);
        assert.deepEqual(computeStats([]).total.hitRate, null);
    });

    it("the table and JSON show the same figures", () => {
        const table = renderStatsTable(s);
        assert.match(table, /^warmrun cache stats: 6 runs \(the whole journal, 2026-11-01 to 2026-11-03\)/);
        const total = table.split("\n").find((l) => l.startsWith("total"))!.split(/\s{2,}/);
        assert.deepEqual(total, ["total", "6", "5", "5 min 45 s", "5", "50%", "4 min 0 s (+1 unpriced)", "5.6 KiB"]);
        const b = table.split("\n").find((l) => l.startsWith("b "))!.split(/\s{2,}/);
        assert.deepEqual(b, ["b", "BaseImage", "3", "2", "3 min 30 s", "1", "33.3%", "1 min 30 s", "3.4 KiB"]);
        assert.deepEqual(JSON.parse(renderStatsJson(s)), JSON.parse(JSON.stringify(s)));
    });

    it("Markdown: Mermaid parses both charts, and their numbers are the day table's", async function () {
        this.timeout(30000); // loading mermaid and jsdom
        const md = renderStatsMarkdown(s);
        const charts = [...md.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
        assert.equal(charts.length, 2);
        const dayRows = md
            .split("\n")
            .filter((l) => /^\| 2026-/.test(l))
            .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
        assert.deepEqual(dayRows, [
            ["2026-11-01", "3", "1", "25%", "4.5"],
            ["2026-11-02", "1", "4", "80%", "0.5"],
            ["2026-11-03", "1", "0", "0%", "0.75"],
        ]);
        const hit = await parseXychart(charts[0]);
        const minutes = await parseXychart(charts[1]);
        assert.equal(hit.title, "Hit rate per day (%)");
        assert.deepEqual(hit.yAxis, { title: "hit rate (%)", min: 0, max: 100 });
        for (const c of [hit, minutes]) assert.deepEqual(c.categories, dayRows.map((r) => r[0]));
        assert.deepEqual(hit.bars, [dayRows.map((r) => Number(r[3].replace("%", "")))]);
        assert.deepEqual(minutes.bars, [dayRows.map((r) => Number(r[4]))]);
        // The parser is a real one: a chart with a bad value fails.
        await assert.rejects(parseXychart(charts[0].replace("bar [25,", "bar [25%,")));
    });
});
