// oci/registry.ts: what an unreachable registry's error tells the user to do.
import { strict as assert } from "assert";
import { isManifest, isValidPort, parseRegistryPrefix, portOf, unreachableHint, unreachableReason } from "../../../components/oci/registry";

describe("registry client: the unreachable-registry hint", () => {
    it("an unreachable registry's hint names its own port, and nothing local for a hosted one", () => {
        assert.match(unreachableHint("127.0.0.1:6123"), /port 6123 .*warmrun registry start 6123/);
        assert.doesNotMatch(unreachableHint("127.0.0.1:6123"), /5000/);
        assert.match(unreachableHint("ghcr.io"), /check the host name and the network/);
    });
});

describe("registry client: ports and manifests", () => {
    it("a port outside 1-65535 is no registry prefix; 1 and 65535 are", () => {
        assert.equal(parseRegistryPrefix("127.0.0.1:99999/w"), undefined);
        assert.equal(parseRegistryPrefix("registry.example.com:0"), undefined);
        assert.equal(parseRegistryPrefix("127.0.0.1:1/w")?.host, "127.0.0.1:1");
        assert.equal(parseRegistryPrefix("127.0.0.1:65535/w")?.host, "127.0.0.1:65535");
        assert.equal(portOf("localhost"), undefined);
        assert.equal(isValidPort("65536"), false);
    });
    it("only a schemaVersion 2 manifest or index counts as a manifest", () => {
        assert.equal(isManifest({ schemaVersion: 2, layers: [] }), true);
        assert.equal(isManifest({ schemaVersion: 2, manifests: [] }), true);
        assert.equal(isManifest({ hello: "world" }), false);
        assert.equal(isManifest(undefined), false);
    });
    it("an unreachable registry's reason says what failed and what to do", () => {
        assert.match(unreachableReason("ghcr.example", "ENOTFOUND"), /host name does not resolve\): fix the host in warmrun:registry/);
        assert.match(unreachableReason("127.0.0.1:6000", "bad port"), /port 6000, one of the Fetch standard's blocked ports\): run the registry on another port/);
        assert.match(unreachableReason("r.example", "ERR_SSL_WRONG_VERSION_NUMBER"), /set warmrun:registryInsecure to true/);
        assert.match(unreachableReason("127.0.0.1:6123", "ECONNREFUSED"), /\(ECONNREFUSED\): start the local registry on port 6123/);
    });
});
