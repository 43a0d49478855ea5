// CargoDepsImage's plan pins the external images of a user's own Dockerfile; the default
// Dockerfile starts FROM ${BASE} (the upstream) and asks nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { plan } from "../../../../components/kinds/cargoDepsImage/plan";
import { StatCache } from "../../../../components/core/fileset";
import { ImageName } from "../../../../components/oci/reference";
import { tempDir, removeTempDirs } from "../../../support/tmp";
import { exampleIndexCache } from "../../../support/cargoWorld";

const D1 = `sha256:${"1a2b".repeat(16)}`;
const WORKSPACE = path.join(__dirname, "..", "..", "..", "..", "examples", "rust-workspace");

describe("CargoDepsImage plan: external images", () => {
    after(removeTempDirs);

    it("a user's Dockerfile keys the digest of its FROM and is built with it pinned", async () => {
        const dir = tempDir();
        const dockerfile = path.join(dir, "Dockerfile");
        fs.writeFileSync(dockerfile, "FROM rust:1.85 AS chef\nRUN cargo install cargo-chef\n");
        const asked: string[] = [];
        const resolveImage = async (n: ImageName) => (asked.push(`${n.host}/${n.repository}:${n.tag}`), D1);
        const own = await plan({ workspace: WORKSPACE, dockerfile }, { name: "deps", where: "warmrun:artifacts.deps", projectRoot: dir, upstream: {}, statCache: new StatCache(), cacheDir: exampleIndexCache(), resolveImage });
        assert.deepEqual(own.material.images, { "FROM rust:1.85": D1 });
        assert.equal(own.build.containerfileText, `FROM docker.io/library/rust@${D1} AS chef\nRUN cargo install cargo-chef\n`);
        assert.deepEqual(own.base, { name: `docker.io/library/rust@${D1}`, digest: D1 });
        assert.deepEqual(own.messages, [`deps: FROM rust:1.85 (line 1) is ${D1}: the build uses docker.io/library/rust@${D1}`]);
        assert.deepEqual(asked, ["docker.io/library/rust:1.85"]);
    });

    it("the default Dockerfile adds nothing to the key and asks no registry; its base is the upstream", async () => {
        const dflt = await plan({ workspace: WORKSPACE }, {
            name: "deps",
            where: "warmrun:artifacts.deps",
            projectRoot: WORKSPACE,
            upstream: { base: "b".repeat(64) },
            statCache: new StatCache(),
            cacheDir: exampleIndexCache(),
            resolveImage: async () => assert.fail("nothing to resolve"),
        });
        assert.equal("images" in dflt.material, false);
        assert.equal(dflt.base, undefined, "its one upstream");
    });
});
