// The cache report's pure parts: preview JSON -> rows, rows -> table / Markdown / JSON, Markdown -> rows.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { GONE_REASON, hasMiss, parseMarkdown, PreviewJson, renderJson, renderMarkdown, renderTable, reportRows, ReportRow, summaryLine, totals, formatDuration, describeReasons } from "../../../components/report/cacheReport";
import { cacheStatusMessage, parseCacheStatus } from "../../../components/core/preview";

const TYPE = "pulumi-nodejs:dynamic/warmrun:";
const urnOf = (kind: string, name: string) => `urn:pulumi:ci::warmrun::warmrun:index:${kind}$${TYPE}${kind}::${name}`;
const key = (c: string) => c.repeat(64);

function state(name: string, kind: string, k: string, inputs: Record<string, string>, outputs: Record<string, unknown> = {}) {
    return { urn: urnOf(kind, name), type: `${TYPE}${kind}`, inputs: { name, kind, key: k, tag: k.slice(0, 24), inputs }, outputs: { name, kind, key: k, inputs, cacheHit: false, ...outputs } };
}

function registryLine(name: string, k: string, holds: boolean) {
    return { urn: `urn:pulumi:ci::warmrun::warmrun:index:X::${name}`, severity: "info", message: cacheStatusMessage(name, `127.0.0.1:5000/warmrun/${name}:${k.slice(0, 24)}`, holds ? `sha256:${"e".repeat(64)}` : undefined) + "\n" };
}

/** A preview of a small chain: rootfs unchanged, deps' Cargo.lock changed, app depends on deps, docs new, old gone. */
function chainPreview(): PreviewJson {
    const depsOld = { "file:Cargo.lock": "1", "file:Cargo.toml": "2", "param:cargoArgs": '["--locked"]', "upstream:base": key("b") };
    const depsNew = { ...depsOld, "file:Cargo.lock": "9" };
    return {
        steps: [
            { op: "same", urn: "urn:pulumi:ci::warmrun::pulumi:pulumi:Stack::warmrun-ci" },
            { op: "same", urn: "urn:pulumi:ci::warmrun::warmrun:index:BaseImage::base" },
            { op: "same", urn: urnOf("BaseImage", "base"), oldState: state("base", "BaseImage", key("b"), { "file:Containerfile": "c" }, { buildSeconds: 46.5, cacheHit: false }), newState: state("base", "BaseImage", key("b"), { "file:Containerfile": "c" }) },
            {
                op: "replace",
                urn: urnOf("CargoDepsImage", "deps"),
                oldState: state("deps", "CargoDepsImage", key("1"), depsOld, { buildSeconds: 0, cacheHit: true }),
                newState: state("deps", "CargoDepsImage", key("2"), depsNew),
                replaceReasons: ["key", "tag", 'inputs["file:Cargo.lock"]'],
            },
            {
                op: "replace",
                urn: urnOf("FileBundle", "app"),
                oldState: state("app", "FileBundle", key("3"), { "file:run.sh": "r", "upstream:deps": key("1"), "param:level": "1" }, { buildSeconds: 0.4 }),
                newState: state("app", "FileBundle", key("4"), { "file:run.sh": "r", "upstream:deps": key("2"), "param:level": "2" }),
                replaceReasons: ["key", "tag", 'inputs["upstream:deps"]'],
            },
            { op: "create", urn: urnOf("FileBundle", "docs"), newState: state("docs", "FileBundle", key("5"), { "file:README.md": "m" }) },
            { op: "delete", urn: urnOf("FileBundle", "old"), oldState: state("old", "FileBundle", key("6"), { "file:x": "x" }, { buildSeconds: 2 }) },
        ],
        diagnostics: [registryLine("base", key("b"), true), registryLine("deps", key("2"), false), registryLine("app", key("4"), false), registryLine("docs", key("5"), true)],
    };
}

const JOURNAL = [
    { artifact: "deps", action: "build", key: key("0"), buildSeconds: 300 },
    { artifact: "deps", action: "build", key: key("1"), buildSeconds: 412.5 },
    { artifact: "deps", action: "adopt", key: key("1") },
];

