// CloudInitIso's plan: the key and the inputs stored in state hold digests, never the seed's content.
import { strict as assert } from "assert";
import { renderSeed } from "../../../../components/kinds/cloudInitIso/seed";
import { seedInputs, seedKeyMaterial } from "../../../../components/kinds/cloudInitIso/plan";
import { inputSummary } from "../../../../components/core/keys";
import { SEED } from "../../../support/seed";

describe("CloudInitIso plan", () => {
    it("the key and the inputs stored in state hold digests, never the content", () => {
        const r = renderSeed(SEED);
        const summary = JSON.stringify(inputSummary(seedKeyMaterial(r, [], {})));
        assert.ok(!summary.includes("KEY") && !summary.includes("CERT"), summary);
    });

    it("packages are names (with an optional =version); an option, a path or a URL is an error naming the field", async () => {
        const inputs = (packages: string[]) => seedInputs("seed", { packages }, "/p", async () => []);
        assert.deepEqual((await inputs(["curl", "podman=5.4.2+ds1-2"])).packages, ["curl", "podman=5.4.2+ds1-2"]);
        assert.equal((await inputs([])).packages, undefined);
        for (const bad of ["-y", "/tmp/x.deb", "https://example.com/x.rpm"]) {
            await assert.rejects(inputs(["curl", bad]), new RegExp(`warmrun:artifacts\\.seed\\.packages: "${bad.replace(/[./+]/g, "\\$&")}" is not a package name`));
        }
    });
});
