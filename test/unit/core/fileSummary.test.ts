// core/fileSummary.ts: the state's bounded summary of a large context, and diffs that still name files.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeFolderChange, fileListPath, FILE_ENTRY_LIMIT, isFolded, loadFileList, saveFileList, summarizeFiles, unfoldSummaries } from "../../../components/core/fileSummary";
import { computeKey, FileEntry, inputSummary, KeyMaterial } from "../../../components/core/keys";
import { ArtifactInputs, ArtifactOutputs, diffArtifact } from "../../../components/core/lifecycle";
import { describeReasons } from "../../../components/report/cacheReport";

/** n files in dirs of `perDir` under src/, plus a README at the root. */
function tree(n: number, perDir = 500, change?: (i: number) => string | undefined): FileEntry[] {
    const files: FileEntry[] = [{ path: "README", sha256: "r".repeat(64), executable: false }];
    for (let i = 0; i < n; i++) {
        const sha = change?.(i) ?? `${i}`.padStart(64, "0");
        files.push({ path: `src/d${Math.floor(i / perDir)}/f${i}.txt`, sha256: sha, executable: false });
    }
    return files;
}

const material = (files: FileEntry[]): KeyMaterial => ({ kind: "FileBundle", recipeVersion: 1, files, params: {}, upstream: {} });

describe("file summary: bounded for large contexts", () => {
    it("names each file up to the limit", () => {
        const files = tree(FILE_ENTRY_LIMIT - 1);
        const s = summarizeFiles(files);
        assert.equal(Object.keys(s).length, FILE_ENTRY_LIMIT);
        assert.equal(s["file:README"], "r".repeat(64));
        assert.equal(isFolded(s), false);
    });

    it("above it, one entry per directory at the deepest depth within the directory limit, whatever the file count", () => {
        const small = summarizeFiles(tree(5_000));
        const large = summarizeFiles(tree(50_000));
        assert.deepEqual(Object.keys(small).sort().slice(0, 3), ["files:./", "files:src/d0/", "files:src/d1/"]);
        assert.equal(Object.keys(large).length, 101, "100 directories of 500 files and the root's own");
        assert.match(large["files:src/d7/"], /^sha256:[0-9a-f]{64};files=500$/);
        // Too many directories for the limit: folded one level up.
        const wide = summarizeFiles(tree(5_000, 10));
        assert.deepEqual(Object.keys(wide).sort(), ["files:./", "files:src/"]);
        assert.match(wide["files:src/"], /;files=5000$/);
    });

    it("a changed file changes its directory's entry and nothing else; the key is the same as without folding", () => {
        const before = summarizeFiles(tree(5_000, 50));
        const after = summarizeFiles(tree(5_000, 50, (i) => (i === 77 ? "f".repeat(64) : undefined)));
        const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
        assert.deepEqual(changed, ["files:src/d1/"]);
        // The key covers every file as before: folding is only the state's summary.
        const files = tree(2_000);
        assert.equal(computeKey(material(files)), computeKey(material([...files].reverse())));
        assert.notEqual(computeKey(material(files)), computeKey(material(tree(2_000, 500, (i) => (i === 1 ? "e".repeat(64) : undefined)))));
    });

    it("says a directory's change by its counts when no file list is kept", () => {
        assert.equal(describeFolderChange("files:src/", "sha256:a;files=500", "sha256:b;files=501"), "files changed under src/ (501 files, was 500)");
        assert.equal(describeFolderChange("files:src/", "sha256:a;files=500", "sha256:b;files=500"), "files changed under src/ (500 files)");
        assert.equal(describeFolderChange("files:lib/", undefined, "sha256:b;files=3"), "3 files added under lib/");
    });
});

describe("file summary: the kept file lists", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-lists-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("are written once per key, read back as summary entries, and at most five are kept per artifact", () => {
        const files = tree(3);
        for (let i = 0; i < 7; i++) saveFileList(fileListPath(dir, "big", `k${i}`), files);
        assert.equal(fs.readdirSync(path.join(dir, "big")).length, 5);
        assert.equal(loadFileList(fileListPath(dir, "big", "k6"))!["file:src/d0/f2.txt"], `${2}`.padStart(64, "0"));
        assert.equal(loadFileList(fileListPath(dir, "big", "missing")), undefined);
        assert.equal(loadFileList(undefined), undefined);
    });

    const artifact = (key: string, files: FileEntry[], list?: string): ArtifactInputs => ({
        name: "big",
        kind: "FileBundle",
        key,
        registry: { host: "127.0.0.1:5000", insecure: true },
        repository: "warmrun/big",
        tag: key.slice(0, 24),
        aliasTags: [],
        inputs: inputSummary(material(files)),
        ...(list ? { fileList: list } : {}),
        build: {},
    });
    const outputs = (a: ArtifactInputs): ArtifactOutputs => ({ ...a, ref: "r", digest: "sha256:1", pinned: "p", cacheHit: false, buildSeconds: 1, downloads: { count: 0, bytes: 0 } });

    it("let the diff name the changed file of a folded context; without them it names the directory", () => {
        const [a, b] = [tree(5_000, 50), tree(5_000, 50, (i) => (i === 77 ? "f".repeat(64) : undefined))];
        const [la, lb] = [fileListPath(dir, "big", "a".repeat(64)), fileListPath(dir, "big", "b".repeat(64))];
        saveFileList(la, a);
        saveFileList(lb, b);
        const withLists = diffArtifact(outputs(artifact("a".repeat(64), a, la)), artifact("b".repeat(64), b, lb));
        assert.equal(withLists.reason, "changed file:src/d1/f77.txt");
        // The engine's replace reasons: the file, and the directory entry that holds it in the state.
        assert.deepEqual(withLists.replaces, ["key", "tag", 'inputs["file:src/d1/f77.txt"]', 'inputs["files:src/d1/"]']);
        fs.rmSync(la);
        const without = diffArtifact(outputs(artifact("a".repeat(64), a, la)), artifact("b".repeat(64), b, lb));
        assert.equal(without.reason, "files changed under src/d1/ (50 files)");
        assert.deepEqual(without.replaces, ["key", "tag", 'inputs["files:src/d1/"]']);
        // An older state with one entry per file, against a folded summary with its list: files by name.
        const perFile = outputs({ ...artifact("a".repeat(64), a), inputs: Object.fromEntries(a.map((f) => [`file:${f.path}`, f.sha256])) });
        assert.equal(diffArtifact(perFile, artifact("b".repeat(64), b, lb)).reason, "changed file:src/d1/f77.txt");
    });

    it("let the cache report name files too, at most twenty reasons and how many more", () => {
        const [a, b] = [tree(5_000, 50), tree(5_000, 50, (i) => (i < 30 ? "f".repeat(64) : undefined))];
        const [la, lb] = [fileListPath(dir, "big", "a"), fileListPath(dir, "big", "b")];
        saveFileList(la, a);
        saveFileList(lb, b);
        const reasons = describeReasons(inputSummary(material(a)), inputSummary(material(b)), undefined, { old: la, now: lb });
        assert.equal(reasons.length, 21);
        assert.equal(reasons[0], "src/d0/f0.txt changed");
        assert.equal(reasons[20], "and 10 more");
        assert.deepEqual(describeReasons(inputSummary(material(a)), inputSummary(material(b))), ["files changed under src/d0/ (50 files)"]);
        assert.equal(unfoldSummaries({ "file:a": "1" }, { "file:a": "2" }, undefined, undefined), undefined);
    });
});
