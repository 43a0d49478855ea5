// CargoDepsImage's build: the crates its SBOM lists come from the build context's Cargo.lock.
import { strict as assert } from "assert";
import { cratesOfContext } from "../../../../components/kinds/cargoDepsImage/build";
import { LOCK } from "../../../support/sbom";

describe("CargoDepsImage build: SBOM crates", () => {
    it("takes the crates from the Cargo.lock at the root of the build context", () => {
        assert.deepEqual(cratesOfContext([{ path: "Cargo.toml", text: "" }, { path: "Cargo.lock", text: LOCK }])?.map((c) => c.name), ["forked", "itoa"]);
        assert.equal(cratesOfContext([{ path: "crates/a/Cargo.lock", text: LOCK }]), undefined, "only the workspace root's lock");
    });
});
