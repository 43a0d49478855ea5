// Pinning, provenance and SBOMs against a real registry (Debian's docker-registry) with real
// buildah, mke2fs and qemu-img: resolution of tags and indexes (skopeo's bytes as the oracle),
// the stack registry's credentials through the bearer-token flow, equal annotations for equal
// inputs at one commit, and a disk's SBOM read back with ORAS and checked against dpkg-query.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { dpkgQuery, pushExternalImage, rawManifest, requireBuildah, spdxDebs, unpackWithSkopeo } from "../support/external";
import { oras, orasPath } from "../support/oras";
import { requireTools } from "../support/tools";
import { pyspdxtoolsPath, validateSpdx } from "../support/spdx";
import { RegistryClient, RegistryConnection } from "../../components/oci/registry";
import { MEDIA } from "../../components/oci/manifest";
import { parseImageName } from "../../components/oci/reference";
import { registryResolver } from "../../components/images/pinning";
import { ArtifactInputs, createArtifact, LifecycleDeps } from "../../components/core/lifecycle";
import { buildModuleOf } from "../../components/core/providerImpl";
import { plan as baseImagePlan } from "../../components/kinds/baseImage/plan";
import { bundleKeyMaterial } from "../../components/kinds/fileBundle/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";
import { Provenance } from "../../components/oci/provenance";
import { listReferrers } from "../../components/oci/referrers";
import { SPDX_JSON } from "../../components/sbom/spdx";

const PROVENANCE: Provenance = { source: "https://git.example.com/acme/app.git", revision: "c0ffee".padEnd(40, "0"), created: "2026-11-30T10:00:00Z" };
const DEPS: LifecycleDeps = { kinds: buildModuleOf };

