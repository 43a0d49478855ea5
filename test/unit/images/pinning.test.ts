// External images pinned by digest: every image a Containerfile builds from that is not a stack
// upstream is resolved, keyed and rewritten to name@digest; what cannot be resolved is one error.
import { strict as assert } from "assert";
import { pinContainerfile, PinRequest, registryResolver } from "../../../components/images/pinning";
import { ImageName } from "../../../components/oci/reference";
import { freePort } from "../../support/registry";

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
                assert.match(e.message, /^warmrun:artifacts\.app: 2 images of images\/app\/Containerfile cannot be pinned by digest:/);
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

    it("an external registry that wants credentials says whether any were found for it and how to log in", async () => {
        const failing = (message: string) => registryResolver({ stackRegistry: { host: "127.0.0.1:5000", insecure: true }, connect: () => ({ resolveTag: async () => { throw new Error(message); } }) as any });
        const none = failing("registry ghcr.io refused HEAD /v2/acme/base/manifests/1 (401), and no credentials for it were found: set warmrun:registryUsername ...");
        await assert.rejects(pinContainerfile(request("FROM ghcr.io/acme/base:1\n", { resolve: none })), (e: Error) => {
            assert.match(e.message, /registry ghcr\.io wants credentials, and none were found for it: log in to it \(`docker login ghcr\.io` or `podman login ghcr\.io`\), copy the image into 127\.0\.0\.1:5000, or write it with its digest/);
            assert.doesNotMatch(e.message, /warmrun:registryUsername/, "the stack's settings do not apply to another registry");
            return true;
        });
        const rejected = failing("registry ghcr.io refused a token (401) for repository:acme/base:pull: the credentials from ~/.docker/config.json (auths[\"ghcr.io\"]) were rejected: log in again");
        await assert.rejects(pinContainerfile(request("FROM ghcr.io/acme/base:1\n", { resolve: rejected })), /wants credentials and rejected those from ~\/\.docker\/config\.json \(auths\["ghcr\.io"\]\): log in to it/);
    });

    it("pinExternalImages false: nothing is resolved, the text stays, no key entry", async () => {
        const asked: string[] = [];
        const pin = await pinContainerfile(request("FROM debian:trixie\n", { pin: false, resolve: resolverOf({}, asked) }));
        assert.deepEqual([pin.text, pin.images, asked, pin.base], ["FROM debian:trixie\n", {}, [], null], "an unpinned base is not named");
    });
});
