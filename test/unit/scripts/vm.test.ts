// npm run vm's arguments: defaults, each option, and one clear error for a bad one.
import { strict as assert } from "assert";
import { parseArgs } from "../../../scripts/vm";

describe("npm run vm: arguments", () => {
    it("defaults: restricted network, 600 s, 1024 MiB, the vCPUs and the accelerator chosen at boot", () => {
        const o = parseArgs(["boot"]);
        assert.equal(o.command, "boot");
        assert.deepEqual([o.network, o.timeout, o.memory, o.cpus, o.accel, o.quiet], ["restricted", 600, 1024, undefined, undefined, false]);
    });

    it("every option", () => {
        const o = parseArgs(["boot", "--stack", "ci", "--artifact", "disk", "--seed", "none", "--out", "o", "--timeout", "90", "--memory", "2048", "--cpus", "1", "--accel", "tcg", "--network", "user", "--quiet"]);
        assert.deepEqual(
            [o.stack, o.artifact, o.seed, o.out, o.timeout, o.memory, o.cpus, o.accel, o.network, o.quiet],
            ["ci", "disk", "none", "o", 90, 2048, 1, "tcg", "user", true],
        );
        assert.equal(parseArgs(["boot", "--disk", "127.0.0.1:5000/w/debian-disk:base-qcow2-abc"]).disk, "127.0.0.1:5000/w/debian-disk:base-qcow2-abc");
    });

    it("a bad option is one error naming it", () => {
        assert.throws(() => parseArgs(["boot", "--timeout", "soon"]), /--timeout soon is not a positive whole number/);
        assert.throws(() => parseArgs(["boot", "--accel", "hvf"]), /--accel hvf: give kvm or tcg/);
        assert.throws(() => parseArgs(["boot", "--network", "bridge"]), /--network bridge: give one of restricted, user, none/);
        assert.throws(() => parseArgs(["boot", "--frobnicate"]), /unknown option --frobnicate/);
        assert.throws(() => parseArgs(["boot", "--stack"]), /--stack needs a value/);
    });
});
