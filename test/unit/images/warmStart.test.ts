// CargoDepsImage warm starts, the pure parts: the candidate from the provider's diff, the choice of the parent, and
// the prune plans, on cargo's own JSON messages (a real `cargo build --message-format=json` of the
// warm-start fixture workspace, test/fixtures/cargo-messages, its registry source a placeholder).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    chooseParent,
    compatOf,
    cookSpecOf,
    countCompilingLines,
    countUnits,
    parseCargoMessages,
    parsePackageId,
    planRegistryPrune,
    planTargetPrune,
    ParentAnswer,
    TargetEntry,
    warmAnnotations,
    warmStartFieldProblems,
    warmCandidateOf,
    candidateSlot,
    CargoArtifactMessage,
    cargoProgressFilter,
} from "../../../components/images/warmStart";
import { warmLabel } from "../../../components/core/journal";
import { validateConfig } from "../../../components/core/config";
import { ARTIFACT_ANNOTATION, KEY_ANNOTATION, WARM_COMPAT_ANNOTATION, WARM_DEPTH_ANNOTATION, WARM_PARENT_ANNOTATION, WARM_PARENT_KEY_ANNOTATION } from "../../../components/oci/annotations";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

const MESSAGES = parseCargoMessages(fs.readFileSync(path.join(__dirname, "../../fixtures/cargo-messages/warm-workspace-cold.jsonl"), "utf8"));

