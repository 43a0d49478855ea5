// Qcow2Image's provider side, its pure parts: layer whiteouts, qemu-img and mke2fs arguments, the containerDisk's entries, the command builder.
import { strict as assert } from "assert";
import { whiteoutsOf, qemuImgConvertArgs, containerDiskEntries, mke2fsArgs, uuidFromKey, commandLine } from "../../../../components/kinds/qcow2Image/build";
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
        assert.deepEqual(containerDiskEntries("/disk/disk.qcow2"), { dirs: ["disk/"], file: "disk/disk.qcow2" });
        assert.deepEqual(containerDiskEntries("/a/b/c.qcow2"), { dirs: ["a/", "a/b/"], file: "a/b/c.qcow2" });
    });

    it("the command builder gets {output} and {image}", () => {
        assert.deepEqual(commandLine(["bib", "--out={output}", "{image}"], "/t/disk.qcow2", "r/x@sha256:1"), ["bib", "--out=/t/disk.qcow2", "r/x@sha256:1"]);
    });
});
