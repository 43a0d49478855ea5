// core/process.ts: which tools are on PATH (an executable file), and a failed tool's exit and output.
import { strict as assert } from "assert";
import * as path from "path";
import { findOnPath, missingTools, runTool, ToolError } from "../../../components/core/process";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

describe("tool runs", () => {
    after(removeTempDirs);

    it("a tool is on PATH when an executable file of its name is in one of its directories", () => {
        const [a, b] = [tempDir(), tempDir()];
        writeTree(a, { "not-executable": "x", "a-dir/README": "x" });
        writeTree(b, { "present-tool": { content: "#!/bin/sh\n", mode: 0o755 } });
        const envPath = [a, b].join(path.delimiter);
        assert.equal(findOnPath("present-tool", envPath), path.join(b, "present-tool"));
        assert.deepEqual(missingTools(["present-tool", "not-executable", "a-dir", "nowhere-tool"], envPath), ["not-executable", "a-dir", "nowhere-tool"]);
        assert.equal(findOnPath(path.join(b, "present-tool"), ""), path.join(b, "present-tool"), "a path is taken as it is");
    });

    it("a tool that fails is a ToolError with its exit code and the last lines of its output", async () => {
        await assert.rejects(runTool("x", "sh", ["-c", "echo first; echo last >&2; exit 3"], { stream: () => undefined }), (e: unknown) => {
            assert.ok(e instanceof ToolError);
            assert.equal(e.exitCode, 3);
            assert.equal(e.tail, "first\nlast");
            assert.match(e.message, /^x: sh exited with 3; last lines:\nfirst\nlast$/);
            return true;
        });
    });
});
