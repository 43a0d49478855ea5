// External images pinned by digest: the Containerfile analysis (stages, ARG substitution, line
// continuations, COPY --from), the rewrite, reference parsing, the key entries and their reasons.
import { strict as assert } from "assert";
import { analyzeContainerfile, baseOf, substitute } from "../../components/images/containerfile";
import { ImageName, parseImageName, pinContainerfile, PinRequest, registryResolver, resolveBase } from "../../components/images/pinning";
import { computeKey, describeInputChanges, diffInputs, inputSummary, KeyMaterial } from "../../components/keys";
import { describeReasons } from "../../components/cacheReport";
import { diffArtifact } from "../../components/lifecycle";
import { freePort } from "../support/registry";
import * as fs from "fs";
import * as path from "path";
import { cargoDepsPlan } from "../../components/cargoDepsImage";
import { StatCache } from "../../components/fileset";
import { tempDir, removeTempDirs } from "../support/tmp";

const D1 = `sha256:${"1a2b".repeat(16)}`;
const D2 = `sha256:${"3c4d".repeat(16)}`;

function resolverOf(table: Record<string, string>, asked: string[] = []) {
    return async (n: ImageName) => {
        const ref = `${n.host}/${n.repository}:${n.tag ?? "latest"}`;
        asked.push(ref);
        return table[ref];
    };
}

function request(text: string, more: Partial<PinRequest> = {}): PinRequest {
    return { artifact: "app", containerfile: "images/app/Containerfile", text, buildArgs: {}, upstreamArgs: [], pin: true, resolve: resolverOf({}), ...more };
}

describe("Containerfile analysis", () => {
    it("finds each stage's FROM and every COPY --from image, skipping stages, stage indexes and scratch", () => {
        const text = [
            "FROM golang:1.22 AS Build", // 1
            "RUN go build",
            "FROM build AS test", // 3
            "COPY --from=0 /a /a",
            "COPY --from=BUILD /b /b",
            "COPY --from=busybox:1.36 /bin/busybox /bin/busybox", // 6
            "FROM scratch", // 7
            "COPY --from=test /c /c",
            "",
        ].join("\n");
        const found = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
        assert.deepEqual(found.images.map((m) => [m.use, m.value, m.line]), [
            ["FROM", "golang:1.22", 1],
            ["COPY --from", "busybox:1.36", 6],
        ]);
        assert.deepEqual(found.stages.map((s) => [s.name, s.line, Object.keys(s.from)[0]]), [
            ["build", 1, "image"],
            ["test", 3, "stage"],
            [undefined, 7, "scratch"],
        ]);
        assert.equal(baseOf(found.stages), undefined, "the last stage is scratch");
        assert.equal(baseOf(found.stages, "test")?.value, "golang:1.22", "test is built on build, which is FROM golang");
    });

    it("substitutes ARG defaults and build args in FROM (global ARGs only) and COPY --from (the stage's ARGs too)", () => {
        const text = [
            "ARG REGISTRY=docker.io",
            "ARG SUITE",
            "ARG FLAVOUR=slim",
            "FROM ${REGISTRY}/library/debian:${SUITE:-bookworm}-$FLAVOUR",
            "ARG TOOL=busybox",
            "ARG REGISTRY",
            "COPY --from=${REGISTRY}/library/${TOOL}:1 /x /x",
            "",
        ].join("\n");
        const dflt = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
        assert.deepEqual(dflt.images.map((m) => m.value), ["docker.io/library/debian:bookworm-slim", "docker.io/library/busybox:1"]);
        const given = analyzeContainerfile(text, { buildArgs: { SUITE: "trixie", TOOL: "alpine", UNDECLARED: "x" }, upstreamArgs: [] });
        assert.deepEqual(given.images.map((m) => m.value), ["docker.io/library/debian:trixie-slim", "docker.io/library/alpine:1"]);
        assert.deepEqual(given.images[0].variables, ["REGISTRY", "SUITE", "FLAVOUR"]);
    });

    it("a build arg declared only after the first FROM does not reach a FROM", () => {
        const found = analyzeContainerfile("FROM debian:${SUITE}\nARG SUITE=trixie\n", { buildArgs: { SUITE: "trixie" }, upstreamArgs: [] });
        assert.equal(found.images[0].value, undefined);
        assert.deepEqual(found.images[0].unset, ["SUITE"]);
    });

    it("reads an image name continued over lines, with flags, and gives the line the name is on", () => {
        const text = "# syntax=docker/dockerfile:1\nFROM --platform=linux/amd64 \\\n    registry.example.com/base/os:1 \\\n    AS os\nRUN true\n";
        const [m] = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] }).images;
        assert.equal(m.value, "registry.example.com/base/os:1");
        assert.equal(m.line, 3);
        assert.equal(text.slice(m.start, m.end), "registry.example.com/base/os:1");
    });

    it("marks images written through an upstream's build arg", () => {
        const found = analyzeContainerfile("ARG BASE\nFROM ${BASE}\nCOPY --from=${UPSTREAM_TOOLS} /t /t\n", { buildArgs: { BASE: "x@sha256:0", UPSTREAM_TOOLS: "y" }, upstreamArgs: ["BASE", "UPSTREAM_TOOLS"] });
        assert.deepEqual(found.images.map((m) => m.upstreamArg), ["BASE", "UPSTREAM_TOOLS"]);
    });

    it("substitutes the modifier forms", () => {
        const v = (name: string) => ({ SET: "a", EMPTY: "" } as Record<string, string>)[name];
        assert.equal(substitute("${SET:-b}${UNSET:-c}${EMPTY:-d}${EMPTY-e}${SET:+f}${UNSET:+g}${UNSET+h}$SET", v).value, "acdfa");
        assert.deepEqual(substitute("${UNSET}x", v).unset, ["UNSET"]);
    });
});

