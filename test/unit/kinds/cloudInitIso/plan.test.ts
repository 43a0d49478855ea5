// CloudInitIso's plan: the key and the inputs stored in state hold digests, never the seed's content.
import { strict as assert } from "assert";
import { renderSeed } from "../../../../components/kinds/cloudInitIso/seed";
import { seedKeyMaterial } from "../../../../components/kinds/cloudInitIso/plan";
import { inputSummary } from "../../../../components/core/keys";
import { SEED } from "../../../support/seed";

describe("CloudInitIso plan", () => {
    it("the key and the inputs stored in state hold digests, never the content", () => {
        const r = renderSeed(SEED);
        const summary = JSON.stringify(inputSummary(seedKeyMaterial(r, [], {})));
        assert.ok(!summary.includes("KEY") && !summary.includes("CERT"), summary);
    });
});
