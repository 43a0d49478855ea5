// The Docker builder path, for machines with a daemon: under mocks, a miss registers a
// @pulumi/docker Image that builds and pushes under the key tag; a hit registers none.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { buildStack } from "../../../components/core/stack";
import { shortKey } from "../../../components/core/keys";
import { chooseBuilder, dockerImageArgs, upstreamBuildArgs } from "../../../components/images/docker";
import { registered, resetRegistered, plain, isSecret } from "../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

function settled(stack: Awaited<ReturnType<typeof buildStack>>): Promise<unknown> {
    return Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
}

describe("Docker builder path (mocks)", () => {
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, {
            "img/Containerfile": "ARG BASE\nFROM ${BASE}\nRUN echo hi > /hi\n",
            "img/.dockerignore": "*.log\n",
            "img/app.conf": "x=1\n",
            "img/debug.log": "ignored\n",
            "up/file": "u\n",
        });
    });
    after(removeTempDirs);
    beforeEach(resetRegistered);

    function stack(lookup: (repo: string, tag: string) => Promise<string | undefined>) {
        const raw = {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:builder": "docker",
            "warmrun:cacheDir": tempDir(),
            "warmrun:registryUsername": "ci",
            "warmrun:registryPassword": "s3cret",
            "warmrun:artifacts": JSON.stringify({
                up: { kind: "FileBundle", root: "up" },
                img: { kind: "BaseImage", containerfile: "img/Containerfile", upstream: ["up"], buildArgs: { FLAVOUR: "slim" } },
            }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set(["warmrun:registryPassword"]) });
        return buildStack(config, new StatCache(), pulumi.secret("s3cret"), lookup);
    }

    it("on a miss, builds and pushes through @pulumi/docker under the key tag, with upstream refs as build args", async () => {
        const s = await stack(async () => undefined);
        await settled(s);
        await new Promise((r) => setTimeout(r, 100));
        const images = registered.filter((r) => r.type === "docker:index/image:Image");
        assert.equal(images.length, 1);
        const img = images[0].inputs;
        const key = await s.img.key;
        assert.equal(img.imageName, `127.0.0.1:5000/warmrun/img:${shortKey(key)}`);
        assert.equal(img.build.args.FLAVOUR, "slim");
        assert.equal(img.build.args.BASE, `127.0.0.1:5000/warmrun/up@sha256:${"d".repeat(64)}`);
        assert.equal(img.build.args.UPSTREAM_UP, undefined, "the Containerfile declares only ARG BASE, so UPSTREAM_UP is not passed");
        assert.ok(isSecret(img.registry), "the registry block, with its password, reaches Docker as a secret");
        const reg = plain(img.registry);
        assert.equal(reg.server, "127.0.0.1:5000");
        assert.equal(reg.username, "ci");
        assert.equal(plain(reg.password), "s3cret");
        const artifactRes = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:BaseImage")!.inputs;
        assert.ok(isSecret(artifactRes.registry), "the registry block with its password stays secret");
        const artifact = Object.fromEntries(Object.entries(artifactRes).map(([k, v]) => [k, plain(v)])) as any;
        assert.equal(artifact.build.builder, "docker");
        assert.deepEqual(artifact.build.contextFiles.map((f: any) => f.path), [".dockerignore", "Containerfile", "app.conf"], ".dockerignore applied (debug.log left out)");
        assert.ok(artifact.build.pushedDigest.endsWith(`@sha256:${"d".repeat(64)}`), "the Artifact records what Docker pushed");
    });

    it("on a hit, registers no Docker resource at all", async () => {
        const s = await stack(async (_repo: string, _tag: string) => `sha256:${"e".repeat(64)}`);
        await settled(s);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(registered.filter((r) => r.type === "docker:index/image:Image").length, 0);
    });

    it("auto picks Docker only when a daemon answers", () => {
        assert.equal(chooseBuilder("auto", () => true), "docker");
        assert.equal(chooseBuilder("auto", () => false), "buildah");
        assert.equal(chooseBuilder("buildah", () => true), "buildah");
    });

    it("maps one upstream to BASE and every upstream to UPSTREAM_<NAME>", () => {
        assert.deepEqual(upstreamBuildArgs({ "rust-base": "r@sha256:1" }), { UPSTREAM_RUST_BASE: "r@sha256:1", BASE: "r@sha256:1" });
        assert.deepEqual(upstreamBuildArgs({ a: "1", b: "2" }), { UPSTREAM_A: "1", UPSTREAM_B: "2" });
        const args = dockerImageArgs({ imageName: "h/r:t", contextDir: "/c", dockerfile: "/d", args: {}, target: "deps" }, { host: "h", namespace: "", insecure: false });
        assert.equal((args.build as any).target, "deps");
        assert.equal((args.build as any).platform, "linux/amd64");
    });
});
