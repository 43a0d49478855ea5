import { strict as assert } from "assert";
import { diffArtifact, ArtifactInputs, ArtifactOutputs } from "../../../components/core/lifecycle";
import { unchangedArtifactDiff } from "../../../components/core/provider";
import { cargoDepsImage } from "../../../components/kinds/cargoDepsImage/fields";

const inputs: ArtifactInputs = {
    name: "deps",
    kind: "FileBundle",
    key: "a".repeat(64),
    registry: { host: "127.0.0.1:5000", insecure: true },
    repository: "warmrun/deps",
    tag: "a".repeat(24),
    aliasTags: [],
    inputs: { "file:Cargo.lock": "1", "file:src/main.rs": "2", "upstream:base": "b" },
    build: {},
};
const olds: ArtifactOutputs = { ...inputs, ref: "r", digest: "sha256:1", pinned: "p", cacheHit: false, buildSeconds: 3, downloads: { count: 0, bytes: 0 } };

describe("artifact diff", () => {
    it("reports no change when the key is the same, even if non-key build details moved", () => {
        assert.deepEqual(diffArtifact(olds, { ...inputs, build: { root: "/elsewhere" } }), { changes: false, replaces: [], reason: "no input changed" });
    });

    it("replaces on a key change and names the changed inputs", () => {
        const news = { ...inputs, key: "c".repeat(64), tag: "c".repeat(24), inputs: { ...inputs.inputs, "file:Cargo.lock": "9", "file:new.rs": "3" } };
        const d = diffArtifact(olds, news);
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, ["key", "tag", 'inputs["file:Cargo.lock"]', 'inputs["file:new.rs"]']);
        assert.equal(d.reason, "changed file:Cargo.lock; added file:new.rs");
    });

    it("says the kind's own input entries in the kind's words (a deps image's units)", () => {
        const deps = { ...inputs, kind: "CargoDepsImage", inputs: { "unit:tokio": "1.40.0 [rt] 0123456789abcdef", "unit:serde": "1.0.200 [std] 0123456789abcdef", "upstream:base": "b" } };
        const news = { ...deps, key: "c".repeat(64), tag: "c".repeat(24), inputs: { ...deps.inputs, "unit:tokio": "1.41.0 [rt] fedcba9876543210", "unit:serde": "1.0.200 [derive,std] 0123456789abcdef", "upstream:base": "c" } };
        const d = diffArtifact({ ...olds, ...deps }, news, cargoDepsImage.inputs);
        assert.equal(d.reason, "serde +derive; tokio 1.40.0 -> 1.41.0; changed upstream:base");
        assert.deepEqual(d.replaces, ["key", "tag", 'inputs["unit:serde"]', 'inputs["unit:tokio"]', 'inputs["upstream:base"]']);
    });

    it("replaces when the artifact moves to another registry", () => {
        const d = diffArtifact(olds, { ...inputs, registry: { host: "registry.example.com", insecure: false } });
        assert.deepEqual(d.replaces, ["registry"]);
    });

    it("replaces an unchanged artifact whose tag the registry no longer has", () => {
        assert.deepEqual(diffArtifact(olds, { ...inputs, tagInRegistry: false }), { changes: true, replaces: ["tagInRegistry"], reason: "tag gone from the registry" });
        assert.deepEqual(diffArtifact(olds, { ...inputs, tagInRegistry: true }), { changes: false, replaces: [], reason: "no input changed" });
        // A key change names its inputs, whatever the registry says about the old tag.
        assert.deepEqual(diffArtifact(olds, { ...inputs, key: "c".repeat(64), tagInRegistry: false }).replaces, ["key"]);
    });

    it("updates in place when only alias tags change", () => {
        assert.deepEqual(diffArtifact(olds, { ...inputs, aliasTags: ["latest"] }), { changes: true, replaces: [], reason: "alias tags changed" });
    });
});

describe("the provider's diff without the implementation", () => {
    const cases: Array<[string, ArtifactInputs]> = [
        ["same key, moved build details", { ...inputs, build: { root: "/elsewhere" } }],
        ["new key", { ...inputs, key: "c".repeat(64), tag: "c".repeat(24) }],
        ["same key, other tag", { ...inputs, tag: "d".repeat(24) }],
        ["same key, other kind", { ...inputs, kind: "BaseImage" }],
        ["same key, other repository", { ...inputs, repository: "warmrun/other" }],
        ["other registry", { ...inputs, registry: { host: "registry.example.com", insecure: false } }],
        ["alias tags added", { ...inputs, aliasTags: ["latest"] }],
        ["tag still in the registry", { ...inputs, tagInRegistry: true }],
        ["tag gone from the registry", { ...inputs, tagInRegistry: false }],
        ["tag gone, alias tags added", { ...inputs, tagInRegistry: false, aliasTags: ["latest"] }],
    ];
    for (const [what, news] of cases) {
        it(`agrees with diffArtifact: ${what}`, () => {
            const full = diffArtifact(olds, news);
            const fast = unchangedArtifactDiff(olds, news);
            if (full.replaces.length > 0) assert.equal(fast, undefined, "a replacement is left to the implementation, which names the inputs");
            else assert.deepEqual(fast, { changes: full.changes, replaces: [], deleteBeforeReplace: false });
        });
    }
});

describe("artifact diff of a moved external image", () => {
    it("replaces, naming the image's entry, and the reason gives both digests", () => {
        const [d1, d2] = [`sha256:${"1a2b".repeat(16)}`, `sha256:${"3c4d".repeat(16)}`];
        const old: ArtifactOutputs = { ...olds, kind: "BaseImage", inputs: { "image:FROM debian:trixie": d1 } };
        const d = diffArtifact(old, { ...inputs, kind: "BaseImage", key: "c".repeat(64), inputs: { "image:FROM debian:trixie": d2 } });
        assert.ok(d.replaces.includes('inputs["image:FROM debian:trixie"]'), d.replaces.join(" "));
        assert.equal(d.reason, `FROM debian:trixie moved: ${d1} -> ${d2}`);
    });
});
