// Where a crate's file lives in a sparse index.
import { strict as assert } from "assert";
import { sparseIndexPath } from "../../../components/cargo/registryIndex";

describe("sparse index layout", () => {
    it("puts crates where Cargo looks for them", () => {
        assert.deepEqual(["a", "cc", "syn", "serde", "Tokio"].map(sparseIndexPath), ["1/a", "2/cc", "3/s/syn", "se/rd/serde", "to/ki/tokio"]);
    });
});
