// `npx warmrun downloads -- <command>` exactly as a pipeline runs it in a checkout after `npm ci`:
// through npx, with the package registry unreachable (it must need no network). The installed
// package's command is exercised in test/e2e/package.test.ts.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { tempDir, removeTempDirs } from "../support/tmp";
import { THRESHOLD_EXCEEDED } from "../../scripts/warmrun-downloads";

const ROOT = path.resolve(__dirname, "..", "..");
const CORPUS = path.join(ROOT, "test", "fixtures", "downloads");

// A fresh npm cache, as on a new machine (npx links the project into its cache to run its own bin,
// and a link made for an older checkout would point at a stale path).
let npmCache = "";

function npx(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
    return new Promise((resolve, reject) => {
        // An unreachable registry: npx must find the project's own bin without asking it anything.
        const env = { ...process.env, npm_config_registry: "http://127.0.0.1:9/", npm_config_update_notifier: "false", npm_config_cache: npmCache };
        const child = spawn("npx", ["warmrun", "downloads", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d) => out.push(d));
        child.stderr.on("data", (d) => err.push(d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    });
}

/** npm itself may warn on stderr (about the user's npmrc); the command's stderr is what follows it. */
function commandStderr(stderr: Buffer, expected: Buffer): Buffer {
    const at = stderr.indexOf(expected.subarray(0, 16));
    return at < 0 ? stderr : stderr.subarray(at);
}

describe("npx warmrun downloads (the pipeline wrapper)", function () {
    this.timeout(60_000);
    let dir: string;
    before(() => {
        dir = tempDir("warmrun-downloads-");
        npmCache = tempDir("warmrun-npm-cache-");
    });
    after(() => removeTempDirs());

    it("passes both streams through byte for byte: carriage returns, colours, invalid UTF-8, a 5 MiB line", async () => {
        const script = path.join(dir, "emit.js");
        fs.writeFileSync(
            script,
            [
                "const out = Buffer.concat([Buffer.from('\\x1b[1m\\x1b[92m  Downloaded\\x1b[0m itoa v1.0.11\\r\\n'), Buffer.from([0xff, 0xfe, 0x80, 0x0a]), Buffer.alloc(5 << 20, 0x61), Buffer.from('\\nno newline at the end')]);",
                "const err = Buffer.from('Receiving objects:  50% (1/2)\\rReceiving objects: 100% (2/2), 1.00 MiB | 9.00 MiB/s, done.\\n');",
                "process.stderr.write(err);",
                "process.stdout.write(out);",
            ].join("\n"),
        );
        const expectedOut = Buffer.concat([Buffer.from("\x1b[1m\x1b[92m  Downloaded\x1b[0m itoa v1.0.11\r\n"), Buffer.from([0xff, 0xfe, 0x80, 0x0a]), Buffer.alloc(5 << 20, 0x61), Buffer.from("\nno newline at the end")]);
        const expectedErr = Buffer.from("Receiving objects:  50% (1/2)\rReceiving objects: 100% (2/2), 1.00 MiB | 9.00 MiB/s, done.\n");
        const json = path.join(dir, "pass.json");
        const r = await npx(["--json", json, "--", process.execPath, script]);
        assert.equal(r.code, 0, r.stderr.toString());
        assert.ok(r.stdout.equals(expectedOut), `stdout differs (${r.stdout.length} bytes, expected ${expectedOut.length})`);
        assert.ok(commandStderr(r.stderr, expectedErr).equals(expectedErr), `stderr differs: ${JSON.stringify(r.stderr.toString())}`);
        const report = JSON.parse(fs.readFileSync(json, "utf8"));
        assert.deepEqual(
            report.items.map((i: any) => `${i.tool} ${i.name}`).sort(),
            ["cargo itoa@1.0.11", "git fetch"],
        );
    });

    it("exits with the threshold code when a warm run downloads more than allowed, and the report says so", async () => {
        const md = path.join(dir, "over.md");
        const json = path.join(dir, "over.json");
        const r = await npx(["--report", md, "--json", json, "--label", "apt step", "--max-count", "0", "--", "cat", path.join(CORPUS, "apt-get-download.txt")]);
        assert.equal(r.code, THRESHOLD_EXCEEDED);
        assert.ok(r.stdout.equals(fs.readFileSync(path.join(CORPUS, "apt-get-download.txt"))), "output passed through");
        assert.match(r.stderr.toString(), /warm-run threshold exceeded: 2 downloads exceed --max-count 0/);
        const report = fs.readFileSync(md, "utf8");
        assert.match(report, /^# Downloads: apt step$/m);
        assert.match(report, /\| this run \| 2 \| 64\.7 KiB \|/);
        assert.match(report, /\| warm-run minimum \| 0 \| 0 B \|/);
        assert.match(report, /\*\*Threshold exceeded\*\*/);
        assert.match(report, /\| hello@2\.10-3 \| apt \| 51\.9 KiB \|/);
        assert.match(report, /- \*\*apt\*\*: bake the packages into an image/);
        const j = JSON.parse(fs.readFileSync(json, "utf8"));
        assert.equal(j.count, 2);
        assert.equal(j.bytes, 66_300);
        assert.deepEqual(j.thresholds.exceeded, ["2 downloads exceed --max-count 0"]);
    });

    it("exits with the command's own status when the command fails", async () => {
        // From a subdirectory of the checkout, as a pipeline step may run.
        const r = await npx(["--max-count", "0", "--max-bytes", "0", "--", "sh", "-c", "echo failing; exit 7"], path.join(ROOT, "test"));
        assert.equal(r.code, 7);
        assert.equal(r.stdout.toString(), "failing\n");
        // A failed command that also downloaded too much: its own failure is what the pipeline sees.
        const both = await npx(["--max-count", "0", "--", "sh", "-c", `cat "${path.join(CORPUS, "pip-download.txt")}"; exit 5`]);
        assert.equal(both.code, 5);
    });

    it("exits 0 when the command succeeds within the thresholds, and reports the warm-run minimum reached", async () => {
        const md = path.join(dir, "warm.md");
        const r = await npx(["--report", md, "--max-count", "0", "--max-bytes", "0", "--", "sh", "-c", "echo nothing to fetch"]);
        assert.equal(r.code, 0, r.stderr.toString());
        assert.equal(r.stdout.toString(), "nothing to fetch\n");
        assert.match(fs.readFileSync(md, "utf8"), /This run downloaded nothing: it is at the warm-run minimum\./);
        assert.match(fs.readFileSync(md, "utf8"), /Within the thresholds \(at most 0 items, at most 0 B\)\./);
    });

    it("bad arguments are one usage error (exit 2); a missing command is 127", async () => {
        const bad = await npx(["--max-count", "many", "--", "true"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr.toString(), /--max-count needs a whole number, got "many"/);
        const none = await npx(["--", "warmrun-no-such-command"]);
        assert.equal(none.code, 127);
        assert.match(none.stderr.toString(), /cannot run warmrun-no-such-command: command not found/);
    });
});
