// Qcow2Image's plan: the upstream image's key and the disk options (or the user's builder command
// and its input files) make the key; tags are base-qcow2-<key>, aliases base-qcow2-<git-sha>.
import * as path from "path";
import { FileEntry, KeyMaterial } from "../../core/keys";
import { hashFiles, StatCache } from "../../core/fileset";
import { WarmrunError } from "../../core/errors";
import { GitState } from "../../core/gitState";
import { Plan, PlanContext } from "../../core/kind";
import { Compression, DEFAULT_KERNEL_ARGS, parseSize, Qcow2Fields, QCOW2_KIND } from "./fields";

export const QCOW2_RECIPE_VERSION = 1;
export const QCOW2_TAG_PREFIX = "base-qcow2-";

export interface Qcow2BuildSpec {
    /** Disk size in bytes. */
    sizeBytes: number;
    /** As written in config (for messages). */
    size: string;
    filesystem: string;
    compression: Compression;
    label: string;
    /** Absolute path of the disk inside the containerDisk image. */
    diskPath: string;
    /** Pinned reference (host/repo@sha256:...) of the upstream image, when there is one. */
    upstreamRef?: string;
    /** A user's own builder (e.g. bootc-image-builder): writes the qcow2 to {output}. */
    command?: string[];
    /** Directory the command runs in (the project). */
    commandCwd?: string;
    /** The tree's kernel and initrd go in the image too, with this kernel command line. */
    kernelBoot?: { kernelArgs: string };
}

/** The build spec of validated fields (fields.ts), without the upstream reference. */
export function qcow2Spec(fields: Qcow2Fields, projectRoot: string): Qcow2BuildSpec {
    const size = fields.size ?? "2G";
    const sizeBytes = parseSize(size);
    if (sizeBytes === undefined) throw new WarmrunError(`size "${size}" is not a size`);
    return {
        sizeBytes,
        size,
        filesystem: fields.filesystem ?? "ext4",
        compression: (fields.compression ?? "zstd") as Compression,
        label: fields.label ?? "rootfs",
        diskPath: fields.diskPath ?? "/disk/disk.qcow2",
        ...(fields.command ? { command: fields.command, commandCwd: projectRoot } : {}),
        ...(fields.kernelBoot ? { kernelBoot: { kernelArgs: fields.kernelArgs ?? DEFAULT_KERNEL_ARGS } } : {}),
    };
}

export async function qcow2KeyMaterial(spec: Qcow2BuildSpec, fields: Qcow2Fields, upstream: Record<string, string>, projectRoot: string, cache = new StatCache()): Promise<KeyMaterial> {
    let files: FileEntry[] = [];
    if (fields.commandInputs?.length) {
        const rel = fields.commandInputs.map((f) => path.relative(projectRoot, path.resolve(projectRoot, f)).split(path.sep).join("/"));
        files = await hashFiles(projectRoot, rel, cache);
    }
    return {
        kind: QCOW2_KIND,
        recipeVersion: QCOW2_RECIPE_VERSION,
        files,
        params: {
            size: spec.sizeBytes,
            filesystem: spec.filesystem,
            compression: spec.compression,
            label: spec.label,
            diskPath: spec.diskPath,
            command: spec.command ?? null,
            // Only when set, so the keys of disks without it stay what they were.
            ...(spec.kernelBoot ? { kernelBoot: spec.kernelBoot } : {}),
        },
        upstream,
    };
}

/**
 * Alias tags of a disk, as flightctl's consumers know them: base-qcow2-<git-sha> always (when in
 * a checkout), base-qcow2-latest only where the stack's policy gives `latest` (clean default branch).
 */
export function qcow2AliasTags(stackAliases: string[], git: GitState | undefined): string[] {
    const tags = stackAliases.map((t) => `${QCOW2_TAG_PREFIX}${t}`);
    if (git?.shortCommit) tags.push(`${QCOW2_TAG_PREFIX}${git.shortCommit}`);
    return [...new Set(tags)];
}

export async function plan(fields: Qcow2Fields, ctx: PlanContext): Promise<Plan<Qcow2BuildSpec>> {
    const spec = qcow2Spec(fields, ctx.projectRoot);
    return {
        material: await qcow2KeyMaterial(spec, fields, ctx.upstream, ctx.projectRoot, ctx.statCache),
        build: spec,
        naming: { tagPrefix: QCOW2_TAG_PREFIX, aliasTags: qcow2AliasTags(ctx.aliasTags, ctx.git) },
    };
}