describe("CargoDepsImage warm start (pure parts)", () => {
    after(removeTempDirs);

    describe("the provider's diff names the replaced image as the candidate", () => {
        const digest = "sha256:" + "d".repeat(64);
        const olds = { name: "deps", key: "a".repeat(64), tag: "a".repeat(24), digest, repository: "w/deps", registry: { host: "h:5000" }, build: { cook: { warmStart: true, maxDepth: 5 } } };
        const news = { name: "deps", key: "b".repeat(64), tag: "b".repeat(24), repository: "w/deps", registry: { host: "h:5000" }, build: { cook: { warmStart: true, maxDepth: 5 }, contextFiles: [] } };
        it("a key change: the state's tag, key and digest", () => {
            assert.deepEqual(warmCandidateOf(olds, news), { tag: olds.tag, key: olds.key, digest });
            assert.deepEqual(warmCandidateOf({ ...olds, digest: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }, news), { tag: olds.tag, key: olds.key }, "no digest unless a real one");
        });
        const none: [string, any, any][] = [
            ["an unchanged key", olds, { ...news, key: olds.key, tag: olds.tag }],
            ["a new artifact (no olds)", {}, news],
            ["warmStart: false", olds, { ...news, build: { cook: { warmStart: false, maxDepth: 5 } } }],
            ["a user Dockerfile (no cook)", olds, { ...news, build: { contextFiles: [] } }],
            ["another repository", olds, { ...news, repository: "w/other" }],
            ["another registry", olds, { ...news, registry: { host: "other:5000" } }],
            ["a build block still unknown at preview", olds, { ...news, build: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }],
        ];
        for (const [what, o, n] of none) it(`${what}: no candidate`, () => assert.equal(warmCandidateOf(o, n), undefined));
        it("the slot names the artifact and its new key", () => {
            assert.equal(candidateSlot(news), candidateSlot({ name: "deps", key: news.key }));
            assert.notEqual(candidateSlot(news), candidateSlot(olds));
        });
    });

    describe("choosing the parent", () => {
        const compat = "c".repeat(64);
        const want = { artifact: "deps", key: "n".repeat(64), compat, maxDepth: 5, baseLayers: ["sha256:b1", "sha256:b2"] };
        const good = (over: Partial<ParentAnswer> = {}, ann: Record<string, string> = {}): ParentAnswer => ({
            source: "state",
            tag: "old",
            digest: "sha256:" + "1".repeat(64),
            annotations: { [ARTIFACT_ANNOTATION]: "deps", [KEY_ANNOTATION]: "o".repeat(64), ...warmAnnotations(compat, 0), ...ann },
            layers: ["sha256:b1", "sha256:b2", "sha256:deps"],
            ...over,
        });
        const choose = (answers: ParentAnswer[], w = want) => chooseParent(answers, w, ARTIFACT_ANNOTATION, KEY_ANNOTATION);

        it("takes the state's previous image when it qualifies", () => {
            const c = choose([good(), good({ source: "latest", tag: "latest", digest: "sha256:" + "2".repeat(64) })]);
            assert.deepEqual(c.parent, { digest: "sha256:" + "1".repeat(64), key: "o".repeat(64), depth: 0, source: "state", tag: "old" });
            assert.deepEqual(c.rejected, []);
        });
        it("falls back to latest when the previous image is gone, and says why", () => {
            const c = choose([good({ digest: undefined }), good({ source: "latest", tag: "latest", digest: "sha256:" + "2".repeat(64) })]);
            assert.equal(c.parent?.source, "latest");
            assert.deepEqual(c.rejected, ["old: gone from the registry"]);
        });
        it("rejects another base, toolchain or cargo arguments, another artifact, a foreign base", () => {
            assert.match(choose([good({}, { [WARM_COMPAT_ANNOTATION]: "x" })]).rejected[0], /another base image, toolchain or cargo arguments/);
            assert.match(choose([good({}, { [ARTIFACT_ANNOTATION]: "other" })]).rejected[0], /another artifact/);
            assert.match(choose([good({ layers: ["sha256:zz", "sha256:deps"] })]).rejected[0], /do not start with the base image's/);
            const legacy = good();
            delete legacy.annotations![WARM_COMPAT_ANNOTATION];
            assert.match(choose([legacy]).rejected[0], /no compat annotation/);
            assert.equal(choose([good({}, { [KEY_ANNOTATION]: want.key })]).parent, undefined, "never its own key");
        });
        it("bounds the chain: depth 4 may grow to 5, depth 5 builds cold", () => {
            assert.equal(choose([good({}, { [WARM_DEPTH_ANNOTATION]: "4" })]).parent?.depth, 4);
            const c = choose([good({}, { [WARM_DEPTH_ANNOTATION]: "5" })]);
            assert.equal(c.parent, undefined);
            assert.match(c.rejected[0], /chain of 5 warm starts reached the bound 5/);
            assert.equal(choose([good({}, { [WARM_DEPTH_ANNOTATION]: "1" })], { ...want, maxDepth: 1 }).parent, undefined);
        });
        it("no candidate at all: no parent and nothing to say but that", () => {
            assert.deepEqual(choose([good({ source: "latest", tag: "latest", digest: undefined })]), { rejected: [] });
        });
    });

    describe("compat: what a parent must share", () => {
        const spec = { buildArgs: { BASE: "h/base@sha256:1", CARGO_ARGS: "--locked" }, contextFiles: [{ path: "Cargo.toml", text: "a" }, { path: "rust-toolchain.toml", text: "[toolchain]\nchannel = \"1.85\"\n" }] };
        it("changes with the base digest, the cargo arguments, the toolchain file and the target", () => {
            const c = compatOf(spec);
            assert.notEqual(compatOf({ ...spec, buildArgs: { ...spec.buildArgs, BASE: "h/base@sha256:2" } }), c);
            assert.notEqual(compatOf({ ...spec, buildArgs: { ...spec.buildArgs, CARGO_ARGS: "--locked --release" } }), c);
            assert.notEqual(compatOf({ ...spec, contextFiles: [spec.contextFiles[0], { path: "rust-toolchain.toml", text: "[toolchain]\nchannel = \"1.86\"\n" }] }), c);
            assert.notEqual(compatOf({ ...spec, target: "cook" }), c);
        });
        it("does not change with the manifests and lock file (that is what a warm start absorbs)", () => {
            assert.equal(compatOf({ ...spec, contextFiles: [{ path: "Cargo.toml", text: "b" }, spec.contextFiles[1], { path: "Cargo.lock", text: "x" }] }), compatOf(spec));
        });
        it("annotations name the parent and the depth", () => {
            assert.deepEqual(warmAnnotations("c", 2, { digest: "sha256:p", key: "k" }), {
                [WARM_COMPAT_ANNOTATION]: "c",
                [WARM_DEPTH_ANNOTATION]: "2",
                [WARM_PARENT_ANNOTATION]: "sha256:p",
                "dev.warmrun.warm-start.parent-key": "k",
            });
            assert.equal(warmLabel("0123456789abcdef0123456789abcdef"), "build (warm from 0123456789abcdef01234567)");
        });
    });

    describe("cargo's messages", () => {
        it("reads package ids in cargo's current and older forms", () => {
            assert.deepEqual(parsePackageId("registry+https://index.example.com/cargo#serde@1.0.229"), { name: "serde", version: "1.0.229", source: "registry" });
            assert.deepEqual(parsePackageId("sparse+https://corp.example/index/#my-crate@0.3.0"), { name: "my-crate", version: "0.3.0", source: "registry" });
            assert.deepEqual(parsePackageId("path+file:///app/crates/wordfreq#0.1.0"), { name: "wordfreq", version: "0.1.0", source: "path" });
            assert.deepEqual(parsePackageId("path+file:///app/crates/cli#wordfreq-cli@0.1.0"), { name: "wordfreq-cli", version: "0.1.0", source: "path" });
            assert.deepEqual(parsePackageId("serde 1.0.200 (registry+https://index.example.com/cargo)"), { name: "serde", version: "1.0.200", source: "registry" });
            assert.equal(parsePackageId("nonsense"), undefined);
        });
        it("counts the units of a real cold build: every one compiled", () => {
            const c = countUnits(MESSAGES);
            assert.equal(c.units, 29);
            assert.deepEqual([c.compiled, c.fresh], [29, 0]);
            const packages = new Set(MESSAGES.filter((m) => m.reason === "compiler-artifact").map((m) => parsePackageId((m as CargoArtifactMessage).package_id)!.name));
            assert.equal(packages.size, 21, "19 crates of the registry and the 2 of the workspace");
        });
        it("the cook's log drops cargo's progress frames, however the output is split, and keeps every line", () => {
            const input = "    Building [    ] 0/37: a\r   Compiling quote v1.0.47\n    Building [=> ] 2/37: b\r    Building [=> ] 3/37: c\r  Downloaded 19 crates (1.3 MB) in 0.20s\nBuild script output\r\nplain";
            for (const size of [1, 3, 7, input.length]) {
                const f = cargoProgressFilter();
                let out = "";
                for (let i = 0; i < input.length; i += size) out += f(input.slice(i, i + size));
                assert.equal(out, "   Compiling quote v1.0.47\n  Downloaded 19 crates (1.3 MB) in 0.20s\nBuild script output\r\nplain", `chunks of ${size}`);
            }
        });
        it("counts Compiling lines through progress frames and colours", () => {
            const text = "    Building [=>  ] 1/3: a\r   Compiling itoa v1.0.15\n\x1b[1m\x1b[32m   Compiling\x1b[0m serde_json v1.0.154\n   Compiling wordfreq v0.1.0 (/app/crates/wordfreq)\n    Finished `dev` profile\n";
            assert.equal(countCompilingLines(text), 3);
        });
    });

    describe("pruning target/", () => {
        // The listing of a target/ that holds the cold build's units (from cargo's own messages)
        // and what an older build of the same artifact left there.
        const T = "/w/target";
        const rel = (abs: string) => abs.slice(T.length + 1);
        const fresh = new Set<string>();
        const entries: TargetEntry[] = [];
        const add = (p: string, dir = false, mtimeMs = 2000) => {
            if (!entries.some((e) => e.path === p)) entries.push({ path: p, dir, mtimeMs });
        };
        for (const d of ["debug", "debug/deps", "debug/build", "debug/.fingerprint", "debug/incremental", "debug/examples"]) add(d, true);
        add("debug/.cargo-lock");
        for (const m of MESSAGES) {
            if (m.reason === "compiler-artifact") {
                for (const f of (m as CargoArtifactMessage).filenames) {
                    const r = rel(f);
                    if (r.startsWith("debug/build/")) add(r.split("/").slice(0, 3).join("/"), true);
                    else add(r);
                    const h = /-([0-9a-f]{16})/.exec(r)?.[1];
                    if (h) fresh.add(h);
                }
            } else if (m.reason === "build-script-executed") add(rel((m as any).out_dir).split("/").slice(0, 3).join("/"), true);
        }
        for (const h of fresh) add(`debug/.fingerprint/x-${h}`, true);
        // The workspace binary: uplifted as debug/wordfreq, the same file as debug/deps/wordfreq-<hash>.
        const BIN = "1111111111111111";
        add("debug/wordfreq.d");
        add(`debug/deps/wordfreq-${BIN}`);
        add(`debug/deps/wordfreq-${BIN}.d`);
        add(`debug/.fingerprint/wordfreq-cli-${BIN}`, true);
        add("debug/incremental/wordfreq-3sf1b932ctu8n", true, 2000);
        const kept = entries.map((e) => e.path);
        // Left by an older build: another itoa, an older binary, its fingerprint, stale incremental
        // state, a workspace crate that is gone, a profile this build does not use.
        const stale = [
            "debug/deps/libitoa-00000000000000aa.rlib",
            "debug/deps/libitoa-00000000000000aa.rmeta",
            "debug/deps/itoa-00000000000000aa.d",
            "debug/.fingerprint/itoa-00000000000000aa",
            "debug/build/serde-00000000000000bb",
            "debug/deps/wordfreq-2222222222222222",
            "debug/.fingerprint/wordfreq-cli-2222222222222222",
            "debug/incremental/gone-1abcdefghijkl",
            "debug/libgone.rlib",
            "debug/libgone.d",
            "release",
        ];
        for (const s of stale) add(s, s.includes(".fingerprint") || s.includes("/build/") || s.includes("incremental") || s === "release", 500);
        add("release/.fingerprint", true, 500);
        add("release/deps", true, 500);
        const identity: Record<string, string> = { "debug/wordfreq": "inode:1", [`debug/deps/wordfreq-${BIN}`]: "inode:1", "debug/deps/wordfreq-2222222222222222": "content:9:abc" };
        const plan = planTargetPrune(MESSAGES, entries, { targetDir: T, cookStartedMs: 1000, identityOf: (r) => identity[r] });

        it("removes exactly what the build did not use", () => {
            assert.deepEqual(plan.remove, [...stale].sort());
        });
        it("keeps every file cargo listed, fresh or not, and the binary found by its identity", () => {
            for (const p of kept) assert.ok(!plan.remove.includes(p), p);
            assert.ok(plan.keptHashes.has(BIN));
        });
        it("lists the registry packages compiled, as name-version", () => {
            assert.equal(plan.packages.size, 19);
            assert.ok(plan.packages.has("itoa-1.0.19") && plan.packages.has("serde_json-1.0.154"));
        });
    });

    it("pruning the registry keeps the compiled packages' crates and sources and the lock's index entries", () => {
        const entries = [
            "cache/index.example.com-0123456789abcdef/itoa-1.0.15.crate",
            "cache/index.example.com-0123456789abcdef/itoa-1.0.19.crate",
            "src/index.example.com-0123456789abcdef/itoa-1.0.15",
            "src/index.example.com-0123456789abcdef/itoa-1.0.19",
            "index/index.example.com-0123456789abcdef/.cache/it/oa/itoa",
            "index/index.example.com-0123456789abcdef/.cache/3/h/hex",
            "index/index.example.com-0123456789abcdef/.cache/2/fn/fnv",
            "index/index.example.com-0123456789abcdef/.cache/config.json",
        ];
        assert.deepEqual(planRegistryPrune(entries, new Set(["itoa-1.0.15", "hex-0.4.3"]), new Set(["itoa", "hex"])), [
            "cache/index.example.com-0123456789abcdef/itoa-1.0.19.crate",
            "index/index.example.com-0123456789abcdef/.cache/2/fn/fnv",
            "index/index.example.com-0123456789abcdef/.cache/config.json",
            "src/index.example.com-0123456789abcdef/itoa-1.0.19",
        ]);
    });

    describe("fields", () => {
        it("warmStart defaults on with a depth of 5; false turns it off", () => {
            assert.deepEqual(cookSpecOf({}), { warmStart: true, maxDepth: 5 });
            assert.deepEqual(cookSpecOf({ warmStart: false, warmStartDepth: 2 }), { warmStart: false, maxDepth: 2 });
        });
        it("warmStart: true with a Dockerfile of one's own, or a depth out of range, is one clear problem each", () => {
            const project = tempDir();
            writeTree(project, { "ws/Cargo.toml": "[workspace]\n", "ws/Dockerfile": "FROM x\n" });
            const raw = (fields: Record<string, unknown>) => ({
                "warmrun:registry": "127.0.0.1:5000/w",
                "warmrun:artifacts": JSON.stringify({ deps: { kind: "CargoDepsImage", workspace: "ws", ...fields } }),
            });
            assert.throws(() => validateConfig(raw({ warmStart: true, dockerfile: "ws/Dockerfile" }), { projectRoot: project, secretKeys: new Set() }), /warmrun:artifacts\.deps\.warmStart needs warmrun's own Dockerfile/);
            assert.throws(() => validateConfig(raw({ warmStartDepth: 0 }), { projectRoot: project, secretKeys: new Set() }), /warmrun:artifacts\.deps\.warmStartDepth 0 is out of range/);
            assert.throws(() => validateConfig(raw({ warmStart: "no" }), { projectRoot: project, secretKeys: new Set() }), /warmStart must be a boolean/);
            const ok = validateConfig(raw({ warmStart: false, warmStartDepth: 3 }), { projectRoot: project, secretKeys: new Set() });
            assert.deepEqual([ok.artifacts[0].fields.warmStart, ok.artifacts[0].fields.warmStartDepth], [false, 3]);
            assert.deepEqual(warmStartFieldProblems("w", { warmStart: false, dockerfile: "x" }), [], "off with a Dockerfile is fine");
        });
    });
});
