// cli/commands.ts: the subcommands' argument handling.
import { strict as assert } from "assert";
import { gcArguments, takeStack } from "../../../cli/commands";
import { main as gc } from "../../../scripts/gc";

describe("warmrun command: arguments", () => {
    it("takes --stack out of the arguments before --, in every spelling", () => {
        assert.deepEqual(takeStack(["--stack", "ci", "--diff"]), { stack: "ci", rest: ["--diff"] });
        assert.deepEqual(takeStack(["-s", "ci"]), { stack: "ci", rest: [] });
        assert.deepEqual(takeStack(["--stack=ci", "--", "--stack", "other"]), { stack: "ci", rest: ["--", "--stack", "other"] });
        assert.throws(() => takeStack(["--stack"]), /--stack needs a stack name/);
    });

    it("gives gc the repository's stack, journal and sightings file, and the user's --stack even beside --state-file", async () => {
        const base = { projectRoot: "/repo", projectStack: "ci", cwd: "/repo/sub" };
        assert.deepEqual(gcArguments({ ...base, rest: ["--keep", "3"] }), [
            "--stack", "ci", "--journal", "/repo/.warmrun/journal.jsonl", "--seen-file", "/repo/.warmrun/gc-seen.json", "--keep", "3",
        ]);
        assert.deepEqual(gcArguments({ ...base, stack: "a, b", rest: [] }).slice(0, 2), ["--stack", "a,b"]);
        // Only state files: no stack of the project's is added.
        const fromFiles = gcArguments({ ...base, rest: ["--state-file", "x.json,../y.json"] });
        assert.ok(!fromFiles.includes("--stack"));
        assert.equal(fromFiles[fromFiles.indexOf("--state-file") + 1], "/repo/sub/x.json,/repo/y.json");
        // Both: passed through, and gc refuses the pair instead of dropping one silently.
        const both = gcArguments({ ...base, stack: "nightly", rest: ["--state-file", "x.json"] });
        assert.deepEqual(both.slice(0, 2), ["--stack", "nightly"]);
        await assert.rejects(gc(both), /--state-file and --stack exclude each other/);
    });
});
