// Qcow2Image's builder against a real registry with real tar, mke2fs, qemu-img and debugfs: an
// image of two layers (with OCI whiteouts) becomes an ext4 qcow2 containerDisk; the cache CLI's
// restore streams it back byte for byte; a disk too small for its tree pushes nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import * as tarStream from "tar-stream";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { createArtifact, ArtifactInputs } from "../../components/core/lifecycle";
import { KEY_ANNOTATION, DISK_PATH_ANNOTATION } from "../../components/oci/annotations";
import { layerFromDirectory, imageConfig, pushImage } from "../../components/oci/image";
import { build as buildQcow2, uuidFromKey } from "../../components/kinds/qcow2Image/build";
import { Qcow2BuildSpec } from "../../components/kinds/qcow2Image/plan";
import { QCOW2_KIND } from "../../components/kinds/qcow2Image/fields";
import { restoreDisk } from "../../components/kinds/qcow2Image/cache";
import { requireTools, ext4List, ext4Cat } from "../support/tools";
import { main as cli } from "../../scripts/qcow2";

function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

describe("Qcow2Image builder (real registry, mke2fs, qemu-img)", function () {
    this.timeout(120_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let baseRef: string;
    let work: string;

    before(async () => {
        requireTools(["mke2fs", "qemu-img", "debugfs", "tar"]);
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        work = tempDir("warmrun-qcow2-");
        process.env.WARMRUN_JOURNAL = path.join(work, "journal.jsonl");
        // Layer 1: a small tree. Layer 2: removes etc/old (whiteout), makes opt/dir opaque, adds files.
        writeTree(path.join(work, "l1"), {
            "etc/hostname": "warmrun-test\n",
            "etc/old": "gone after layer 2\n",
            "opt/dir/a": "hidden by the opaque dir\n",
            "usr/bin/tool": { content: "#!/bin/sh\necho tool\n", mode: 0o755 },
        });
        writeTree(path.join(work, "l2"), {
            "etc/.wh.old": "",
            "opt/dir/.wh..wh..opq": "",
            "opt/dir/b": "from layer 2\n",
            "etc/motd": "hello\n",
        });
        const l1 = await layerFromDirectory(path.join(work, "l1"), path.join(work, "l1.tar.gz"));
        const l2 = await layerFromDirectory(path.join(work, "l2"), path.join(work, "l2.tar.gz"));
        const digest = await pushImage(client, "test/base", "v1", [l1, l2], imageConfig([l1, l2], { createdBy: "test" }), {});
        baseRef = `${registry.host}/test/base@${digest}`;
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    function inputs(name: string, spec: Partial<Qcow2BuildSpec>, key: string): ArtifactInputs {
        return {
            name,
            kind: QCOW2_KIND,
            key,
            registry: { host: registry.host, insecure: true },
            repository: `test/${name}`,
            tag: `base-qcow2-${key.slice(0, 24)}`,
            aliasTags: ["base-qcow2-abc1234"],
            inputs: {},
            build: { sizeBytes: 64 * 2 ** 20, size: "64M", filesystem: "ext4", compression: "zstd", label: "rootfs", diskPath: "/disk/disk.qcow2", upstreamRef: baseRef, ...spec },
        };
    }

    it("turns the image's layers into an ext4 qcow2 containerDisk (zstd, 107:107) that restores byte for byte", async () => {
        const key = "a".repeat(64);
        const out = await createArtifact(inputs("disk", {}, key), { kinds: () => ({ build: buildQcow2 }) });
        assert.equal(out.cacheHit, false);
        assert.deepEqual(out.downloads, { count: 2, bytes: out.downloads.bytes });
        assert.equal(await client.resolveTag("test/disk", "base-qcow2-abc1234"), out.digest, "alias tag");
        const m = await client.getManifest("test/disk", out.digest);
        assert.equal(m!.json.annotations[KEY_ANNOTATION], key);
        assert.equal(m!.json.layers.length, 1);
        assert.equal(m!.json.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar");

        // The layer as KubeVirt sees it: disk/ and disk/disk.qcow2 owned by 107:107.
        const layerFile = path.join(work, "layer.tar");
        await client.downloadBlob("test/disk", m!.json.layers[0].digest, layerFile);
        const headers: tarStream.Header[] = [];
        const extract = tarStream.extract();
        extract.on("entry", (h, s, next) => (headers.push(h), s.on("end", next), s.resume()));
        await new Promise((resolve, reject) => fs.createReadStream(layerFile).pipe(extract).on("finish", () => resolve(undefined)).on("error", reject));
        assert.deepEqual(headers.map((h) => [h.name, h.uid, h.gid]), [["disk/", 107, 107], ["disk/disk.qcow2", 107, 107]]);

        const disk = path.join(work, "restored", "disk.qcow2");
        let calls = 0;
        const r = await restoreDisk(client, "test/disk", out.tag, disk, { progress: () => calls++ });
        assert.ok(r.found && calls > 0);
        assert.equal(r.sha256, sha256File(disk));
        assert.equal(m!.json.annotations["dev.warmrun.disk-sha256"], `sha256:${r.sha256}`);
        const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", disk], { encoding: "utf8" }));
        assert.equal(info.format, "qcow2");
        assert.equal(info["virtual-size"], 64 * 2 ** 20);
        assert.equal(info["format-specific"].data["compression-type"], "zstd");

        const raw = path.join(work, "disk.raw");
        execFileSync("qemu-img", ["convert", "-O", "raw", disk, raw]);
        assert.deepEqual(ext4List(raw, "/etc").sort(), ["hostname", "motd"], "etc/old whited out");
        assert.deepEqual(ext4List(raw, "/opt/dir"), ["b"], "opt/dir opaque: a is gone");
        assert.equal(ext4Cat(raw, "/etc/hostname"), "warmrun-test\n");
        const stat = execFileSync("debugfs", ["-R", "stat /usr/bin/tool", raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        assert.match(stat, /Mode:\s+0755/);
    });

    it("same key, same filesystem identity: UUID and label derive from the key (inode ctimes still vary)", async () => {
        const key = "b".repeat(64);
        const uuids: string[] = [];
        for (const name of ["same1", "same2"]) {
            const out = await createArtifact(inputs(name, { compression: "zlib" }, key), { kinds: () => ({ build: buildQcow2 }) });
            const disk = path.join(work, `${name}.qcow2`);
            await restoreDisk(client, `test/${name}`, out.tag, disk);
            const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", disk], { encoding: "utf8" }));
            assert.equal(info["format-specific"].data["compression-type"], "zlib");
            const raw = path.join(work, `${name}.raw`);
            execFileSync("qemu-img", ["convert", "-O", "raw", disk, raw]);
            const stats = execFileSync("debugfs", ["-R", "stats", raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
            assert.match(stats, /Filesystem volume name:\s+rootfs\n/);
            uuids.push(/Filesystem UUID:\s+(\S+)/.exec(stats)![1]);
        }
        assert.equal(uuids[0], uuidFromKey(key, "fs"));
        assert.equal(uuids[1], uuids[0]);
    });

    it("a custom disk path (flightctl's /qcow2/disk.qcow2) is found by its annotation", async () => {
        const out = await createArtifact(inputs("flightctl", { diskPath: "/qcow2/disk.qcow2", compression: "none" }, "c".repeat(64)), { kinds: () => ({ build: buildQcow2 }) });
        const m = await client.getManifest("test/flightctl", out.digest);
        assert.equal(m!.json.annotations[DISK_PATH_ANNOTATION], "/qcow2/disk.qcow2");
        const r = await restoreDisk(client, "test/flightctl", out.tag, path.join(work, "f.qcow2"));
        assert.equal(r.diskPath, "/qcow2/disk.qcow2");
        assert.equal(await restoreDisk(client, "test/flightctl", "base-qcow2-missing", path.join(work, "m.qcow2")).then((x) => x.found), false);
        assert.ok(!fs.existsSync(path.join(work, "m.qcow2")));
    });

    it("kernelBoot: the tree's kernel and initrd ride in the same layer, named by annotations, and restore beside the disk", async () => {
        writeTree(path.join(work, "kb"), { "boot/vmlinuz-6.12.9-cloud-amd64": "KERNEL-BYTES\n", "boot/initrd.img-6.12.9-cloud-amd64": "INITRD-BYTES\n", "etc/hostname": "guest\n" });
        const l = await layerFromDirectory(path.join(work, "kb"), path.join(work, "kb.tar.gz"));
        const digest = await pushImage(client, "test/kb-base", "v1", [l], imageConfig([l], { createdBy: "test" }), {});
        const spec = { upstreamRef: `${registry.host}/test/kb-base@${digest}`, compression: "none" as const, kernelBoot: { kernelArgs: "root=/dev/vda rw console=ttyS0" } };
        const out = await createArtifact(inputs("kb", spec, "f".repeat(64)), { kinds: () => ({ build: buildQcow2 }) });
        const m = await client.getManifest("test/kb", out.digest);
        const a = m!.json.annotations;
        assert.deepEqual([a["dev.warmrun.kernel-path"], a["dev.warmrun.initrd-path"], a["dev.warmrun.kernel-args"]], ["/boot/vmlinuz", "/boot/initrd.img", "root=/dev/vda rw console=ttyS0"]);
        // GNU tar's view of the layer: the disk, then the kernel and initrd, all 107:107.
        const layerFile = path.join(work, "kb-layer.tar");
        await client.downloadBlob("test/kb", m!.json.layers[0].digest, layerFile);
        const listing = execFileSync("tar", ["--numeric-owner", "-tvf", layerFile], { encoding: "utf8" }).trim().split("\n");
        assert.deepEqual(listing.map((l) => l.split(/\s+/).pop()), ["disk/", "boot/", "disk/disk.qcow2", "boot/vmlinuz", "boot/initrd.img"]);
        for (const l of listing) assert.match(l, / 107\/107 /);
        assert.equal(execFileSync("tar", ["-xOf", layerFile, "boot/vmlinuz"], { encoding: "utf8" }), "KERNEL-BYTES\n");
        const dir = path.join(work, "kb-restored");
        const r = await restoreDisk(client, "test/kb", out.tag, path.join(dir, "disk.qcow2"), {
            extras: (ann) => ({ [ann["dev.warmrun.kernel-path"]]: path.join(dir, "vmlinuz"), [ann["dev.warmrun.initrd-path"]]: path.join(dir, "initrd.img") }),
        });
        assert.ok(r.found);
        assert.equal(fs.readFileSync(path.join(dir, "vmlinuz"), "utf8"), "KERNEL-BYTES\n");
        assert.equal(fs.readFileSync(path.join(dir, "initrd.img"), "utf8"), "INITRD-BYTES\n");
        assert.equal(`sha256:${sha256File(path.join(dir, "disk.qcow2"))}`, a["dev.warmrun.disk-sha256"]);
        // An annotation naming a file the layer lacks: nothing is written.
        const lost = path.join(work, "kb-lost");
        await assert.rejects(
            restoreDisk(client, "test/kb", out.tag, path.join(lost, "disk.qcow2"), { extras: () => ({ "/boot/missing": path.join(lost, "missing") }) }),
            /its annotations name \/boot\/missing, which its layer does not hold; nothing was written/,
        );
        assert.ok(!fs.existsSync(path.join(lost, "disk.qcow2")) && !fs.existsSync(path.join(lost, "missing")));
        // A tree without a kernel: one error naming the field, nothing pushed.
        const none = inputs("kbnone", { compression: "none", kernelBoot: { kernelArgs: "console=ttyS0" } }, "9".repeat(64));
        await assert.rejects(createArtifact(none, { kinds: () => ({ build: buildQcow2 }) }), /kbnone: kernelBoot: the upstream image has no \/boot\/vmlinuz-\*/);
        assert.deepEqual(await client.listTags("test/kbnone"), []);
    });

    it("a layer that arrives corrupted leaves no file behind", async () => {
        const out = await createArtifact(inputs("tamper", { compression: "none" }, "e".repeat(64)), { kinds: () => ({ build: buildQcow2 }) });
        const layer = (await client.getManifest("test/tamper", out.digest))!.json.layers[0].digest.slice(7);
        const blob = path.join(registry.dataDir, "docker/registry/v2/blobs/sha256", layer.slice(0, 2), layer, "data");
        const fd = fs.openSync(blob, "r+");
        fs.writeSync(fd, Buffer.from("corrupt"), 0, 7, 4096);
        fs.closeSync(fd);
        const file = path.join(work, "tampered.qcow2");
        await assert.rejects(restoreDisk(client, "test/tamper", out.tag, file), /arrived as sha256:[0-9a-f]{64}|the disk arrived with/);
        assert.ok(!fs.existsSync(file) && !fs.existsSync(`${file}.partial`), "no partial file");
    });

    it("npm run qcow2's push, cache and pull (flightctl's arguments) round-trip a local qcow2", async () => {
        const file = path.join(work, "local.qcow2");
        execFileSync("qemu-img", ["create", "-f", "qcow2", file, "32M"], { stdio: "ignore" });
        const env = { QCOW2_CACHE_IMAGE: `${registry.host}/test/cli`, QCOW2_DISK_PATH: "/qcow2/disk.qcow2", WARMRUN_LATEST_BRANCH: "no-such-branch" };
        Object.assign(process.env, env);
        try {
            assert.equal(await cli(["push", file, "base-qcow2-v1.0"]), 0);
            assert.equal(await cli(["cache", file]), 0);
            const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
            assert.deepEqual((await client.listTags("test/cli")).sort(), [`base-qcow2-${sha}`, "base-qcow2-v1.0"], "no -latest off the latest branch");
            const back = path.join(work, "cli", "back.qcow2");
            assert.equal(await cli(["pull", "base-qcow2-v1.0", back]), 0);
            assert.equal(sha256File(back), sha256File(file));
            assert.equal(await cli(["pull", "base-qcow2-nope", path.join(work, "cli", "nope.qcow2")]), 1);
            assert.equal(await cli(["get", "force"]), 1);
        } finally {
            for (const k of Object.keys(env)) delete process.env[k];
        }
    });

    it("a user's own builder command writes the qcow2 to {output}; one that writes another format is refused", async () => {
        const ok = inputs("bib", { command: ["qemu-img", "create", "-f", "qcow2", "{output}", "40M"], upstreamRef: undefined }, "f".repeat(64));
        const out = await createArtifact(ok, { kinds: () => ({ build: buildQcow2 }) });
        const disk = path.join(work, "bib.qcow2");
        await restoreDisk(client, "test/bib", out.tag, disk);
        assert.equal(JSON.parse(execFileSync("qemu-img", ["info", "--output=json", disk], { encoding: "utf8" }))["virtual-size"], 40 * 2 ** 20);
        const raw = inputs("bibraw", { command: ["qemu-img", "create", "-f", "raw", "{output}", "40M"], upstreamRef: undefined }, "9".repeat(64));
        await assert.rejects(createArtifact(raw, { kinds: () => ({ build: buildQcow2 }) }), /bibraw: the command wrote a raw disk, not qcow2/);
        assert.deepEqual(await client.listTags("test/bibraw"), []);
    });

    it("a disk too small for the tree fails naming the artifact and the size field; nothing is pushed", async () => {
        // 24 MiB is caught before mke2fs; 15 MiB passes the estimate and fails in mke2fs (journal, inodes).
        for (const [mib, name] of [[24, "small"], [15, "tight"]] as const) {
            fs.mkdirSync(path.join(work, `big${mib}`), { recursive: true });
            fs.writeFileSync(path.join(work, `big${mib}`, "blob.bin"), Buffer.alloc(mib * 2 ** 20, 7));
            const big = await layerFromDirectory(path.join(work, `big${mib}`), path.join(work, `big${mib}.tar.gz`));
            const digest = await pushImage(client, `test/big${mib}`, "v1", [big], imageConfig([big], { createdBy: "test" }), {});
            const i = inputs(name, { sizeBytes: 16 * 2 ** 20, size: "16M", upstreamRef: `${registry.host}/test/big${mib}@${digest}` }, "d".repeat(64));
            await assert.rejects(
                createArtifact(i, { kinds: () => ({ build: buildQcow2 }) }),
                new RegExp(`${name}: .*more than the disk size 16M: raise warmrun:artifacts\\.${name}\\.size .*nothing was pushed`),
            );
            assert.deepEqual(await client.listTags(`test/${name}`), []);
        }
    });
});
