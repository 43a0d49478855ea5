// What core/publish.ts gives every Artifact under Pulumi's mocks: the checkout's provenance, based
// on the one upstream or on what an image's Containerfile starts from; external images resolved
// once, through the stack's resolver, and the plan's lines logged.
import { strict as assert } from "assert";
import { validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { buildStack } from "../../../components/core/stack";
import { CheckArgs, requireToolsOnMiss } from "../../../components/core/publish";
import { ImageName } from "../../../components/oci/reference";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";
import { registered, resetRegistered, plain } from "../../support/mocks";

const MOCK_DIGEST = `sha256:${"d".repeat(64)}`;
const EXT = `sha256:${"9".repeat(64)}`;

describe("provenance of every Artifact (mocks)", () => {
    after(removeTempDirs);
    beforeEach(resetRegistered);

    it("each Artifact carries the checkout's provenance and its base; images resolve their external FROM once", async () => {
        const project = tempDir();
        writeTree(project, {
            "os/etc": "x\n",
            "ext/Containerfile": "FROM debian:trixie\nCOPY f /f\n",
            "ext/f": "f\n",
            "up/Containerfile": "ARG BASE\nFROM ${BASE}\n",
            "two/Containerfile": "FROM debian:trixie\nCOPY --from=${UPSTREAM_OS} /etc /etc\n",
        });
        const raw = {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:builder": "buildah",
            "warmrun:cacheDir": tempDir(),
            "warmrun:artifacts": JSON.stringify({
                os: { kind: "FileBundle", root: "os" },
                notes: { kind: "FileBundle", root: "os", upstream: ["os"] },
                ext: { kind: "BaseImage", containerfile: "ext/Containerfile" },
                up: { kind: "BaseImage", containerfile: "up/Containerfile", upstream: ["os"] },
                two: { kind: "BaseImage", containerfile: "two/Containerfile", upstream: ["os"] },
            }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set() });
        const git = { clean: true, branch: "main", commit: "a".repeat(40), shortCommit: "aaaaaaa", remote: "https://git.example.com/acme/app.git", commitTime: "2026-11-30T10:00:00Z" };
        const asked: string[] = [];
        const resolve = async (n: ImageName) => (asked.push(`${n.host}/${n.repository}:${n.tag}`), EXT);
        const stack = await buildStack(config, new StatCache(), undefined, async () => undefined, git, project, resolve);
        await Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
        const inputs = Object.fromEntries(registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/warmrun:")).map((r) => [r.name, r.inputs]));
        const common = { source: git.remote, revision: git.commit, created: git.commitTime };
        const os = { name: `127.0.0.1:5000/warmrun/os@${MOCK_DIGEST}`, digest: MOCK_DIGEST };
        const debian = { name: `docker.io/library/debian@${EXT}`, digest: EXT };
        assert.deepEqual(plain(inputs.os.provenance), common, "no upstream, no base");
        assert.deepEqual(plain(inputs.notes.provenance), { ...common, base: os }, "the one upstream");
        assert.deepEqual(plain(inputs.ext.provenance), { ...common, base: debian });
        assert.deepEqual(plain(inputs.up.provenance), { ...common, base: os }, "FROM ${BASE}: the upstream");
        assert.deepEqual(plain(inputs.two.provenance), { ...common, base: debian }, "FROM an external image, an upstream copied from: the image");
        assert.equal(inputs.ext.inputs["image:FROM debian:trixie"], EXT);
        assert.equal(plain(inputs.ext.build).containerfileText, `FROM docker.io/library/debian@${EXT}\nCOPY f /f\n`);
        assert.deepEqual(Object.keys(inputs.up.inputs).filter((k) => k.startsWith("image:")), []);
        assert.deepEqual(asked, ["docker.io/library/debian:trixie"], "asked once for the stack");
    });
});

describe("a build tool missing on a miss (requireToolsOnMiss)", () => {
    after(removeTempDirs);
    const args = (hit: boolean): CheckArgs => ({ spec: { name: "disk" }, publication: { hit, ref: "127.0.0.1:5000/w/disk:abc" } }) as unknown as CheckArgs;

    it("names the artifact, the tool and the fix on a miss; a hit needs no tool", () => {
        assert.throws(
            () => requireToolsOnMiss(args(false), ["warmrun-no-such-tool"], "install it"),
            /^WarmrunError: warmrun:artifacts\.disk: 127\.0\.0\.1:5000\/w\/disk:abc is not in the registry, so `pulumi up` builds it with warmrun-no-such-tool, which is not installed \(not on PATH\): install it$/,
        );
        assert.doesNotThrow(() => requireToolsOnMiss(args(true), ["warmrun-no-such-tool"]));
    });
});
