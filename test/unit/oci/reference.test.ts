// Image references, parsed.
import { strict as assert } from "assert";
import { parseImageName, parseReference } from "../../../components/oci/reference";

describe("image references", () => {
    it("references split into host, repository and digest or tag", () => {
        assert.deepEqual(parseReference("127.0.0.1:5000/e2e/disk@sha256:ab"), { host: "127.0.0.1:5000", repository: "e2e/disk", reference: "sha256:ab" });
        assert.deepEqual(parseReference("registry.example.com/acme/disk:base-qcow2-latest"), { host: "registry.example.com", repository: "acme/disk", reference: "base-qcow2-latest" });
    });
});

describe("image names as Containerfiles write them", () => {
    const D1 = `sha256:${"1a2b".repeat(16)}`;
    it("reads names the way Docker and buildah do", () => {
        assert.deepEqual(parseImageName("debian:trixie"), { host: "docker.io", repository: "library/debian", tag: "trixie" });
        assert.deepEqual(parseImageName("acme/tool"), { host: "docker.io", repository: "acme/tool" });
        assert.deepEqual(parseImageName("index.docker.io/library/debian:13"), { host: "docker.io", repository: "library/debian", tag: "13" });
        assert.deepEqual(parseImageName("127.0.0.1:5000/ext/base:v1"), { host: "127.0.0.1:5000", repository: "ext/base", tag: "v1" });
        assert.deepEqual(parseImageName("localhost/x"), { host: "localhost", repository: "x" });
        assert.deepEqual(parseImageName(`ghcr.io/a/b:1@${D1}`), { host: "ghcr.io", repository: "a/b", tag: "1", digest: D1 });
        assert.equal(parseImageName("Debian:trixie"), undefined, "upper case is not a repository");
        assert.equal(parseImageName("debian@sha256:abc"), undefined, "not a digest");
    });
});
