// Image references, parsed.
import { strict as assert } from "assert";
import { parseReference } from "../../../components/oci/reference";

describe("image references", () => {
    it("references split into host, repository and digest or tag", () => {
        assert.deepEqual(parseReference("127.0.0.1:5000/e2e/disk@sha256:ab"), { host: "127.0.0.1:5000", repository: "e2e/disk", reference: "sha256:ab" });
        assert.deepEqual(parseReference("registry.example.com/acme/disk:base-qcow2-latest"), { host: "registry.example.com", repository: "acme/disk", reference: "base-qcow2-latest" });
    });
});
