// The manifests warmrun assembles: one field order, so equal inputs give equal digests.
import { strict as assert } from "assert";
import { digestOf, manifestBytes, MEDIA } from "../../../components/oci/manifest";

describe("OCI manifests", () => {
    const config = { mediaType: MEDIA.ociEmpty, digest: digestOf("{}"), size: 2 };
    const layer = { mediaType: MEDIA.ociLayerGzip, digest: `sha256:${"a".repeat(64)}`, size: 10, annotations: { "org.opencontainers.image.title": "x" } };

    it("writes schemaVersion, mediaType, artifactType, config, layers, annotations in that order", () => {
        const text = manifestBytes({ annotations: { k: "v" }, layers: [layer], config, artifactType: "application/x" }).toString();
        assert.equal(
            text,
            `{"schemaVersion":2,"mediaType":"${MEDIA.ociManifest}","artifactType":"application/x","config":${JSON.stringify(config)},"layers":[${JSON.stringify(layer)}],"annotations":{"k":"v"}}`,
        );
    });

    it("an image has no artifactType", () => {
        assert.ok(!("artifactType" in JSON.parse(manifestBytes({ config, layers: [] }).toString())));
    });

    it("a referrer's subject comes after the layers, before the annotations", () => {
        const subject = { mediaType: MEDIA.ociManifest, digest: `sha256:${"b".repeat(64)}`, size: 99 };
        const text = manifestBytes({ artifactType: "application/spdx+json", config, layers: [layer], subject, annotations: { k: "v" } }).toString();
        assert.deepEqual(Object.keys(JSON.parse(text)), ["schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations"]);
        assert.deepEqual(JSON.parse(text).subject, subject);
    });
});
