// A build tool's real downloads, counted as runTool streams its output (the path every builder uses).
import { strict as assert } from "assert";
import * as fs from "fs";
import { execFileSync } from "child_process";
import { runTool } from "../../components/core/process";
import { tempDir, removeTempDirs } from "../support/tmp";

describe("runTool counts what a real tool downloads while it streams", function () {
    this.timeout(120_000);
    after(() => removeTempDirs());

    it("apt-get download of two packages: two apt items, bytes within 1% of the files fetched", async () => {
        try {
            execFileSync("sh", ["-c", "command -v apt-get && command -v dpkg-deb"], { stdio: "ignore" });
        } catch {
            throw new Error("apt-get is not installed: this test needs a Debian host (see `npm run setup`)");
        }
        const dir = tempDir("warmrun-apt-download-");
        let streamed = "";
        const { downloads } = await runTool("apt download", "apt-get", ["download", "hello", "sl"], { cwd: dir, stream: (t) => (streamed += t) });
        const debs = fs.readdirSync(dir).filter((f) => f.endsWith(".deb"));
        const onDisk = debs.reduce((s, f) => s + fs.statSync(`${dir}/${f}`).size, 0);
        const names = debs.map((f) => execFileSync("dpkg-deb", ["-f", `${dir}/${f}`, "Package", "Version"], { encoding: "utf8" }).trim().split("\n").map((l) => l.replace(/^\w+: /, "")).join("@")).sort();
        assert.deepEqual(downloads.items.map((i) => i.name).sort(), names, streamed);
        assert.deepEqual(Object.keys(downloads.byTool), ["apt"]);
        assert.ok(Math.abs(downloads.bytes - onDisk) <= onDisk * 0.01, `${downloads.bytes} counted, ${onDisk} on disk`);
    });
});
