// cli/commands.ts: the subcommands' argument handling.
import { strict as assert } from "assert";
import { takeStack } from "../../../cli/commands";

describe("warmrun command: arguments", () => {
    it("takes --stack out of the arguments before --, in every spelling", () => {
        assert.deepEqual(takeStack(["--stack", "ci", "--diff"]), { stack: "ci", rest: ["--diff"] });
        assert.deepEqual(takeStack(["-s", "ci"]), { stack: "ci", rest: [] });
        assert.deepEqual(takeStack(["--stack=ci", "--", "--stack", "other"]), { stack: "ci", rest: ["--", "--stack", "other"] });
        assert.throws(() => takeStack(["--stack"]), /--stack needs a stack name/);
    });
});
