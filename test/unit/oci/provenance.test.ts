// Provenance annotations: the OCI predefined keys from the checkout's git state and the base a
// plan names; warmrun's own keys stay and win.
import { strict as assert } from "assert";
import { baseFromPinned, baseOfPlan, provenanceAnnotations, provenanceOf, withProvenance } from "../../../components/oci/provenance";

const D = `sha256:${"7".repeat(64)}`;
const E = `sha256:${"8".repeat(64)}`;

describe("provenance", () => {
    const git = { clean: true, commit: "a".repeat(40), remote: "https://git.example.com/acme/app.git", commitTime: "2026-11-30T10:00:00Z" };

    it("the OCI predefined keys of a checkout and a base", () => {
        assert.deepEqual(provenanceAnnotations(provenanceOf(git, baseFromPinned(`127.0.0.1:5000/w/os@${D}`))), {
            "org.opencontainers.image.source": "https://git.example.com/acme/app.git",
            "org.opencontainers.image.revision": "a".repeat(40),
            "org.opencontainers.image.created": "2026-11-30T10:00:00Z",
            "org.opencontainers.image.base.name": `127.0.0.1:5000/w/os@${D}`,
            "org.opencontainers.image.base.digest": D,
        });
        assert.deepEqual(provenanceAnnotations(provenanceOf({ clean: false })), {}, "no git: nothing");
    });

    it("the base: the plan's external image, the upstream it names, none, or else the one upstream", () => {
        const refs = { os: `127.0.0.1:5000/w/os@${D}`, tools: `127.0.0.1:5000/w/tools@${E}` };
        assert.deepEqual(baseOfPlan({ name: `docker.io/library/debian@${E}`, digest: E }, refs), { name: `docker.io/library/debian@${E}`, digest: E });
        assert.deepEqual(baseOfPlan({ upstream: "tools" }, refs), { name: refs.tools, digest: E });
        assert.equal(baseOfPlan(null, { os: refs.os }), undefined, "scratch");
        assert.deepEqual(baseOfPlan(undefined, { os: refs.os }), { name: refs.os, digest: D });
        assert.equal(baseOfPlan(undefined, refs), undefined, "two upstreams and no word from the plan: none");
        assert.equal(baseFromPinned("127.0.0.1:5000/w/os:tag"), undefined, "a tag is not pinned");
    });

    it("warmrun's own keys stay and win", () => {
        const merged = withProvenance({ "dev.warmrun.key": "k", "org.opencontainers.image.revision": "mine" }, { revision: "r", created: "c" });
        assert.deepEqual(merged, { "org.opencontainers.image.revision": "mine", "org.opencontainers.image.created": "c", "dev.warmrun.key": "k" });
    });
});
