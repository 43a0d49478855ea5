// An OVA: a tar whose first entry is the OVF descriptor, then the manifest (.mf, SHA256 of each
// file), then the streamOptimized VMDK. The descriptor is the minimal OVF 1.0 a VMware or
// VirtualBox import accepts: one disk, CPU, memory, a controller and a NAT network.
import * as fs from "fs";
import * as path from "path";
import { pipeline } from "stream/promises";
import * as tarStream from "tar-stream";
import { sha256Hex } from "../../core/keys";
import { hashFileStream } from "../../core/fileset";

export interface OvfOptions {
    name: string;
    vmdkName: string;
    vmdkSize: number;
    capacityBytes: number;
    cpus?: number;
    memoryMiB?: number;
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

function item(fields: Record<string, string | number>): string {
    // rasd elements in the schema's (alphabetical) order.
    const body = Object.keys(fields)
        .sort()
        .map((k) => `        <rasd:${k}>${xmlEscape(String(fields[k]))}</rasd:${k}>`)
        .join("\n");
    return `      <Item>\n${body}\n      </Item>`;
}

export function ovfDescriptor(o: OvfOptions): string {
    const name = xmlEscape(o.name);
    const cpus = o.cpus ?? 1;
    const mem = o.memoryMiB ?? 1024;
    return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:id="file1" ovf:href="${xmlEscape(o.vmdkName)}" ovf:size="${o.vmdkSize}"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="${o.capacityBytes}" ovf:capacityAllocationUnits="byte" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks</Info>
    <Network ovf:name="nat">
      <Description>NAT network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${name}">
    <Info>A virtual machine</Info>
    <Name>${name}</Name>
    <OperatingSystemSection ovf:id="96">
      <Info>Guest operating system</Info>
      <Description>Debian_64</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
${item({ AllocationUnits: "hertz * 10^6", Description: "Number of virtual CPUs", ElementName: `${cpus} virtual CPU(s)`, InstanceID: 1, ResourceType: 3, VirtualQuantity: cpus })}
${item({ AllocationUnits: "byte * 2^20", Description: "Memory size", ElementName: `${mem} MB of memory`, InstanceID: 2, ResourceType: 4, VirtualQuantity: mem })}
${item({ Address: 0, Description: "SCSI controller", ElementName: "scsi0", InstanceID: 3, ResourceSubType: "lsilogic", ResourceType: 6 })}
${item({ AddressOnParent: 0, ElementName: "disk0", HostResource: "ovf:/disk/vmdisk1", InstanceID: 4, Parent: 3, ResourceType: 17 })}
${item({ AutomaticAllocation: "true", Connection: "nat", ElementName: "ethernet0", InstanceID: 5, ResourceSubType: "E1000", ResourceType: 10 })}
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** Writes name.ova from a VMDK: descriptor first, as OVA readers require, then .mf, then the disk. */
export async function writeOva(ovaFile: string, o: { name: string; vmdkFile: string; capacityBytes: number; cpus?: number; memoryMiB?: number }): Promise<void> {
    const vmdkName = path.basename(o.vmdkFile);
    const vmdkSize = fs.statSync(o.vmdkFile).size;
    const ovf = Buffer.from(ovfDescriptor({ name: o.name, vmdkName, vmdkSize, capacityBytes: o.capacityBytes, cpus: o.cpus, memoryMiB: o.memoryMiB }));
    const mf = Buffer.from(`SHA256(${o.name}.ovf)= ${sha256Hex(ovf)}\nSHA256(${vmdkName})= ${await hashFileStream(o.vmdkFile)}\n`);
    const pack = tarStream.pack();
    const done = pipeline(pack, fs.createWriteStream(ovaFile));
    const header = (name: string, size: number) => ({ name, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: "", gname: "", type: "file" as const });
    pack.entry(header(`${o.name}.ovf`, ovf.length), ovf);
    pack.entry(header(`${o.name}.mf`, mf.length), mf);
    await pipeline(fs.createReadStream(o.vmdkFile), pack.entry(header(vmdkName, vmdkSize)));
    pack.finalize();
    await done;
}
