// The Docker builder path, for machines with a daemon: under mocks, a miss registers a
// @pulumi/docker-build Image that builds and pushes under the key tag, with the registry as its
// layer cache; a hit registers none.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { buildStack } from "../../../components/core/stack";
import { shortKey } from "../../../components/core/keys";
import { chooseBuilder, dockerImageArgs, upstreamBuildArgs } from "../../../components/images/docker";
import { registered, resetRegistered, plain, isSecret } from "../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

const DOCKER_IMAGE = "docker-build:index:Image";

function settled(stack: Awaited<ReturnType<typeof buildStack>>): Promise<unknown> {
    return Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
}

describe("Docker builder path (mocks)", function () {
    this.timeout(20_000); // the first test loads @pulumi/docker-build
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

    it("on a miss, builds and pushes through @pulumi/docker-build under the key tag, with upstream refs as build args", async () => {
        const s = await stack(async () => undefined);
        await settled(s);
        await new Promise((r) => setTimeout(r, 100));
        const images = registered.filter((r) => r.type === DOCKER_IMAGE);
        assert.equal(images.length, 1);
        const img = images[0].inputs;
        const key = await s.img.key;
        assert.deepEqual(img.tags, [`127.0.0.1:5000/warmrun/img:${shortKey(key)}`]);
        assert.equal(img.push, true);
        assert.equal(img.buildArgs.FLAVOUR, "slim");
        assert.equal(img.buildArgs.BASE, `127.0.0.1:5000/warmrun/up@sha256:${"d".repeat(64)}`);
        assert.equal(img.buildArgs.UPSTREAM_UP, undefined, "the Containerfile declares only ARG BASE, so UPSTREAM_UP is not passed");
        const registries = plain(img.registries);
        assert.equal(registries.length, 1);
        const reg = plain(registries[0]);
        assert.equal(reg.address, "127.0.0.1:5000");
        assert.equal(plain(reg.username), "ci");
        assert.ok(isSecret(img.registries) || isSecret(registries[0]) || isSecret(reg.password), "the password reaches Docker as a secret");
        assert.equal(plain(plain(reg.password)), "s3cret");
        const artifactRes = registered.find((r) => r.type === "pulumi-nodejs:dynamic/warmrun:BaseImage")!.inputs;
        assert.ok(isSecret(artifactRes.registry), "the registry block with its password stays secret");
        const artifact = Object.fromEntries(Object.entries(artifactRes).map(([k, v]) => [k, plain(v)])) as any;
        assert.equal(artifact.build.builder, "docker");
        assert.deepEqual(artifact.build.contextFiles.map((f: any) => f.path), [".dockerignore", "Containerfile", "app.conf"], ".dockerignore applied (debug.log left out)");
        assert.equal(artifact.build.pushedDigest, `sha256:${"d".repeat(64)}`, "the Artifact records what Docker pushed");
    });

    it("a BaseImage miss imports and exports its steps through a registry cache under its own repository", async () => {
        const asked: string[] = [];
        const s = await stack(async (repo: string, tag: string) => {
            asked.push(`${repo}:${tag}`);
            return undefined;
        });
        await settled(s);
        await new Promise((r) => setTimeout(r, 100));
        const img = registered.find((r) => r.type === DOCKER_IMAGE)!.inputs;
        const ref = "127.0.0.1:5000/warmrun/img/cache:buildkit";
        assert.deepEqual(plain(img.cacheFrom), [{ registry: { ref } }]);
        assert.deepEqual(plain(img.cacheTo), [{ registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true, ignoreError: true } }]);
        // The cache never decides a hit: only the key tags are looked up, never the cache.
        const key = await s.img.key;
        assert.ok(asked.includes(`warmrun/img:${shortKey(key)}`), asked.join(", "));
        assert.deepEqual(asked.filter((a) => a.includes("/cache")), []);
    });

    it("on a hit, registers no Docker resource at all", async () => {
        const s = await stack(async (_repo: string, _tag: string) => `sha256:${"e".repeat(64)}`);
        await settled(s);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(registered.filter((r) => r.type === DOCKER_IMAGE).length, 0);
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
        assert.equal(args.target, "deps");
        assert.deepEqual(args.platforms, ["linux/amd64"]);
        assert.equal(args.cacheFrom, undefined, "no layer cache unless the kind asks for one");
    });
});
