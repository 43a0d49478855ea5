// The referrers tag schema's fallback index, kept by the client for registries without the API.
import { strict as assert } from "assert";
import { addToReferrersIndex, referrersTag } from "../../../components/oci/referrers";
import { MEDIA } from "../../../components/oci/manifest";

describe("referrers tag schema", () => {
    it("the tag of a subject digest; one index entry per referrer digest", () => {
        assert.equal(referrersTag(`sha256:${"5e".repeat(32)}`), `sha256-${"5e".repeat(32)}`);
        const e1 = { mediaType: MEDIA.ociManifest, digest: `sha256:${"1".repeat(64)}`, size: 5, artifactType: "application/spdx+json" };
        const e2 = { ...e1, digest: `sha256:${"2".repeat(64)}` };
        const first = addToReferrersIndex(undefined, e1);
        assert.equal(first.changed, true);
        assert.equal(addToReferrersIndex(JSON.parse(first.body.toString()), e1).changed, false, "already there as it is");
        const both = JSON.parse(addToReferrersIndex(JSON.parse(first.body.toString()), e2).body.toString());
        assert.equal(both.mediaType, MEDIA.ociIndex);
        assert.deepEqual(both.manifests.map((x: any) => x.digest), [e1.digest, e2.digest]);
        const moved = addToReferrersIndex(both, { ...e1, size: 6 });
        assert.equal(moved.changed, true);
        assert.deepEqual(JSON.parse(moved.body.toString()).manifests.map((x: any) => [x.digest, x.size]), [[e2.digest, 5], [e1.digest, 6]]);
    });
});
