// The crates of a deps image, from its Cargo.lock.
import { strict as assert } from "assert";
import { externalCrates } from "../../../components/sbom/cargoLock";
import { LOCK } from "../../support/sbom";

describe("Cargo.lock crates", () => {
    it("lists the external crates with their checksums; local members have no source; credentials are stripped", () => {
        assert.deepEqual(externalCrates(LOCK), [
            { name: "forked", version: "0.3.0", source: "git+https://git.example.com/forked.git?rev=abc#abcdef" },
            { name: "itoa", version: "1.0.15", source: "registry+https://github.com/rust-lang/crates.io-index", checksum: "ab".repeat(32) },
        ]);
    });
});
