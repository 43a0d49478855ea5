// npm run qcow2: its command line.
import { strict as assert } from "assert";
import { parseArgs } from "../../../scripts/qcow2";

describe("npm run qcow2 (pure parts)", () => {
    it("parses flightctl's positional arguments and warmrun's options", () => {
        assert.deepEqual(parseArgs(["push", "bin/output/qcow2/disk.qcow2", "base-qcow2-v1.0", "--artifact", "disk"]).positional, ["push", "bin/output/qcow2/disk.qcow2", "base-qcow2-v1.0"]);
        assert.equal(parseArgs(["get", "--artifact", "disk"]).artifact, "disk");
        assert.throws(() => parseArgs(["get", "--bogus"]), /unknown option --bogus/);
    });
});
