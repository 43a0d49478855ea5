// oci/registry.ts: what an unreachable registry's error tells the user to do.
import { strict as assert } from "assert";
import { unreachableHint } from "../../../components/oci/registry";

describe("registry client: the unreachable-registry hint", () => {
    it("an unreachable registry's hint names its own port, and nothing local for a hosted one", () => {
        assert.match(unreachableHint("127.0.0.1:6123"), /port 6123 .*warmrun registry start 6123/);
        assert.doesNotMatch(unreachableHint("127.0.0.1:6123"), /5000/);
        assert.match(unreachableHint("ghcr.io"), /check the host name and the network/);
    });
});
