// cli/stack.ts: the local registry a stack's config calls for.
import { strict as assert } from "assert";
import { loopbackRegistryPort } from "../../../cli/stack";

describe("warmrun command: the local registry", () => {
    it("starts a local registry for a loopback registry on any port, never for a hosted one", () => {
        assert.equal(loopbackRegistryPort("127.0.0.1:5000/warmrun"), 5000);
        assert.equal(loopbackRegistryPort("localhost:6123"), 6123);
        assert.equal(loopbackRegistryPort("127.0.0.1/warmrun"), undefined);
        assert.equal(loopbackRegistryPort("ghcr.io/acme/cache"), undefined);
        assert.equal(loopbackRegistryPort(undefined), undefined);
    });
});
