// CloudInitIso's provider side, its pure part: xorriso's arguments.
import { strict as assert } from "assert";
import { xorrisoArgs } from "../../../../components/kinds/cloudInitIso/build";

describe("CloudInitIso build (pure parts)", () => {
    it("xorriso: label cidata, Joliet, Rock Ridge, fixed owner and dates", () => {
        const args = xorrisoArgs("stage", "out.iso");
        for (const a of ["-V", "cidata", "-J", "-R", "--modification-date=1970010100000000"]) assert.ok(args.includes(a), a);
    });
});