describe("image references", () => {
    it("reads names the way Docker and buildah do", () => {
        assert.deepEqual(parseImageName("debian:trixie"), { host: "docker.io", repository: "library/debian", tag: "trixie" });
        assert.deepEqual(parseImageName("acme/tool"), { host: "docker.io", repository: "acme/tool" });
        assert.deepEqual(parseImageName("127.0.0.1:5000/ext/base:v1"), { host: "127.0.0.1:5000", repository: "ext/base", tag: "v1" });
        assert.deepEqual(parseImageName("localhost/x"), { host: "localhost", repository: "x" });
        assert.deepEqual(parseImageName(`ghcr.io/a/b:1@${D1}`), { host: "ghcr.io", repository: "a/b", tag: "1", digest: D1 });
        assert.equal(parseImageName("Debian:trixie"), undefined, "upper case is not a repository");
        assert.equal(parseImageName("debian@sha256:abc"), undefined, "not a digest");
    });
});

describe("pinning a Containerfile", () => {
    it("rewrites each external image to name@digest, byte for byte elsewhere, and keys the digests", async () => {
        const text = "ARG SUITE=trixie\nFROM debian:${SUITE} AS os\nCOPY --from=busybox:1.36 \\\n  /bin/busybox /bb\nFROM os\n";
        const asked: string[] = [];
        const pin = await pinContainerfile(request(text, { resolve: resolverOf({ "docker.io/library/debian:trixie": D1, "docker.io/library/busybox:1.36": D2 }, asked) }));
        assert.equal(pin.text, `ARG SUITE=trixie\nFROM docker.io/library/debian@${D1} AS os\nCOPY --from=docker.io/library/busybox@${D2} \\\n  /bin/busybox /bb\nFROM os\n`);
        assert.deepEqual(pin.images, { "FROM debian:trixie": D1, "COPY --from busybox:1.36": D2 });
        assert.deepEqual(pin.base, { name: `docker.io/library/debian@${D1}`, digest: D1 });
        assert.deepEqual(asked.sort(), ["docker.io/library/busybox:1.36", "docker.io/library/debian:trixie"]);
    });

    it("build args choose the image that is resolved", async () => {
        const pin = await pinContainerfile(request("ARG SUITE=trixie\nFROM debian:${SUITE}\n", { buildArgs: { SUITE: "bookworm" }, resolve: resolverOf({ "docker.io/library/debian:bookworm": D2 }) }));
        assert.deepEqual(pin.images, { "FROM debian:bookworm": D2 });
    });

    it("leaves upstreams, scratch and images written with a digest as they are, and resolves none of them", async () => {
        const text = `ARG BASE\nFROM \${BASE}\nCOPY --from=ghcr.io/acme/tools@${D1} /t /t\nFROM scratch\nCOPY --from=0 / /\n`;
        const asked: string[] = [];
        const pin = await pinContainerfile(request(text, { upstreamArgs: ["BASE"], resolve: resolverOf({}, asked) }));
        assert.equal(pin.text, text);
        assert.deepEqual(pin.images, {});
        assert.deepEqual(asked, []);
        assert.deepEqual(pin.pinned.map((p) => [p.ref, p.givenDigest]), [[`ghcr.io/acme/tools@${D1}`, true]]);
        assert.equal(pin.base, null, "the target stage is scratch");
        const onUpstream = await pinContainerfile(request("ARG BASE\nFROM ${BASE}\n", { upstreamArgs: ["BASE"] }));
        assert.deepEqual(onUpstream.base, { upstreamArg: "BASE" });
        assert.deepEqual(resolveBase(onUpstream.base, { BASE: `127.0.0.1:5000/w/os@${D2}` }), { name: `127.0.0.1:5000/w/os@${D2}`, digest: D2 });
    });

    it("a user's build arg named BASE is not an upstream: its image is resolved", async () => {
        const pin = await pinContainerfile(request("ARG BASE\nFROM ${BASE}\n", { upstreamArgs: ["BASE"], buildArgs: { BASE: "debian:trixie" }, resolve: resolverOf({ "docker.io/library/debian:trixie": D1 }) }));
        assert.deepEqual(pin.images, { "FROM debian:trixie": D1 });
    });

    it("an image that cannot be resolved is one error naming the artifact, the Containerfile, the line and the fix", async () => {
        const text = "FROM debian:trixie\nFROM ghcr.io/acme/gone:1\nCOPY --from=${TOOLS} /t /t\n";
        await assert.rejects(
            pinContainerfile(request(text, { resolve: async (n) => (n.repository === "library/debian" ? D1 : undefined) })),
            (e: Error) => {
                assert.equal(e.name, "WarmrunError");
                assert.match(e.message, /^app: 2 images of images\/app\/Containerfile cannot be pinned by digest:/);
                assert.match(e.message, /FROM ghcr\.io\/acme\/gone:1 \(images\/app\/Containerfile line 2\) cannot be resolved: ghcr\.io\/acme\/gone has no tag 1/);
                assert.match(e.message, /COPY --from \$\{TOOLS\} \(images\/app\/Containerfile line 3\): TOOLS has no value: declare a default \(ARG TOOLS=\.\.\.\) or set warmrun:artifacts\.app\.buildArgs\.TOOLS/);
                assert.match(e.message, /warmrun:artifacts\.app\.pinExternalImages: false/);
                return true;
            },
        );
        await assert.rejects(pinContainerfile(request("FROM debian:trixie\n", { resolve: async () => { throw new Error("registry docker.io is unreachable (ENOTFOUND)"); } })), /line 1\) cannot be resolved: registry docker\.io is unreachable/);
    });

    it("an external registry that does not answer is named as such, without advice about warmrun:registry", async () => {
        const host = `127.0.0.1:${await freePort()}`;
        const resolve = registryResolver({ stackRegistry: { host: "127.0.0.1:5000", insecure: true } });
        await assert.rejects(pinContainerfile(request(`FROM ${host}/ext/base:1\n`, { resolve })), (e: Error) => {
            assert.ok(e.message.includes(`FROM ${host}/ext/base:1 (images/app/Containerfile line 1) cannot be resolved: registry ${host} is unreachable (ECONNREFUSED)`), e.message);
            assert.doesNotMatch(e.message, /npm run registry/);
            return true;
        });
    });

    it("pinExternalImages false: nothing is resolved, the text stays, no key entry", async () => {
        const asked: string[] = [];
        const pin = await pinContainerfile(request("FROM debian:trixie\n", { pin: false, resolve: resolverOf({}, asked) }));
        assert.deepEqual([pin.text, pin.images, asked], ["FROM debian:trixie\n", {}, []]);
    });
});