describe("pinning, provenance and SBOMs (real registry, buildah)", function () {
    this.timeout(240_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let work: string;

    before(async () => {
        requireBuildah();
        requireTools(["mke2fs", "qemu-img", "dpkg-query"]);
        orasPath();
        pyspdxtoolsPath();
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        work = tempDir("warmrun-pin-int-");
        process.env.WARMRUN_JOURNAL = path.join(work, "journal.jsonl");
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    it("resolves a tag to the manifest digest and an index to the index digest, one request per image, over plain HTTP on loopback", async () => {
        const digest = pushExternalImage(`${registry.host}/ext/os:1`, "one");
        const single = pushExternalImage(`${registry.host}/ext/multi:amd64`, "one");
        const body = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${registry.host}/ext/multi@${single}`]);
        const index = Buffer.from(
            JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ mediaType: MEDIA.ociManifest, digest: single, size: body.length, platform: { os: "linux", architecture: "amd64" } }] }),
        );
        await client.putManifest("ext/multi", "1", MEDIA.ociIndex, index);
        const raw = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${registry.host}/ext/multi:1`]);
        const indexDigest = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
        const clients: RegistryClient[] = [];
        const resolve = registryResolver({
            stackRegistry: { host: "registry.example.com", insecure: false },
            connect: (conn: RegistryConnection) => {
                const c = new RegistryClient(conn);
                clients.push(c);
                return c;
            },
        });
        assert.equal(await resolve(parseImageName(`${registry.host}/ext/os:1`)!), digest);
        assert.equal(await resolve(parseImageName(`${registry.host}/ext/multi:1`)!), indexDigest, "an index resolves to the index's digest");
        assert.equal(await resolve(parseImageName(`${registry.host}/ext/os:1`)!), digest);
        assert.equal(await resolve(parseImageName(`${registry.host}/ext/os:missing`)!), undefined);
        assert.equal(clients.length, 1, "one client per host");
        assert.equal(clients[0].conn.insecure, true, "a loopback host is asked over plain HTTP");
        assert.equal(clients[0].calls.HEAD, 3, "each image asked once");
    });

    it("images in the stack's registry are resolved with its credentials, through the bearer-token flow", async () => {
        const tokens: string[] = [];
        const server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://x");
            if (url.pathname === "/token") {
                tokens.push(req.headers.authorization ?? "-");
                const ok = req.headers.authorization === "Basic " + Buffer.from("ci:s3cret").toString("base64");
                res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
                return res.end(ok ? JSON.stringify({ token: "t" }) : "{}");
            }
            if (req.headers.authorization !== "Bearer t") {
                res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="s"` });
                return res.end();
            }
            res.writeHead(200, { "docker-content-digest": `sha256:${"e".repeat(64)}` });
            res.end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
        try {
            let asked = 0;
            const resolve = registryResolver({ stackRegistry: { host, insecure: true, username: "ci" }, password: async () => (asked++, "s3cret") });
            assert.equal(await resolve(parseImageName(`${host}/team/base:1`)!), `sha256:${"e".repeat(64)}`);
            assert.deepEqual(tokens, ["Basic " + Buffer.from("ci:s3cret").toString("base64")]);
            assert.equal(asked, 1);
        } finally {
            await new Promise<void>((r) => server.close(() => r()));
        }
    });

    async function imageInputs(name: string, repository: string, containerfile: string): Promise<ArtifactInputs> {
        const dir = path.join(work, name);
        writeTree(dir, { Containerfile: containerfile, "app.txt": "app\n" });
        const plan = await baseImagePlan({ containerfile: path.join(dir, "Containerfile") }, { name, projectRoot: dir, upstream: {}, statCache: new StatCache(), resolveImage: registryResolver({ stackRegistry: { host: registry.host, insecure: true } }) });
        const key = computeKey(plan.material);
        const base = plan.base && "name" in plan.base ? plan.base : undefined;
        return {
            name,
            kind: "BaseImage",
            key,
            registry: { host: registry.host, insecure: true },
            repository,
            tag: shortKey(key),
            aliasTags: [],
            inputs: inputSummary(plan.material),
            build: { ...plan.build, builder: "buildah" },
            provenance: { ...PROVENANCE, ...(base ? { base } : {}) },
        };
    }

    it("two builds of the same inputs at the same commit give manifests with identical annotations (an image, a bundle)", async () => {
        const ext = pushExternalImage(`${registry.host}/ext/os:2`, "two");
        const containerfile = `FROM ${registry.host}/ext/os:2\nCOPY app.txt /app.txt\n`;
        const a = await imageInputs("same", "twice/a", containerfile);
        const b = await imageInputs("same", "twice/b", containerfile);
        assert.equal(a.key, b.key);
        assert.ok(a.build.containerfileText.includes(`${registry.host}/ext/os@${ext}`), a.build.containerfileText);
        const [ma, mb] = [await createArtifact(a, DEPS), await createArtifact(b, DEPS)].map((o) => rawManifest(`${registry.host}/${o.repository}@${o.digest}`));
        assert.deepEqual(ma.annotations, mb.annotations);
        assert.equal(ma.annotations["org.opencontainers.image.base.digest"], ext);
        assert.equal(ma.annotations["org.opencontainers.image.created"], PROVENANCE.created);

        writeTree(path.join(work, "bundle"), { "a.txt": "a\n" });
        const material = await bundleKeyMaterial("b", { root: path.join(work, "bundle") }, {}, new StatCache());
        const key = computeKey(material);
        const bundle = (repository: string): ArtifactInputs => ({
            name: "b",
            kind: "FileBundle",
            key,
            registry: { host: registry.host, insecure: true },
            repository,
            tag: shortKey(key),
            aliasTags: [],
            inputs: inputSummary(material),
            build: { root: path.join(work, "bundle"), params: {}, upstream: {} },
            provenance: PROVENANCE,
        });
        const [x, y] = [await createArtifact(bundle("twice/x"), DEPS), await createArtifact(bundle("twice/y"), DEPS)];
        assert.equal(x.digest, y.digest, "a bundle's manifest is byte for byte the same");
        const m = rawManifest(`${registry.host}/twice/x@${x.digest}`);
        assert.equal(m.annotations["org.opencontainers.image.revision"], PROVENANCE.revision);
        assert.equal(m.layers[0].annotations["org.opencontainers.image.title"], "b.tar.gz");
        assert.deepEqual(await listReferrers(client, "twice/x", x.digest), [], "a bundle gets no SBOM");
    });

    it("a disk's SBOM: made once on the build, found through the referrers tag, listing what dpkg-query finds on the tree", async () => {
        const ext = pushExternalImage(`${registry.host}/ext/os:disk`, "disk");
        const key = "d".repeat(64);
        const inputs: ArtifactInputs = {
            name: "disk",
            kind: "Qcow2Image",
            key,
            registry: { host: registry.host, insecure: true },
            repository: "test/disk",
            tag: `base-qcow2-${key.slice(0, 24)}`,
            aliasTags: [],
            inputs: { "param:size": "67108864", "upstream:os": "f".repeat(64) },
            build: { sizeBytes: 64 * 2 ** 20, size: "64M", filesystem: "ext4", compression: "zstd", label: "rootfs", diskPath: "/disk/disk.qcow2", upstreamRef: `${registry.host}/ext/os@${ext}` },
            provenance: { ...PROVENANCE, base: { name: `${registry.host}/ext/os@${ext}`, digest: ext } },
        };
        const out = await createArtifact(inputs, DEPS);
        const annotations = rawManifest(`${registry.host}/test/disk@${out.digest}`).annotations;
        assert.equal(annotations["org.opencontainers.image.base.digest"], ext);
        assert.ok(annotations["dev.warmrun.disk-sha256"], "the disk's own keys stay");

        const sboms = await listReferrers(client, "test/disk", out.digest, SPDX_JSON);
        assert.equal(sboms.length, 1);
        assert.deepEqual((await client.listTags("test/disk")).sort(), [`base-qcow2-${key.slice(0, 24)}`, out.digest.replace(":", "-")].sort(), "the referrers tag of the tag-schema fallback");
        const discovered = JSON.parse(oras(["discover", "--format", "json", `${registry.host}/test/disk@${out.digest}`]));
        assert.deepEqual((discovered.referrers ?? discovered.manifests).map((r: any) => r.digest), [sboms[0].digest]);
        const dir = tempDir("warmrun-oras-");
        oras(["pull", "-o", dir, `${registry.host}/test/disk@${sboms[0].digest}`]);
        const doc = JSON.parse(fs.readFileSync(path.join(dir, "sbom.spdx.json"), "utf8"));
        assert.deepEqual(validateSpdx(doc), []);
        assert.deepEqual(spdxDebs(doc), dpkgQuery(unpackWithSkopeo(`${registry.host}/ext/os@${ext}`)));
        assert.equal(doc.creationInfo.created, PROVENANCE.created);

        const again = await createArtifact(inputs, DEPS);
        assert.equal(again.cacheHit, true);
        assert.equal((await listReferrers(client, "test/disk", out.digest, SPDX_JSON)).length, 1, "an adopted artifact keeps its SBOM; none is added");
    });
});
