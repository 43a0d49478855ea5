// Restoring a disk from a containerDisk: which tar entry is the disk, and the progress bar.
import { strict as assert } from "assert";
import { isDiskEntry, progressLine } from "../../../../components/kinds/qcow2Image/cache";

describe("the qcow2 cache (pure parts)", () => {
    it("finds the disk entry by annotation or by extension, and draws a progress bar", () => {
        assert.ok(isDiskEntry("qcow2/disk.qcow2", "/qcow2/disk.qcow2"));
        assert.ok(!isDiskEntry("disk/disk.qcow2", "/qcow2/disk.qcow2"));
        assert.ok(isDiskEntry("./disk/fedora.qcow2", undefined));
        assert.equal(progressLine(50, 100, 10), "[#####-----]  50%  0/0 MiB");
    });
});
