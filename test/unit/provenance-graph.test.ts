// Provenance and pinning in the component graph under Pulumi's mocks: every Artifact gets the
// checkout's provenance, the base is the one upstream's pinned reference or, for an image, what
// its Containerfile starts from; external images are resolved once, through the stack's resolver.
import { strict as assert } from "assert";
import { validateConfig } from "../../components/config";
import { StatCache } from "../../components/fileset";
import { buildStack } from "../../components/stack";
import { ImageName } from "../../components/images/pinning";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { registered, resetRegistered, plain } from "../support/mocks";

const MOCK_DIGEST = `sha256:${"d".repeat(64)}`;
const EXT = `sha256:${"9".repeat(64)}`;

describe("provenance and pinning in the graph (mocks)", () => {
    after(removeTempDirs);
    beforeEach(resetRegistered);

    it("each Artifact carries the checkout's provenance and its base; images resolve their external FROM once", async () => {
        const project = tempDir();
        writeTree(project, {
            "os/etc": "x\n",
            "ext/Containerfile": "FROM debian:trixie\nCOPY f /f\n",
            "ext/f": "f\n",
            "up/Containerfile": "ARG BASE\nFROM ${BASE}\n",
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
            }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set() });
        const git = { clean: true, branch: "main", commit: "a".repeat(40), shortCommit: "aaaaaaa", remote: "https://git.example.com/acme/app.git", commitTime: "2026-11-30T10:00:00Z" };
        const asked: string[] = [];
        const resolve = async (n: ImageName) => (asked.push(`${n.host}/${n.repository}:${n.tag}`), EXT);
        const stack = buildStack(config, new StatCache(), undefined, async () => undefined, git, resolve);
        await Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
        const inputs = Object.fromEntries(registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/warmrun:")).map((r) => [r.name, r.inputs]));
        const common = { source: git.remote, revision: git.commit, created: git.commitTime };
        assert.deepEqual(plain(inputs.os.provenance), common, "no upstream, no base");
        assert.deepEqual(plain(inputs.notes.provenance), { ...common, base: { name: `127.0.0.1:5000/warmrun/os@${MOCK_DIGEST}`, digest: MOCK_DIGEST } });
        assert.deepEqual(plain(inputs.ext.provenance), { ...common, base: { name: `docker.io/library/debian@${EXT}`, digest: EXT } });
        assert.deepEqual(plain(inputs.up.provenance).base, { name: `127.0.0.1:5000/warmrun/os@${MOCK_DIGEST}`, digest: MOCK_DIGEST }, "FROM ${BASE}: the upstream");
        assert.equal(inputs.ext.inputs["image:FROM debian:trixie"], EXT);
        assert.equal(plain(inputs.ext.build).containerfileText, `FROM docker.io/library/debian@${EXT}\nCOPY f /f\n`);
        assert.equal(inputs.up.inputs["image:FROM ${BASE}"], undefined);
        assert.deepEqual(asked, ["docker.io/library/debian:trixie"]);
    });
});