describe("cache report", () => {
    it("reads the preview log line of each registry look-up back", () => {
        const holds = cacheStatusMessage("deps", "127.0.0.1:5000/warmrun/deps:abc", `sha256:${"f".repeat(64)}`);
        assert.deepEqual(parseCacheStatus(holds + "\n"), { artifact: "deps", ref: "127.0.0.1:5000/warmrun/deps:abc", digest: `sha256:${"f".repeat(64)}` });
        assert.deepEqual(parseCacheStatus(cacheStatusMessage("deps", "r.example.com/x/deps:abc", undefined)), { artifact: "deps", ref: "r.example.com/x/deps:abc", digest: undefined });
        assert.equal(parseCacheStatus("deps: built and pushed something"), undefined);
    });

    it("gives each artifact hit, miss, new or removed, with keys, reasons, adopt/build and the last build time", () => {
        const rows = reportRows(chainPreview(), JOURNAL);
        assert.deepEqual(rows, [
            { artifact: "base", kind: "BaseImage", status: "hit", action: "keep", oldKey: key("b").slice(0, 24), newKey: key("b").slice(0, 24), reasons: [], lastBuildSeconds: 46.5 },
            // Adopted in this stack (0 s in state): the journal's latest build is the expected cost.
            { artifact: "deps", kind: "CargoDepsImage", status: "miss", action: "build", oldKey: key("1").slice(0, 24), newKey: key("2").slice(0, 24), reasons: ["Cargo.lock changed"], lastBuildSeconds: 412.5 },
            { artifact: "app", kind: "FileBundle", status: "miss", action: "build", oldKey: key("3").slice(0, 24), newKey: key("4").slice(0, 24), reasons: ["upstream deps changed", "param level: 1 -> 2"], lastBuildSeconds: 0.4 },
            { artifact: "docs", kind: "FileBundle", status: "new", action: "adopt", oldKey: null, newKey: key("5").slice(0, 24), reasons: [], lastBuildSeconds: null },
            { artifact: "old", kind: "FileBundle", status: "removed", action: "delete", oldKey: key("6").slice(0, 24), newKey: null, reasons: ["no longer in the config; registry content stays"], lastBuildSeconds: 2 },
        ]);
    });

    it("a miss whose new key the registry already holds is adopted, not built", () => {
        const p = chainPreview();
        p.diagnostics = p.diagnostics!.map((d) => (d.message.startsWith("deps:") ? registryLine("deps", key("2"), true) : d));
        const deps = reportRows(p, JOURNAL).find((r) => r.artifact === "deps")!;
        assert.equal(deps.status, "miss");
        assert.equal(deps.action, "adopt");
    });

    it("an unchanged artifact whose tag the registry lost is a miss to build, saying how", () => {
        const p = chainPreview();
        p.diagnostics = p.diagnostics!.map((d) => (d.message.startsWith("base:") ? registryLine("base", key("b"), false) : d));
        const base = reportRows(p, JOURNAL).find((r) => r.artifact === "base")!;
        assert.deepEqual([base.status, base.action, base.reasons, base.lastBuildSeconds], ["miss", "build", [GONE_REASON], 46.5]);
    });

    it("the replace a plain up plans for a vanished tag is a miss to build, with that reason", () => {
        const p = chainPreview();
        const base = p.steps!.find((s) => s.urn === urnOf("BaseImage", "base"))!;
        Object.assign(base, { op: "replace", replaceReasons: ["tagInRegistry"] });
        p.diagnostics = p.diagnostics!.map((d) => (d.message.startsWith("base:") ? registryLine("base", key("b"), false) : d));
        const row = reportRows(p, JOURNAL).find((r) => r.artifact === "base")!;
        assert.deepEqual([row.status, row.action, row.oldKey, row.newKey, row.reasons], ["miss", "build", key("b").slice(0, 24), key("b").slice(0, 24), ["tag gone from the registry"]]);
    });

    it("without a registry answer for an artifact, its action is unknown (counted as a build)", () => {
        const p = chainPreview();
        p.diagnostics = [];
        const rows = reportRows(p);
        assert.equal(rows.find((r) => r.artifact === "deps")!.action, "unknown");
        assert.equal(rows.find((r) => r.artifact === "deps")!.lastBuildSeconds, null, "no journal, adopted in state: no recorded time");
        assert.equal(totals(rows).buildsWithoutRecord, 2);
    });

    it("totals and the summary line: misses and the expected build time", () => {
        const rows = reportRows(chainPreview(), JOURNAL);
        const t = totals(rows);
        assert.deepEqual(t, { artifacts: 5, hits: 1, misses: 2, new: 1, removed: 1, builds: 2, adopts: 1, expectedBuildSeconds: 412.9, buildsWithoutRecord: 0 });
        assert.equal(summaryLine(rows), "2 misses, 1 new, 2 to build, about 7 min of builds; 1 adopted from the registry, no build; 1 removed");
        assert.equal(hasMiss(rows), true);
        const hitsOnly = rows.filter((r) => r.status === "hit");
        assert.equal(summaryLine(hitsOnly), "0 misses");
        assert.equal(hasMiss(hitsOnly), false);
        assert.deepEqual([formatDuration(0.44), formatDuration(42), formatDuration(27 * 60 + 5), formatDuration(9000)], ["0.4 s", "42 s", "27 min", "2.5 h"]);
    });

    it("names file, parameter and upstream changes", () => {
        assert.deepEqual(
            describeReasons({ "file:a": "1", "file:gone": "1", "param:p": '"x"', "upstream:u": "k1", "param:big": '"' + "y".repeat(80) + '"' }, { "file:a": "2", "file:new": "1", "param:p": '"z"', "upstream:u": "k2", "param:big": '"' + "w".repeat(80) + '"' }),
            ["upstream u changed", "a changed", "new added", "gone removed", "param big changed", 'param p: "x" -> "z"'],
        );
    });

    it("names a deps image's changed units, toolchain and rustflags, not its files", () => {
        const olds = { "unit:tokio": "1.40.0 [rt] 0123456789abcdef", "unit:serde": "1.0.200 [std] 0123456789abcdef", "rustflags:x86_64-unknown-linux-gnu": "[]", "file:@containerfile": "d", "upstream:base": key("b") };
        const news = { ...olds, "unit:tokio": "1.41.0 [rt] fedcba9876543210", "unit:serde": "1.0.200 [derive,std] 0123456789abcdef", "unit:regex": "1.11.1 [default,std] 0123456789abcdef", "rustflags:x86_64-unknown-linux-gnu": '["-Ctarget-cpu=native"]' };
        const preview: PreviewJson = {
            steps: [
                {
                    op: "replace",
                    urn: urnOf("CargoDepsImage", "deps"),
                    oldState: state("deps", "CargoDepsImage", key("1"), olds),
                    newState: state("deps", "CargoDepsImage", key("2"), news),
                    replaceReasons: ["key", "tag"],
                },
            ],
            diagnostics: [registryLine("deps", key("2"), false)],
        };
        assert.deepEqual(reportRows(preview)[0].reasons, ["regex added", "serde +derive", "tokio 1.40.0 -> 1.41.0", "rustflags for x86_64-unknown-linux-gnu"]);
    });

    it("Markdown parses back to the same rows, even with pipes, backslashes and HTML in names", () => {
        const rows = reportRows(chainPreview(), JOURNAL);
        const odd: ReportRow = { artifact: "odd", kind: "FileBundle", status: "miss", action: "build", oldKey: "a".repeat(24), newKey: "b".repeat(24), reasons: ["a|b.txt changed", "back\\slash\\|x added", "<br> & &amp;lt; removed", "param p: {\"a\":1} -> {\"a\":2}"], lastBuildSeconds: 0.1 };
        const all = [...rows, odd];
        const md = renderMarkdown(all, { stack: "ci" });
        assert.deepEqual(parseMarkdown(md), all);
        assert.match(md, /^### warmrun cache report \(stack `ci`\)/);
        assert.match(md, /\*\*3 misses, 1 new, 3 to build, about 7 min of builds; 1 adopted from the registry, no build; 1 removed\*\*/);
        assert.deepEqual(parseMarkdown(`some comment above\n\n${renderMarkdown([])}`), []);
        assert.throws(() => parseMarkdown("| a | b |\n| - | - |\n"), /no warmrun cache report table/);
    });

    it("JSON carries rows, totals and the summary; the table fits a terminal line per artifact", () => {
        const rows = reportRows(chainPreview(), JOURNAL);
        const json = JSON.parse(renderJson(rows, { stack: "ci" }));
        assert.deepEqual(json.rows, rows);
        assert.equal(json.stack, "ci");
        assert.equal(json.totals.misses, 2);
        const table = renderTable(rows, { stack: "ci" });
        const lines = table.split("\n");
        assert.match(lines[2], /^ARTIFACT\s+KIND\s+STATUS\s+ACTION\s+OLD KEY\s+NEW KEY\s+WHY\s+LAST BUILD$/);
        assert.match(table, /\ndeps\s+CargoDepsImage\s+miss\s+build\s+111111111111\s+222222222222\s+Cargo\.lock changed\s+7 min\n/);
        assert.match(table, /\napp\s+FileBundle\s+miss\s+build\s+.*upstream deps changed; param level: 1 -> 2\s+0\.4 s\n/);
        assert.match(lines[lines.length - 2], /^2 misses, 1 new/);
    });

    it("reads a real preview (--show-sames) of a replaced artifact, its dependent and an unchanged one (captured from the engine)", () => {
        const preview = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "preview-replace.json"), "utf8"));
        const rows = reportRows(preview);
        assert.deepEqual(
            rows.map((r) => [r.artifact, r.status, r.action, r.reasons, r.lastBuildSeconds]),
            [
                ["base", "miss", "build", ["a.txt changed", "new.txt added"], 0.1],
                ["docs", "hit", "keep", [], 0.1],
                // Built in under 50 ms: the state records 0 s, and no journal says otherwise.
                ["app", "miss", "build", ["upstream base changed"], 0],
            ],
        );
        assert.equal(rows[0].oldKey, rows[0].oldKey!.slice(0, 24));
        assert.notEqual(rows[0].oldKey, rows[0].newKey);
        assert.equal(rows[1].oldKey, rows[1].newKey);
    });

    it("a preview without --show-sames still lists unchanged artifacts as hits, from their registry look-up", () => {
        const preview = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "preview-replace.json"), "utf8"));
        preview.steps = preview.steps.filter((s: any) => s.op !== "same");
        const rows = reportRows(preview, [{ artifact: "docs", action: "build", buildSeconds: 1.5 }]);
        assert.deepEqual(rows.map((r) => [r.artifact, r.kind, r.status, r.lastBuildSeconds]), [["base", "FileBundle", "miss", 0.1], ["app", "FileBundle", "miss", 0], ["docs", "FileBundle", "hit", 1.5]]);
        assert.match(rows[2].newKey!, /^[0-9a-f]{24}$/);
    });

    it("a build that would warm-start says from which key: build (warm from <short key>), in every format", () => {
        const preview = chainPreview();
        const deps = preview.steps!.find((st) => st.urn === urnOf("CargoDepsImage", "deps"))!;
        // A deps image with warmrun's own Dockerfile and warm starts on (the default).
        (deps.newState!.inputs as any).build = { cook: { warmStart: true, maxDepth: 5 } };
        const rows = reportRows(preview, JOURNAL);
        const row = rows.find((r) => r.artifact === "deps")!;
        assert.deepEqual([row.action, row.warmFrom], ["build", key("1").slice(0, 24)]);
        assert.equal(rows.find((r) => r.artifact === "app")!.warmFrom, undefined, "a bundle never warm-starts");
        assert.match(renderTable(rows), new RegExp(`\\ndeps\\s+CargoDepsImage\\s+miss\\s+build \\(warm from ${key("1").slice(0, 24)}\\)\\s+111111111111`));
        const md = renderMarkdown(rows);
        assert.match(md, /\| miss \| build \(warm from 1{24}\) \|/);
        assert.deepEqual(parseMarkdown(md), rows);
        assert.equal(JSON.parse(renderJson(rows)).rows.find((r: ReportRow) => r.artifact === "deps").warmFrom, key("1").slice(0, 24));
        assert.equal(totals(rows).builds, 2, "still a build in the totals");
        (deps.newState!.inputs as any).build = { cook: { warmStart: false, maxDepth: 5 } };
        assert.equal(reportRows(preview, JOURNAL).find((r) => r.artifact === "deps")!.warmFrom, undefined, "warmStart: false");
    });
});

describe("cache report reasons for external images", () => {
    it("a moved image is named with both digests, before file and parameter reasons", () => {
        const [d1, d2] = [`sha256:${"1a2b".repeat(16)}`, `sha256:${"3c4d".repeat(16)}`];
        const olds = { "image:FROM debian:trixie": d1, "file:app.txt": "1", "param:target": "a" };
        const news = { "image:FROM debian:trixie": d2, "file:app.txt": "2", "param:target": "b", "image:COPY --from busybox:1": d1 };
        assert.deepEqual(describeReasons(olds, news), [`FROM debian:trixie moved: ${d1} -> ${d2}`, `COPY --from busybox:1 added (${d1})`, "app.txt changed", "param target: a -> b"]);
    });
});
