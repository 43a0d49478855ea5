import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { listFiles, makeIgnoreMatcher, parseIgnoreFile, hashFileSet, hashFileStream, pathProblem, StatCache } from "../../../components/core/fileset";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

describe("file sets and ignore rules", () => {
    after(removeTempDirs);

    it("follows .dockerignore semantics: rooted patterns, ** and ! exceptions, last rule wins", () => {
        const ignored = makeIgnoreMatcher(parseIgnoreFile("# comment\n\ntarget\n**/*.log\n*.md\n!README.md\ndocs/**\n!docs/keep.txt\n"));
        assert.equal(ignored("target/debug/app"), true, "a directory rule covers its contents");
        assert.equal(ignored("crates/a/target/x"), false, "a plain name matches at the root only");
        assert.equal(ignored("a/b/c.log"), true);
        assert.equal(ignored("NOTES.md"), true);
        assert.equal(ignored("README.md"), false, "! re-includes");
        assert.equal(ignored("sub/NOTES.md"), false, "* does not cross directories");
        assert.equal(ignored("docs/a/b.txt"), true);
        assert.equal(ignored("docs/keep.txt"), false);
    });

    it("lists regular files under root, dotfiles included, sorted, with globs and ignores applied", async () => {
        const root = tempDir();
        writeTree(root, { "b.txt": "b", "a/x.rs": "x", ".cargo/config.toml": "c", "a/y.log": "y", "z/skip.rs": "s" });
        fs.symlinkSync(path.join(root, "b.txt"), path.join(root, "link.txt"));
        assert.deepEqual(await listFiles({ root }), [".cargo/config.toml", "a/x.rs", "a/y.log", "b.txt", "z/skip.rs"]);
        assert.deepEqual(await listFiles({ root, include: ["**/*.rs", "**/*.toml"], ignore: ["z"] }), [".cargo/config.toml", "a/x.rs"]);
    });

    function backdate(root: string, rel: string[]): void {
        for (const r of rel) fs.utimesSync(path.join(root, r), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }

    it("the stat cache skips reading unchanged files and re-reads a changed one", async () => {
        const root = tempDir();
        writeTree(root, { "a.txt": "a", "b.txt": "b", "c/d.txt": "d" });
        backdate(root, ["a.txt", "b.txt", "c/d.txt"]);
        const cacheFile = path.join(tempDir(), "stat-cache.json");
        const first = new StatCache(cacheFile);
        const k1 = await hashFileSet({ root }, first);
        first.save();
        assert.equal(first.reads, 3);

        const second = new StatCache(cacheFile);
        const k2 = await hashFileSet({ root }, second);
        assert.equal(second.reads, 0, "no file read on a warm run");
        assert.deepEqual(k2, k1);

        fs.writeFileSync(path.join(root, "b.txt"), "B, longer");
        backdate(root, ["b.txt"]);
        const third = new StatCache(cacheFile);
        const k3 = await hashFileSet({ root }, third);
        assert.equal(third.reads, 1);
        assert.notDeepEqual(k3, k1);
    });

    it("does not trust entries for files written moments ago (same-tick rewrites)", async () => {
        const root = tempDir();
        writeTree(root, { "fresh.txt": "1" });
        const cacheFile = path.join(tempDir(), "stat-cache.json");
        const first = new StatCache(cacheFile);
        await hashFileSet({ root }, first);
        first.save();
        const second = new StatCache(cacheFile);
        await hashFileSet({ root }, second);
        assert.equal(second.reads, 1, "a racy entry is read again");
    });

    it("a corrupt stat cache costs a re-read, never a wrong hash", async () => {
        const root = tempDir();
        writeTree(root, { "a.txt": "a" });
        const cacheFile = path.join(tempDir(), "stat-cache.json");
        fs.writeFileSync(cacheFile, "{not json");
        const cache = new StatCache(cacheFile);
        const [entry] = await hashFileSet({ root }, cache);
        assert.equal(entry.sha256, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
        assert.equal(cache.reads, 1);
    });
    it("pathProblem: what is wrong with a path a setting names, in its own words; nothing for a good one", () => {
        const root = tempDir();
        writeTree(root, { "f.txt": "x", "d/x": "x" });
        fs.symlinkSync("loop-b", path.join(root, "loop-a"));
        fs.symlinkSync("loop-a", path.join(root, "loop-b"));
        fs.symlinkSync("d", path.join(root, "to-d"));
        const p = (rel: string, want: "file" | "dir") => pathProblem(path.join(root, rel), rel, want);
        assert.equal(p("f.txt", "file"), undefined);
        assert.equal(p("to-d", "dir"), undefined, "a link to a directory serves as one");
        assert.equal(p("gone", "dir"), "directory gone does not exist: create it or fix the path (relative to the project)");
        assert.equal(p("f.txt/x", "file"), "file f.txt/x does not exist: create it or fix the path (relative to the project)");
        assert.equal(p("loop-a", "file"), "file loop-a is a loop of symbolic links: fix the links or the path");
        assert.equal(p("d", "file"), "d is a directory, not a regular file: give the path of a file in it");
        assert.equal(p("f.txt", "dir"), "f.txt is a file, not a directory: give the directory (e.g. .)");
    });

    it("a file that cannot be hashed gives its path to the error", async () => {
        const dir = tempDir();
        await assert.rejects(hashFileStream(dir), (e: NodeJS.ErrnoException) => {
            assert.equal(e.code, "EISDIR");
            assert.equal(e.path, dir);
            return true;
        });
    });
});