describe("external images in the key", () => {
    const material = (images?: Record<string, string>): KeyMaterial => ({ kind: "BaseImage", recipeVersion: 1, files: [], params: {}, upstream: {}, ...(images ? { images } : {}) });

    it("a key without external images is the key it always was; a moved digest moves the key", () => {
        assert.equal(computeKey(material()), computeKey({ ...material(), images: undefined }));
        assert.notEqual(computeKey(material({ "FROM debian:trixie": D1 })), computeKey(material()));
        assert.notEqual(computeKey(material({ "FROM debian:trixie": D1 })), computeKey(material({ "FROM debian:trixie": D2 })));
    });

    it("the diff and the cache report name the moved image and both digests", () => {
        const olds = inputSummary(material({ "FROM debian:trixie": D1 }));
        const news = inputSummary(material({ "FROM debian:trixie": D2 }));
        assert.deepEqual(olds, { "image:FROM debian:trixie": D1 });
        const reason = `FROM debian:trixie moved: ${D1} -> ${D2}`;
        assert.equal(describeInputChanges(diffInputs(olds, news), olds, news), reason);
        assert.deepEqual(describeReasons(olds, news), [reason]);
        const d = diffArtifact({ key: "k1", kind: "BaseImage", repository: "r", tag: "t", registry: { host: "h" }, inputs: olds } as any, { key: "k2", kind: "BaseImage", repository: "r", tag: "t", registry: { host: "h" }, inputs: news, aliasTags: [] } as any);
        assert.ok(d.replaces.includes('inputs["image:FROM debian:trixie"]'), d.replaces.join(" "));
        assert.equal(d.reason, reason);
    });
});

