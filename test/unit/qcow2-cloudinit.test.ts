// Pure parts of Qcow2Image, the qcow2 cache CLI and CloudInitIso.
import { strict as assert } from "assert";
import YAML from "yaml";
import { whiteoutsOf, qemuImgConvertArgs, containerDiskEntries, mke2fsArgs, uuidFromKey, commandLine } from "../../components/kinds/qcow2Image/build";
import { parseSize, qcow2Problems } from "../../components/kinds/qcow2Image/fields";
import { qcow2KeyMaterial, qcow2AliasTags, Qcow2BuildSpec } from "../../components/kinds/qcow2Image/plan";
import { parseReference } from "../../components/oci/reference";
import { isDiskEntry, progressLine } from "../../components/kinds/qcow2Image/cache";
import { renderSeed, mergeUserData, parseExtraUserData, SeedInputs } from "../../components/kinds/cloudInitIso/seed";
import { xorrisoArgs } from "../../components/kinds/cloudInitIso/build";
import { seedKeyMaterial } from "../../components/kinds/cloudInitIso/plan";
import { computeKey, inputSummary } from "../../components/core/keys";
import { validateConfig, ConfigError } from "../../components/core/config";
import { parseArgs } from "../../scripts/qcow2";

const SPEC: Qcow2BuildSpec = { sizeBytes: 2 ** 31, size: "2G", filesystem: "ext4", compression: "zstd", label: "rootfs", diskPath: "/disk/disk.qcow2" };

