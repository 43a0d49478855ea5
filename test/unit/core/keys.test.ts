import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { canonicalJson, canonicalMaterial, computeKey, diffInputs, describeInputChanges, inputSummary, KeyMaterial, shortKey } from "../../../components/core/keys";
import { hashFileSet, StatCache } from "../../../components/core/fileset";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

const TREE = {
    "Cargo.toml": '[package]\nname = "demo"\nversion = "0.1.0"\n',
    "src/main.rs": "fn main() {}\n",
    "scripts/build.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    "nested/deep/data.bin": "\u0000\u0001\u0002",
};

async function keyOfTree(root: string, upstream: Record<string, string> = {}): Promise<string> {
    const files = await hashFileSet({ root }, new StatCache());
    return computeKey({ kind: "FileBundle", recipeVersion: 1, files, params: {}, upstream });
}

describe("content keys", () => {
    after(removeTempDirs);

    it("canonical JSON sorts keys at every depth and drops whitespace", () => {
        assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: "x" } }), '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}');
    });

    it("is the same for a copy of the tree made elsewhere with other mtimes and another umask", async () => {
        const a = tempDir();
        writeTree(a, TREE);
        const b = tempDir();
        // Copy with a restrictive umask and without preserving times, owner or group/other bits.
        execFileSync("sh", ["-c", `umask 077 && cp -r "${a}/." "${b}/" && touch -d "2001-01-01" "${b}/src/main.rs"`]);
        assert.notEqual(fs.statSync(path.join(a, "src/main.rs")).mode & 0o077, fs.statSync(path.join(b, "src/main.rs")).mode & 0o077);
        assert.equal(await keyOfTree(a), await keyOfTree(b));
    });

    it("changes when one byte of one file changes", async () => {
        const a = tempDir();
        writeTree(a, TREE);
        const before = await keyOfTree(a);
        fs.writeFileSync(path.join(a, "src/main.rs"), "fn main() {}\r");
        assert.notEqual(await keyOfTree(a), before);
    });

    it("changes with the executable bit and with a rename, not with a touch", async () => {
        const a = tempDir();
        writeTree(a, TREE);
        const before = await keyOfTree(a);
        fs.utimesSync(path.join(a, "src/main.rs"), new Date(0), new Date(0));
        assert.equal(await keyOfTree(a), before);
        fs.chmodSync(path.join(a, "src/main.rs"), 0o755);
        const executable = await keyOfTree(a);
        assert.notEqual(executable, before);
        fs.chmodSync(path.join(a, "src/main.rs"), 0o644);
        fs.renameSync(path.join(a, "src/main.rs"), path.join(a, "src/lib.rs"));
        assert.notEqual(await keyOfTree(a), before);
    });

    it("holds upstream keys (Merkle): a changed upstream changes the dependent", async () => {
        const a = tempDir();
        writeTree(a, TREE);
        assert.notEqual(await keyOfTree(a, { base: "1".repeat(64) }), await keyOfTree(a, { base: "2".repeat(64) }));
    });

    it("does not depend on the order files were listed in, and rejects duplicates", () => {
        const files = [
            { path: "b", sha256: "1", executable: false },
            { path: "a", sha256: "2", executable: false },
        ];
        const m: KeyMaterial = { kind: "k", recipeVersion: 1, files, params: { x: 1 }, upstream: {} };
        assert.equal(computeKey(m), computeKey({ ...m, files: [...files].reverse() }));
        assert.throws(() => computeKey({ ...m, files: [...files, files[0]] }), /appears twice/);
    });

    it("writes the file list directly, the same text canonicalize gives, whatever the paths and the other fields", () => {
        const materials: KeyMaterial[] = [
            { kind: "FileBundle", recipeVersion: 1, files: [], params: {}, upstream: {} },
            {
                kind: "BaseImage",
                recipeVersion: 3,
                files: [
                    { path: 'a "quoted"\\ path/\u00e9t\u00e9/\ud83d\ude00.txt', sha256: "1".repeat(64), executable: true },
                    { path: "ctl\u0001\n\t.bin", sha256: "2".repeat(64), executable: false },
                ],
                params: { files: [], nested: { "files":[] } as unknown, n: 1.5 },
                upstream: { files: "k" },
                images: { "FROM a": "sha256:0" },
                entries: { files: "[]", "unit:tokio": "1.40.0" },
            },
            // An entry with a field of its own falls back to the generic path.
            { kind: "FileBundle", recipeVersion: 1, files: [{ path: "x", sha256: "3".repeat(64), executable: false, extra: 1 } as any], params: {}, upstream: {} },
        ];
        for (const m of materials) assert.equal(canonicalMaterial(m), canonicalJson(m));
    });

    it("short keys are tag-safe prefixes", () => {
        const k = "ab".repeat(32);
        assert.equal(shortKey(k), k.slice(0, 24));
        assert.match(shortKey(k), /^[0-9a-f]{24}$/);
    });

    it("named entries enter the key and the summary as they are; a material without them keeps its key", () => {
        const plain: KeyMaterial = { kind: "K", recipeVersion: 1, files: [], params: { a: 1 }, upstream: {} };
        const withEntries: KeyMaterial = { ...plain, entries: { "unit:serde": "1.0.200 [std] x" } };
        assert.equal(computeKey({ ...plain, entries: undefined }), computeKey(plain));
        assert.notEqual(computeKey(withEntries), computeKey(plain));
        assert.notEqual(computeKey({ ...plain, entries: { "unit:serde": "1.0.201 [std] x" } }), computeKey(withEntries));
        assert.deepEqual(inputSummary(withEntries), { "param:a": "1", "unit:serde": "1.0.200 [std] x" });
    });

    it("input summaries diff into the names of what changed", () => {
        const base: KeyMaterial = {
            kind: "k",
            recipeVersion: 1,
            files: [{ path: "Cargo.lock", sha256: "1", executable: false }, { path: "run.sh", sha256: "2", executable: true }],
            params: { size: "10G" },
            upstream: { base: "aaa" },
        };
        const olds = inputSummary(base);
        assert.equal(olds["file:run.sh"], "2+x");
        const news = inputSummary({ ...base, files: [{ path: "Cargo.lock", sha256: "9", executable: false }], params: { size: "20G" } });
        const d = diffInputs(olds, news);
        assert.deepEqual(d, { added: [], removed: ["file:run.sh"], changed: ["file:Cargo.lock", "param:size"] });
        assert.equal(describeInputChanges(d), "changed file:Cargo.lock; changed param:size; removed file:run.sh");
    });
});

