// The OVF descriptor of an appliance's OVA.
import { strict as assert } from "assert";
import { ovfDescriptor } from "../../../../components/kinds/packerAppliance/ova";

describe("PackerAppliance OVA", () => {
    it("the OVF descriptor names the VMDK, its size and the disk's capacity", () => {
        const ovf = ovfDescriptor({ name: "lab<1>", vmdkName: "lab.vmdk", vmdkSize: 1234, capacityBytes: 1610612736 });
        assert.match(ovf, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Envelope /);
        assert.match(ovf, /<File ovf:id="file1" ovf:href="lab\.vmdk" ovf:size="1234"\/>/);
        assert.match(ovf, /ovf:capacity="1610612736"/);
        assert.match(ovf, /vmdk\.html#streamOptimized/);
        assert.match(ovf, /<Name>lab&lt;1&gt;<\/Name>/);
        const opened = (ovf.match(/<Item>/g) ?? []).length;
        assert.equal(opened, (ovf.match(/<\/Item>/g) ?? []).length);
        assert.equal(opened, 5);
    });
});
