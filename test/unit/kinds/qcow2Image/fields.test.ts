// Qcow2Image's fields: sizes, and every problem naming its field at preview.
import { strict as assert } from "assert";
import { parseSize, qcow2Problems } from "../../../../components/kinds/qcow2Image/fields";

describe("Qcow2Image fields", () => {
    it("parses sizes in binary units and rejects nonsense", () => {
        assert.equal(parseSize("2G"), 2 * 2 ** 30);
        assert.equal(parseSize("512M"), 512 * 2 ** 20);
        assert.equal(parseSize("1536MiB"), 1536 * 2 ** 20);
        assert.equal(parseSize("4096"), 4096);
        for (const bad of ["", "big", "-1G", "0", "2X"]) assert.equal(parseSize(bad), undefined, bad);
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
        assert.match(problems({ kernelBoot: true, command: ["x"] }, []), /warmrun:artifacts\.disk\.kernelBoot takes the kernel from the upstream image's tree/);
        assert.match(problems({ kernelArgs: "console=ttyS0" }), /warmrun:artifacts\.disk\.kernelArgs only counts with kernelBoot: true/);
        assert.match(problems({ kernelBoot: true, kernelArgs: " " }), /kernelArgs is empty/);
        assert.equal(problems({ kernelBoot: true, kernelArgs: "root=LABEL=rootfs rw console=ttyS0" }), "");
    });
});