describe("external images in the key", () => {
    const D1 = `sha256:${"1a2b".repeat(16)}`;
    const D2 = `sha256:${"3c4d".repeat(16)}`;
    const material = (images?: Record<string, string>): KeyMaterial => ({ kind: "BaseImage", recipeVersion: 1, files: [], params: {}, upstream: {}, ...(images ? { images } : {}) });

    it("a key without external images is the key it always was; a moved digest moves the key", () => {
        assert.equal(computeKey(material()), computeKey({ ...material(), images: undefined }));
        assert.notEqual(computeKey(material({ "FROM debian:trixie": D1 })), computeKey(material()));
        assert.notEqual(computeKey(material({ "FROM debian:trixie": D1 })), computeKey(material({ "FROM debian:trixie": D2 })));
    });

    it("the input summary has an image: entry; a moved image's change names both digests", () => {
        const olds = inputSummary(material({ "FROM debian:trixie": D1 }));
        const news = inputSummary(material({ "FROM debian:trixie": D2 }));
        assert.deepEqual(olds, { "image:FROM debian:trixie": D1 });
        assert.equal(describeInputChanges(diffInputs(olds, news), olds, news), `FROM debian:trixie moved: ${D1} -> ${D2}`);
        assert.equal(describeInputChanges(diffInputs(olds, news)), "changed image:FROM debian:trixie", "without the summaries, the entry's name");
    });
});