describe("Qcow2Image (pure parts)", () => {
    it("parses sizes in binary units and rejects nonsense", () => {
        assert.equal(parseSize("2G"), 2 * 2 ** 30);
        assert.equal(parseSize("512M"), 512 * 2 ** 20);
        assert.equal(parseSize("1536MiB"), 1536 * 2 ** 20);
        assert.equal(parseSize("4096"), 4096);
        for (const bad of ["", "big", "-1G", "0", "2X"]) assert.equal(parseSize(bad), undefined, bad);
    });

    it("finds OCI whiteouts and opaque directories in a layer's names", () => {
        assert.deepEqual(whiteoutsOf(["./etc/.wh.old", "opt/dir/.wh..wh..opq", ".wh.top", "usr/bin/", "usr/bin/tool"]), { remove: ["etc/old", "top"], opaque: ["opt/dir"] });
    });

    it("converts with zstd, zlib or no compression", () => {
        assert.deepEqual(qemuImgConvertArgs("zstd", "r", "q"), ["convert", "-f", "raw", "-O", "qcow2", "-c", "-o", "compression_type=zstd", "r", "q"]);
        assert.deepEqual(qemuImgConvertArgs("zlib", "r", "q").slice(5, 8), ["-c", "-o", "compression_type=zlib"]);
        assert.deepEqual(qemuImgConvertArgs("none", "r", "q"), ["convert", "-f", "raw", "-O", "qcow2", "r", "q"]);
    });

    it("mke2fs gets a UUID and hash seed from the key, and populates from the tree", () => {
        const args = mke2fsArgs(SPEC, "k".repeat(64), "/root-tree", "disk.raw");
        assert.equal(args[args.indexOf("-U") + 1], uuidFromKey("k".repeat(64), "fs"));
        assert.match(uuidFromKey("k".repeat(64), "fs"), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.notEqual(uuidFromKey("a", "fs"), uuidFromKey("b", "fs"));
        assert.deepEqual(args.slice(-3), ["-d", "/root-tree", "disk.raw"]);
    });

    it("containerDisk entries: every parent directory, then the disk", () => {
        assert.deepEqual(containerDiskEntries("/disk/disk.qcow2"), { dirs: ["disk/"], file: "disk/disk.qcow2" });
        assert.deepEqual(containerDiskEntries("/a/b/c.qcow2"), { dirs: ["a/", "a/b/"], file: "a/b/c.qcow2" });
    });

    it("the key changes with each disk option and the upstream, not with where the project is", async () => {
        const base = await qcow2KeyMaterial(SPEC, {}, { rootfs: "u1" }, "/one");
        const moved = await qcow2KeyMaterial(SPEC, {}, { rootfs: "u1" }, "/two");
        assert.equal(computeKey(base), computeKey(moved));
        const keys = new Set([computeKey(base)]);
        for (const change of [{ sizeBytes: 2 ** 30 }, { compression: "zlib" as const }, { filesystem: "ext3" }, { diskPath: "/qcow2/disk.qcow2" }, { label: "x" }]) {
            keys.add(computeKey(await qcow2KeyMaterial({ ...SPEC, ...change }, {}, { rootfs: "u1" }, "/one")));
        }
        keys.add(computeKey(await qcow2KeyMaterial(SPEC, {}, { rootfs: "u2" }, "/one")));
        keys.add(computeKey(await qcow2KeyMaterial({ ...SPEC, command: ["bib", "{output}"] }, {}, { rootfs: "u1" }, "/one")));
        assert.equal(keys.size, 8);
        assert.deepEqual(Object.keys(inputSummary(base)).sort(), ["param:command", "param:compression", "param:diskPath", "param:filesystem", "param:label", "param:size", "upstream:rootfs"]);
    });

    it("bad fields are errors at preview naming the field", () => {
        const problems = (fields: any, upstream = ["rootfs"]) => qcow2Problems(fields, { where: "warmrun:artifacts.disk", upstream, projectRoot: "/p" }).join("\n");
        assert.match(problems({ size: "huge" }), /warmrun:artifacts\.disk\.size "huge" is not a size/);
        assert.match(problems({ size: "1M" }), /size 1M is too small for a filesystem/);
        assert.match(problems({ compression: "lz4" }), /compression "lz4" is not one of zstd, zlib, none/);
        assert.match(problems({ diskPath: "disk.qcow2" }), /diskPath "disk.qcow2" must be an absolute path/);
        assert.match(problems({}, []), /upstream must name exactly one image/);
        assert.match(problems({ commandInputs: ["nope.json"], command: ["x"] }, []), /commandInputs: file nope\.json does not exist/);
        assert.equal(problems({ command: ["bootc-image-builder", "--output", "{output}", "{image}"] }, []), "");
    });

    it("aliases: base-qcow2-<git-sha> always, latest only when the stack policy gives it", () => {
        assert.deepEqual(qcow2AliasTags([], { clean: false, commit: "abcdef0123456789", shortCommit: "abcdef0" }), ["base-qcow2-abcdef0"]);
        assert.deepEqual(qcow2AliasTags(["latest", "git-abcdef012345"], { clean: true, shortCommit: "abcdef0" }), ["base-qcow2-latest", "base-qcow2-git-abcdef012345", "base-qcow2-abcdef0"]);
        assert.deepEqual(qcow2AliasTags([], undefined), []);
    });

    it("the command builder gets {output} and {image}", () => {
        assert.deepEqual(commandLine(["bib", "--out={output}", "{image}"], "/t/disk.qcow2", "r/x@sha256:1"), ["bib", "--out=/t/disk.qcow2", "r/x@sha256:1"]);
    });

    it("references split into host, repository and digest or tag", () => {
        assert.deepEqual(parseReference("127.0.0.1:5000/e2e/disk@sha256:ab"), { host: "127.0.0.1:5000", repository: "e2e/disk", reference: "sha256:ab" });
        assert.deepEqual(parseReference("registry.example.com/acme/disk:base-qcow2-latest"), { host: "registry.example.com", repository: "acme/disk", reference: "base-qcow2-latest" });
    });
});

describe("npm run qcow2 (pure parts)", () => {
    it("parses flightctl's positional arguments and warmrun's options", () => {
        assert.deepEqual(parseArgs(["push", "bin/output/qcow2/disk.qcow2", "base-qcow2-v1.0", "--artifact", "disk"]).positional, ["push", "bin/output/qcow2/disk.qcow2", "base-qcow2-v1.0"]);
        assert.equal(parseArgs(["get", "--artifact", "disk"]).artifact, "disk");
        assert.throws(() => parseArgs(["get", "--bogus"]), /unknown option --bogus/);
    });

    it("finds the disk entry by annotation or by extension, and draws a progress bar", () => {
        assert.ok(isDiskEntry("qcow2/disk.qcow2", "/qcow2/disk.qcow2"));
        assert.ok(!isDiskEntry("disk/disk.qcow2", "/qcow2/disk.qcow2"));
        assert.ok(isDiskEntry("./disk/fedora.qcow2", undefined));
        assert.equal(progressLine(50, 100, 10), "[#####-----]  50%  0/0 MiB");
    });
});

const SEED: SeedInputs = {
    caCertificates: ["CA-PEM\n"],
    files: [{ path: "/etc/b.key", content: "KEY\n", permissions: "0600" }, { path: "/etc/a.crt", content: "CERT\n", permissions: "0644" }],
    agentConfig: { path: "/etc/flightctl/config.yaml", value: { server: "https://api.example.com" } },
    rpms: ["flightctl-agent"],
    service: "flightctl-agent.service",
    extraUserData: { runcmd: [["echo", "extra"]], timezone: "UTC" },
    extraFiles: [],
};

describe("CloudInitIso (pure parts)", () => {
    it("renders #cloud-config with yaml: files sorted by path, runcmd ours then the extra", () => {
        const r = renderSeed(SEED);
        assert.ok(r.userData.startsWith("#cloud-config\n"));
        const doc = YAML.parse(r.userData);
        assert.deepEqual(doc.write_files.map((f: any) => f.path), ["/etc/a.crt", "/etc/b.key", "/etc/flightctl/config.yaml"]);
        assert.deepEqual(doc.runcmd, [["dnf", "install", "-y", "flightctl-agent"], ["systemctl", "enable", "--now", "flightctl-agent.service"], ["echo", "extra"]]);
        assert.equal(doc.timezone, "UTC");
        assert.deepEqual(YAML.parse(r.networkConfig).version, 2);
    });

    it("instance-id follows the content: the same seed, the same id; any change, a new one", () => {
        const a = renderSeed(SEED);
        assert.equal(renderSeed({ ...SEED }).instanceId, a.instanceId);
        assert.notEqual(renderSeed({ ...SEED, rpms: ["other"] }).instanceId, a.instanceId);
        assert.notEqual(renderSeed({ ...SEED, extraFiles: [{ path: "x", sha256: "1", executable: false }] }).instanceId, a.instanceId);
        assert.equal(YAML.parse(a.metaData)["instance-id"], a.instanceId);
    });

    it("the key and the inputs stored in state hold digests, never the content", () => {
        const r = renderSeed(SEED);
        const summary = JSON.stringify(inputSummary(seedKeyMaterial(r, [], {})));
        assert.ok(!summary.includes("KEY") && !summary.includes("CERT"), summary);
    });

    it("merges extra user-data and rejects what is not a YAML map", () => {
        assert.deepEqual(mergeUserData({ runcmd: [["a"]], hostname: "x" }, { runcmd: [["b"]], hostname: "y" }), { runcmd: [["a"], ["b"]], hostname: "y" });
        assert.throws(() => parseExtraUserData("a: [b", "warmrun:artifacts.s.userData"), /warmrun:artifacts\.s\.userData is not valid YAML/);
        assert.throws(() => parseExtraUserData("just text", "f"), /must be a YAML map/);
        assert.deepEqual(parseExtraUserData("", "f"), {});
    });

    it("xorriso: label cidata, Joliet, Rock Ridge, fixed owner and dates", () => {
        const args = xorrisoArgs("stage", "out.iso");
        for (const a of ["-V", "cidata", "-J", "-R", "--modification-date=1970010100000000"]) assert.ok(args.includes(a), a);
    });

    it("config: secretFiles must be stored as a secret", () => {
        const raw = { "warmrun:registry": "127.0.0.1:5000/w", "warmrun:artifacts": JSON.stringify({ s: { kind: "CloudInitIso", secretFiles: { "/etc/k": "KEY" } } }) };
        assert.throws(() => validateConfig(raw, { projectRoot: "/", secretKeys: new Set() }), (e: any) => e instanceof ConfigError && /secretFiles is stored in plaintext: set each with `pulumi config set --path --secret/.test(e.message));
        validateConfig(raw, { projectRoot: "/", secretKeys: new Set(["warmrun:artifacts"]) });
    });
});
