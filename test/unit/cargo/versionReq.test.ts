// Cargo's version requirements.
import { strict as assert } from "assert";
import { satisfies } from "../../../components/cargo/versionReq";

describe("cargo version requirements", () => {
    it("follows Cargo's semantics, not npm's", () => {
        const cases: Array<[string, string, boolean]> = [
            ["1.2.3", "1.2", true],
            ["1.9.0", "1.2", true],
            ["2.0.0", "1", false],
            ["0.2.9", "0.2.3", true],
            ["0.3.0", "0.2.3", false],
            ["0.0.4", "0.0.3", false],
            ["1.2.9", "~1.2.3", true],
            ["1.3.0", "~1.2", false],
            ["1.2.3", "=1.2.3", true],
            ["1.2.4", "=1.2.3", false],
            ["1.5.0", ">=1.2, <1.6", true],
            ["1.6.0", ">=1.2, <1.6", false],
            ["3.0.0", "*", true],
            ["1.4.0", "1.*", true],
            ["1.0.0-alpha.1", "1", false],
            ["1.0.0-alpha.2", ">=1.0.0-alpha.1", true],
            ["1.2.2+spec-1.1.0", "1.2", true],
        ];
        for (const [v, req, want] of cases) assert.equal(satisfies(v, req), want, `${v} ~ ${req}`);
    });
});
