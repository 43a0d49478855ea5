// Qcow2Image's fields: a VM disk made from an upstream image (or by the user's own command).
import { pathProblem } from "../../core/fileset";
import * as path from "path";
import { FieldContext, KindDefinition } from "../../core/kind";

export const QCOW2_KIND = "Qcow2Image";
export const COMPRESSIONS = ["zstd", "zlib", "none"] as const;
export const FILESYSTEMS = ["ext4", "ext3", "ext2"] as const;
export type Compression = (typeof COMPRESSIONS)[number];
/** Smallest disk mke2fs makes an ext4 with a journal on. */
const MIN_SIZE = 16 * 2 ** 20;

export interface Qcow2Fields {
    size?: string;
    filesystem?: string;
    compression?: string;
    label?: string;
    diskPath?: string;
    command?: string[];
    commandInputs?: string[];
    kernelBoot?: boolean;
    kernelArgs?: string;
}

/** Where a bootable containerDisk carries its kernel and initrd (KubeVirt's kernelBoot kernelPath/initrdPath). */
export const KERNEL_PATH = "/boot/vmlinuz";
export const INITRD_PATH = "/boot/initrd.img";
/** The kernel command line of a disk that holds one bare filesystem, attached as the first virtio disk. */
export const DEFAULT_KERNEL_ARGS = "root=/dev/vda rw console=ttyS0";

const UNIT: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "2G", "512M", "1536MiB", "1073741824" -> bytes (binary units, like qemu-img). */
export function parseSize(text: string): number | undefined {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
    if (!m) return undefined;
    const bytes = Math.floor(parseFloat(m[1]) * UNIT[m[2].toUpperCase()]);
    return bytes > 0 ? bytes : undefined;
}

/** Every problem of a disk's fields, each naming its field. */
export function qcow2Problems(fields: Qcow2Fields, ctx: Pick<FieldContext, "where" | "upstream" | "projectRoot">): string[] {
    const { where, upstream } = ctx;
    const problems: string[] = [];
    const size = fields.size ?? "2G";
    const sizeBytes = parseSize(size);
    if (sizeBytes === undefined) problems.push(`${where}.size "${size}" is not a size: write e.g. 2G, 512M or 1536MiB`);
    else if (sizeBytes < MIN_SIZE) problems.push(`${where}.size ${size} is too small for a filesystem: use at least 16M`);
    const filesystem = fields.filesystem ?? "ext4";
    if (!(FILESYSTEMS as readonly string[]).includes(filesystem)) problems.push(`${where}.filesystem "${filesystem}" is not one of ${FILESYSTEMS.join(", ")}`);
    const compression = fields.compression ?? "zstd";
    if (!(COMPRESSIONS as readonly string[]).includes(compression)) problems.push(`${where}.compression "${compression}" is not one of ${COMPRESSIONS.join(", ")}`);
    const diskPath = fields.diskPath ?? "/disk/disk.qcow2";
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(diskPath) || diskPath.split("/").some((p) => p === "..")) {
        problems.push(`${where}.diskPath "${diskPath}" must be an absolute path inside the image, e.g. /disk/disk.qcow2 or /qcow2/disk.qcow2`);
    }
    const label = fields.label ?? "rootfs";
    if (label.length > 16) problems.push(`${where}.label "${label}" is longer than the 16 characters an ext4 label holds`);
    if (fields.command && fields.command.length === 0) problems.push(`${where}.command is empty: give the builder's command line, e.g. [bootc-image-builder, ...]`);
    if (!fields.command && upstream.length !== 1) {
        problems.push(`${where}.upstream must name exactly one image (e.g. a DebianRootfs or BaseImage) whose root tree goes on the disk${upstream.length ? `, not ${upstream.length}` : ""}; or give a command`);
    }
    if (fields.kernelBoot && fields.command) problems.push(`${where}.kernelBoot takes the kernel from the upstream image's tree, which a command builder does not unpack: drop kernelBoot, or give the disk a boot loader in the command`);
    if (fields.kernelArgs !== undefined && !fields.kernelBoot) problems.push(`${where}.kernelArgs only counts with kernelBoot: true`);
    if (fields.kernelArgs !== undefined && !fields.kernelArgs.trim()) problems.push(`${where}.kernelArgs is empty: give the kernel command line, e.g. "${DEFAULT_KERNEL_ARGS}"`);
    if (fields.commandInputs && !fields.command) problems.push(`${where}.commandInputs only counts with a command`);
    for (const f of fields.commandInputs ?? []) {
        const abs = path.resolve(ctx.projectRoot, f);
        const problem = pathProblem(abs, f, "file");
        if (problem) problems.push(`${where}.commandInputs: ${problem}`);
    }
    return problems;
}

export const qcow2Image: KindDefinition<Qcow2Fields> = {
    name: QCOW2_KIND,
    fields: {
        size: { type: "string", description: "disk size, e.g. 2G or 512M (default 2G)" },
        filesystem: { type: "string", description: "ext4, ext3 or ext2 (default ext4)" },
        compression: { type: "string", description: "qcow2 compression: zstd, zlib or none (default zstd)" },
        label: { type: "string", description: "filesystem label (default rootfs)" },
        diskPath: { type: "string", description: "path of the disk in the containerDisk image (default /disk/disk.qcow2)" },
        command: { type: "string[]", description: "your own builder (e.g. bootc-image-builder): writes the qcow2 to {output}; {image} is the upstream's pinned reference" },
        commandInputs: { type: "string[]", description: "files the command reads, relative to the project; they enter the key" },
        kernelBoot: { type: "boolean", description: "also put the tree's kernel and initrd in the image (/boot/vmlinuz, /boot/initrd.img) for KubeVirt's kernelBoot and `npm run vm -- boot` (default false)" },
        kernelArgs: { type: "string", description: `kernel command line recorded with kernelBoot (default "${DEFAULT_KERNEL_ARGS}")` },
    },
    validate: qcow2Problems,
};
