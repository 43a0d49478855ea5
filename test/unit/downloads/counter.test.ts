import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { countDownloads, DownloadCounter, DownloadMatcher, LineSplitter, MAX_LINE, stripAnsi } from "../../../components/downloads/counter";
import { DOWNLOAD_TABLES, ToolRules, sizeInBytes } from "../../../components/downloads/rules";

const CORPUS = path.join(__dirname, "..", "..", "fixtures", "downloads");

interface Expected {
    source: string;
    items: { tool: string; name: string; bytes?: number }[];
    printsBytes: boolean;
    bytes?: number;
}

const captures = fs
    .readdirSync(CORPUS)
    .filter((f) => f.endsWith(".expected.json"))
    .map((f) => f.replace(/\.expected\.json$/, ""))
    .sort();

function within(actual: number, expected: number, fraction: number): boolean {
    return Math.abs(actual - expected) <= Math.abs(expected) * fraction;
}

describe("download counting: the corpus (real runs and documented formats)", () => {
    it("holds the real captures and the fixture lines", () => {
        for (const name of ["cargo-fetch", "cargo-fetch-plain", "debootstrap", "apt-get-download", "git-clone-fetch", "npm-install", "go-mod-download", "pip-download", "curl-wget", "pacman", "pacman-tty", "rustup", "makepkg", "dnf", "yum"]) {
            assert.ok(captures.includes(name), `test/fixtures/downloads/${name}.expected.json is missing`);
        }
    });

    for (const name of captures) {
        it(`${name}: 100% precision and recall, bytes within 1%`, () => {
            const expected: Expected = JSON.parse(fs.readFileSync(path.join(CORPUS, `${name}.expected.json`), "utf8"));
            const log = fs.readFileSync(path.join(CORPUS, `${name}.txt`));
            const got = countDownloads(log.toString("utf8"));
            const key = (i: { tool: string; name: string }) => `${i.tool} ${i.name}`;
            const want = expected.items.map(key).sort();
            const found = got.items.map(key).sort();
            const truePositives = found.filter((f) => want.includes(f)).length;
            const precision = found.length ? truePositives / found.length : 1;
            const recall = want.length ? truePositives / want.length : 1;
            assert.deepEqual(found, want, `precision ${precision}, recall ${recall}`);
            assert.equal(got.count, expected.items.length);
            if (expected.printsBytes) {
                const truth = expected.bytes ?? expected.items.reduce((s, i) => s + (i.bytes ?? 0), 0);
                assert.ok(within(got.bytes, truth, 0.01), `bytes ${got.bytes}, on disk / printed ${truth}`);
                for (const item of expected.items.filter((i) => i.bytes !== undefined)) {
                    const counted = got.items.find((i) => key(i) === key(item));
                    // Items whose tool prints only a total (cargo) carry no size of their own.
                    if (counted?.bytes !== undefined) assert.ok(within(counted.bytes, item.bytes as number, 0.01), `${key(item)}: ${counted.bytes} vs ${item.bytes}`);
                }
            }
            // Where a tool prints its own total, the counted items agree with it.
            for (const [tool, reported] of Object.entries(got.reported)) {
                if (reported.bytes !== undefined) assert.ok(within(got.byTool[tool].bytes, reported.bytes, 0.01), `${tool}: ${got.byTool[tool].bytes} vs its own total ${reported.bytes}`);
                if (reported.count !== undefined) assert.equal(got.byTool[tool].count, reported.count, `${tool}'s own count`);
            }
        });

        it(`${name}: streamed in chunks of 1, 7 and 4096 bytes, the same counts`, () => {
            const log = fs.readFileSync(path.join(CORPUS, `${name}.txt`));
            const whole = countDownloads(log.toString("utf8"));
            for (const size of [1, 7, 4096]) {
                const counter = new DownloadCounter();
                for (let i = 0; i < log.length; i += size) counter.write(log.subarray(i, i + size));
                assert.deepEqual(counter.end(), whole, `chunks of ${size}`);
            }
        });
    }

    it("the committed corpus names no registry or mirror host and no machine path", () => {
        for (const f of fs.readdirSync(CORPUS)) {
            const text = fs.readFileSync(path.join(CORPUS, f), "utf8");
            assert.doesNotMatch(text, /\/(?:root|home|work|tmp)\//, `${f} holds a machine path`);
            const hosts = [...text.matchAll(/\b(?:[a-z0-9-]+\.)+(?:io|org|com|net|dev|rs)\b/g)].map((m) => m[0]);
            assert.deepEqual(hosts.filter((h) => !["github.com", "example.com"].includes(h)), [], `${f} names hosts`);
        }
    });

    it("bytes of the real captures come from the tools' own figures, not from the disk", () => {
        const cargo = countDownloads(fs.readFileSync(path.join(CORPUS, "cargo-fetch.txt"), "utf8"));
        assert.deepEqual(cargo.reported.cargo, { count: 5, bytes: Math.round(167.0 * 1024) });
        const apt = countDownloads(fs.readFileSync(path.join(CORPUS, "apt-get-download.txt"), "utf8"));
        assert.equal(apt.reported.apt.bytes, 66_300);
    });
});

describe("download counting: the test-orch failure cases", () => {
    it("makepkg's `-> Downloading ...` lines are downloads", () => {
        const c = countDownloads("==> Retrieving sources...\n  -> Downloading hello-2.12.1.tar.gz...\n  -> Found hello.patch\n");
        assert.deepEqual(c.items, [{ tool: "makepkg", name: "hello-2.12.1.tar.gz" }]);
    });

    it("cargo's `Downloaded N crates (X MB) in ...` is a total, not one more crate", () => {
        const c = countDownloads("  Downloaded itoa v1.0.11\n  Downloaded ryu v1.0.18\n  Downloaded 2 crates (57.3 KB) in 0.31s\n");
        assert.deepEqual(c.byTool, { cargo: { count: 2, bytes: Math.round(57.3 * 1024) } });
        assert.deepEqual(c.items.map((i) => i.name), ["itoa@1.0.11", "ryu@1.0.18"]);
        const alone = countDownloads("  Downloaded 12 crates (3.4 MB) in 2.10s\n");
        assert.equal(alone.count, 0);
    });

    it("pacman's repository database lines are not packages", () => {
        const c = countDownloads(":: Synchronizing package databases...\n core downloading...\n extra downloading...\n multilib is up to date\n core.db downloading...\n");
        assert.equal(c.count, 0);
        const pkgs = countDownloads(":: Retrieving packages...\n linux-6.11.1.arch1-1-x86_64 downloading...\n");
        assert.deepEqual(pkgs.items, [{ tool: "pacman", name: "linux@6.11.1.arch1-1" }]);
    });
});

describe("download counting: rules", () => {
    it("counts apt packages with their sizes, not index files", () => {
        const log = [
            "Get:1 http://mirror.example/debian trixie InRelease [140 kB]",
            "Get:2 http://mirror.example/debian trixie/main amd64 Packages [9678 kB]",
            "Get:3 http://mirror.example/debian trixie/main Translation-en [6,432 kB]",
            "Get:4 http://mirror.example/debian trixie/main amd64 Packages T-2026-11-20-0804.57-F-2026-11-19-2013.32.pdiff [1,234 B]",
            "Hit:5 http://mirror.example/debian trixie-updates InRelease",
            "Get:1 http://mirror.example/debian trixie/main amd64 libsframe1 amd64 2.44-3 [78.4 kB]",
            "Get:2 http://mirror.example/debian trixie/main amd64 binutils-common amd64 2.44-3 [2,509 kB]",
            "Fetched 2,587 kB in 1s (2,000 kB/s)",
        ].join("\n");
        const c = countDownloads(log);
        assert.equal(c.count, 2);
        assert.equal(c.bytes, 78_400 + 2_509_000);
        assert.deepEqual(Object.keys(c.byTool), ["apt"]);
        assert.deepEqual(c.items.map((i) => i.name), ["libsframe1@2.44-3", "binutils-common@2.44-3"]);
    });

    it("counts debootstrap retrievals, not its index files", () => {
        const c = countDownloads("I: Retrieving InRelease \nI: Retrieving Packages \nI: Retrieving libc6 2.41-12\r\nI: Validating libc6 2.41-12\n");
        assert.deepEqual(c.byTool, { debootstrap: { count: 1, bytes: 0 } });
    });

    it("npm: cache hits, revalidations and packuments are not downloads", () => {
        const c = countDownloads(
            [
                "npm http fetch GET 200 https://registry.example/ms 23ms (cache miss)",
                "npm http fetch GET 200 https://registry.example/ms/-/ms-2.1.3.tgz 40ms (cache hit)",
                "npm http fetch GET 304 https://registry.example/ms/-/ms-2.1.3.tgz 40ms (cache revalidated)",
                "npm http fetch GET 200 https://registry.example/@types/node/-/node-20.19.43.tgz 80ms (cache miss)",
                "npm http fetch GET 200 https://registry.example/utf-8-validate/-/utf-8-validate-5.0.10.tgz 80ms (cache updated)",
                "npm http fetch POST 200 https://registry.example/-/npm/v1/security/advisories/bulk 300ms",
            ].join("\n"),
        );
        assert.deepEqual(c.items.map((i) => i.name), ["@types/node@20.19.43", "utf-8-validate@5.0.10"]);
    });

    it("go: a module printed twice (go: downloading, then -x's get) counts once; case-escaped paths are decoded", () => {
        const c = countDownloads(
            [
                "go: downloading github.com/BurntSushi/toml v1.4.0",
                "# get https://proxy.example/github.com/!burnt!sushi/toml/@v/v1.4.0.zip",
                "# get https://proxy.example/github.com/!burnt!sushi/toml/@v/v1.4.0.zip: 200 OK (0.1s)",
                "# get https://proxy.example/github.com/!burnt!sushi/toml/@v/v1.4.0.mod: 200 OK (0.1s)",
            ].join("\n"),
        );
        assert.deepEqual(c.items, [{ tool: "go", name: "github.com/BurntSushi/toml@v1.4.0" }]);
    });

    it("pip: metadata-only downloads and cached wheels are not downloads", () => {
        const c = countDownloads(
            "Collecting idna\n  Downloading idna-3.10-py3-none-any.whl.metadata (10 kB)\n  Using cached six-1.17.0-py2.py3-none-any.whl (11 kB)\nDownloading idna-3.10-py3-none-any.whl (70 kB)\n",
        );
        assert.deepEqual(c.items, [{ tool: "pip", name: "idna-3.10-py3-none-any.whl", bytes: 70_000 }]);
    });

    it("units: decimal and binary, thousands separators, decimal commas", () => {
        assert.equal(sizeInBytes("2,851", "kB", false), 2_851_000);
        assert.equal(sizeInBytes("78,4", "kB", false), 78_400);
        assert.equal(sizeInBytes("1.5", "MiB", false), 1_572_864);
        assert.equal(sizeInBytes("1269", "k", true), 1269 * 1024);
        assert.equal(sizeInBytes("245", "bytes", true), 245);
        assert.equal(sizeInBytes("61", "kB", true), 61 * 1024);
    });
});

describe("download counting: rule look-up by a line's first character", () => {
    it("finds, on every corpus line, the same first matching rule as trying every rule in order", () => {
        // Each rule alone in a table of its own: which rule matched shows in the tool name.
        const single: ToolRules[] = DOWNLOAD_TABLES.flatMap((t) => t.rules.filter((r) => r.kind !== "size").map((r, i) => ({ ...t, tool: `${t.tool}#${i}`, rules: [r] })));
        let checked = 0;
        for (const name of captures) {
            const lines: string[] = [];
            const splitter = new LineSplitter((l) => lines.push(l));
            splitter.push(fs.readFileSync(path.join(CORPUS, `${name}.txt`), "utf8"));
            splitter.end();
            for (const line of lines) {
                const brute = single.find((t) => t.rules[0].pattern.test(line))?.tool;
                const m = new DownloadMatcher(single);
                m.line(line);
                const s = m.summary();
                const indexed = Object.keys(s.byTool)[0] ?? Object.keys(s.reported)[0];
                if (brute && single.find((t) => t.tool === brute)?.rules[0].kind === "skip") continue;
                assert.equal(indexed, brute, `${name}: ${JSON.stringify(line)}`);
                checked++;
            }
        }
        assert.ok(checked > 100, `${checked} lines checked`);
    });
});

describe("download counting: the line splitter", () => {
    const lines = (chunks: string[]) => {
        const out: string[] = [];
        const s = new LineSplitter((l) => out.push(l));
        for (const c of chunks) s.push(c);
        s.end();
        return out;
    };

    it("a line redrawn with carriage returns is its last non-blank frame; CRLF is one line end", () => {
        assert.deepEqual(lines(["a 10%\ra 50%\ra 100%, done.\n", "b\r\n", "c 1%\r", "\x1b[K", "\r\n", "last"]), ["a 100%, done.", "b", "c 1%", "last"]);
    });

    it("a CRLF split between chunks is one line end", () => {
        assert.deepEqual(lines(["one\r", "\ntwo\r", "\n"]), ["one", "two"]);
    });

    it("colours and other escapes are removed", () => {
        assert.equal(stripAnsi("\x1b[1m\x1b[92m  Downloaded\x1b[0m itoa v1.0.11\x1b]0;title\x07"), "  Downloaded itoa v1.0.11");
        assert.deepEqual(countDownloads("\x1b[1m\x1b[32m  Downloaded\x1b[0m itoa v1.0.11\n").items, [{ tool: "cargo", name: "itoa@1.0.11" }]);
    });

    it("a very long line is cut at MAX_LINE without holding it whole, and the next line still counts", () => {
        const counter = new DownloadCounter();
        const block = "x".repeat(1 << 20);
        for (let i = 0; i < 20; i++) counter.write(block); // a 20 MiB line
        counter.write("\r" + "y".repeat(3 << 20) + "\n  Downloaded itoa v1.0.11\n");
        const c = counter.end();
        assert.deepEqual(c.items, [{ tool: "cargo", name: "itoa@1.0.11" }]);
        const seen: string[] = [];
        const s = new LineSplitter((l) => seen.push(l));
        s.push("z".repeat(MAX_LINE * 3));
        s.end();
        assert.equal(seen[0].length, MAX_LINE);
    });

    it("a multi-byte character split between byte chunks is decoded whole", () => {
        const counter = new DownloadCounter();
        const bytes = Buffer.from("2026-11-23 12:00:57 (1.66 MB/s) - ‘données.bin’ saved [2100000/2100000]\n", "utf8");
        const cut = bytes.indexOf(Buffer.from("é")) + 1;
        counter.write(bytes.subarray(0, cut));
        counter.write(bytes.subarray(cut));
        assert.deepEqual(counter.end().items, [{ tool: "wget", name: "données.bin", bytes: 2_100_000 }]);
    });
});
