// BaseImage's plan: the digests of its external images enter the key, the build gets them pinned,
// the base names the external image or the upstream; pinExternalImages: false asks nothing.
import { strict as assert } from "assert";
import * as path from "path";
import { plan } from "../../../../components/kinds/baseImage/plan";
import { StatCache } from "../../../../components/core/fileset";
import { computeKey } from "../../../../components/core/keys";
import { ImageName } from "../../../../components/oci/reference";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";

const D1 = `sha256:${"1a2b".repeat(16)}`;
const D2 = `sha256:${"3c4d".repeat(16)}`;

describe("BaseImage plan: external images", () => {
    after(removeTempDirs);

    function project(containerfile: string): { root: string; file: string } {
        const root = tempDir();
        writeTree(root, { "img/Containerfile": containerfile, "img/app.txt": "app\n" });
        return { root, file: path.join(root, "img/Containerfile") };
    }

    it("keys the digest behind the tag: another digest is another key; the messages name the Containerfile's line", async () => {
        const p = project("FROM debian:trixie\nCOPY app.txt /app.txt\n");
        const at = (digest: string) => plan({ containerfile: p.file }, { name: "app", projectRoot: p.root, upstream: {}, statCache: new StatCache(), resolveImage: async () => digest });
        const [one, two] = [await at(D1), await at(D2)];
        assert.deepEqual(one.material.images, { "FROM debian:trixie": D1 });
        assert.notEqual(computeKey(one.material), computeKey(two.material));
        assert.equal(one.build.containerfileText, `FROM docker.io/library/debian@${D1}\nCOPY app.txt /app.txt\n`);
        assert.deepEqual(one.base, { name: `docker.io/library/debian@${D1}`, digest: D1 });
        assert.deepEqual(one.messages, [`app: FROM debian:trixie (line 1) is ${D1}: the build uses docker.io/library/debian@${D1}`]);
    });

    it("FROM an upstream's build argument: the base is that upstream, by name", async () => {
        const p = project("ARG UPSTREAM_ROOT_FS\nFROM ${UPSTREAM_ROOT_FS}\nCOPY --from=${UPSTREAM_TOOLS} /t /t\n");
        const r = await plan({ containerfile: p.file }, { name: "app", projectRoot: p.root, upstream: { "root-fs": "1".repeat(64), tools: "2".repeat(64) }, statCache: new StatCache(), resolveImage: async () => assert.fail("upstreams are pinned by the stack") });
        assert.deepEqual(r.base, { upstream: "root-fs" });
        assert.equal("images" in r.material, false);
    });

    it("an unresolvable image is one error naming the artifact's config key, the Containerfile and its line", async () => {
        const p = project("FROM ghcr.io/acme/gone:1\n");
        await assert.rejects(plan({ containerfile: p.file }, { name: "app", projectRoot: p.root, upstream: {}, statCache: new StatCache(), resolveImage: async () => undefined }), (e: Error) => {
            assert.equal(e.name, "WarmrunError");
            assert.match(e.message, /^warmrun:artifacts\.app: an image of img\/Containerfile cannot be pinned by digest:\n {2}- FROM ghcr\.io\/acme\/gone:1 \(img\/Containerfile line 1\) cannot be resolved: ghcr\.io\/acme\/gone has no tag 1\n/);
            return true;
        });
    });

    it("pinExternalImages: false keys the text alone and builds it as written (unsafe)", async () => {
        const p = project("FROM debian:trixie\n");
        const r = await plan({ containerfile: p.file, pinExternalImages: false }, { name: "app", projectRoot: p.root, upstream: {}, statCache: new StatCache(), resolveImage: async () => assert.fail("nothing is asked") });
        assert.equal("images" in r.material, false);
        assert.equal(r.build.containerfileText, "FROM debian:trixie\n");
        assert.equal(r.base, null);
    });
});
