// Qcow2Image's provider side, its pure parts: layer whiteouts, qemu-img and mke2fs arguments, the containerDisk's entries, the command builder.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { whiteoutsOf, qemuImgConvertArgs, containerDiskEntries, mke2fsArgs, uuidFromKey, commandLine, treeKernel } from "../../../../components/kinds/qcow2Image/build";
import { tempDir, removeTempDirs, writeTree } from "../../../support/tmp";
import { Qcow2BuildSpec } from "../../../../components/kinds/qcow2Image/plan";

const SPEC: Qcow2BuildSpec = { sizeBytes: 2 ** 31, size: "2G", filesystem: "ext4", compression: "zstd", label: "rootfs", diskPath: "/disk/disk.qcow2" };

describe("Qcow2Image build (pure parts)", () => {
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
        assert.deepEqual(containerDiskEntries("/disk/disk.qcow2"), { dirs: ["disk/"], file: "disk/disk.qcow2", extras: [] });
        assert.deepEqual(containerDiskEntries("/a/b/c.qcow2"), { dirs: ["a/", "a/b/"], file: "a/b/c.qcow2", extras: [] });
    });

    it("a bootable containerDisk also holds the kernel and initrd, each directory once", () => {
        assert.deepEqual(containerDiskEntries("/disk/disk.qcow2", ["/boot/vmlinuz", "/boot/initrd.img"]), {
            dirs: ["disk/", "boot/"],
            file: "disk/disk.qcow2",
            extras: ["boot/vmlinuz", "boot/initrd.img"],
        });
    });

    it("kernelBoot takes the tree's newest kernel and its initrd; a tree without one is an error naming the field", () => {
        after(removeTempDirs);
        const root = tempDir();
        writeTree(root, { "boot/vmlinuz-6.1.0-9-cloud-amd64": "k1", "boot/initrd.img-6.1.0-9-cloud-amd64": "i1", "boot/vmlinuz-6.12.9-cloud-amd64": "k2", "boot/initrd.img-6.12.9-cloud-amd64": "i2", "boot/config-6.12.9-cloud-amd64": "" });
        const k = treeKernel(root, "disk");
        assert.equal(k.version, "6.12.9-cloud-amd64");
        assert.equal(fs.readFileSync(k.kernel, "utf8"), "k2");
        assert.equal(fs.readFileSync(k.initrd, "utf8"), "i2");
        fs.rmSync(path.join(root, "boot/initrd.img-6.12.9-cloud-amd64"));
        assert.throws(() => treeKernel(root, "disk"), /disk: kernelBoot: the upstream image has \/boot\/vmlinuz-6\.12\.9-cloud-amd64 but no \/boot\/initrd\.img-6\.12\.9-cloud-amd64/);
        assert.throws(() => treeKernel(tempDir(), "disk"), /disk: kernelBoot: the upstream image has no \/boot\/vmlinuz-\*: install a kernel .*or drop warmrun:artifacts\.disk\.kernelBoot/);
    });

    it("the command builder gets {output} and {image}", () => {
        assert.deepEqual(commandLine(["bib", "--out={output}", "{image}"], "/t/disk.qcow2", "r/x@sha256:1"), ["bib", "--out=/t/disk.qcow2", "r/x@sha256:1"]);
    });
});