describe("image kinds pin their external images", () => {
    after(removeTempDirs);
    it("a CargoDepsImage with its own Dockerfile keys the digest of its FROM; the default Dockerfile (FROM ${BASE}) adds nothing", async () => {
        const dir = tempDir();
        const dockerfile = path.join(dir, "Dockerfile");
        fs.writeFileSync(dockerfile, "FROM rust:1.85 AS chef\nRUN cargo install cargo-chef\n");
        const workspace = path.join(__dirname, "../../examples/rust-workspace");
        const args: any = { statCache: new StatCache(), spec: { name: "deps", upstream: [] }, resolveImage: resolverOf({ "docker.io/library/rust:1.85": D1 }) };
        const own = await cargoDepsPlan({ workspace, dockerfile }, {}, args);
        assert.deepEqual(own.material.images, { "FROM rust:1.85": D1 });
        assert.ok(own.spec.containerfileText.startsWith(`FROM docker.io/library/rust@${D1} AS chef\n`));
        const dflt = await cargoDepsPlan({ workspace }, { base: "b".repeat(64) }, { ...args, resolveImage: async () => assert.fail("nothing to resolve") });
        assert.equal(dflt.material.images, undefined);
        assert.deepEqual(dflt.spec.base, { upstreamArg: "BASE" });
    });
});
