// Qcow2Image component: keyed by the upstream image's key and the disk options (or the user's
// builder command and its input files), tagged base-qcow2-<key>.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "../../core/artifact";
import { FileEntry, KeyMaterial } from "../../core/keys";
import { hashFiles, StatCache } from "../../core/fileset";
import { KindArgs, publish, upstreamKeysOf } from "../../core/publish";
import { WarmrunError } from "../../core/errors";
import { GitState } from "../../core/gitState";
import { COMPRESSIONS, Compression, FILESYSTEMS, parseSize, Qcow2BuildSpec, QCOW2_KIND, QCOW2_RECIPE_VERSION, QCOW2_TAG_PREFIX } from "./build";

export interface Qcow2Fields {
    size?: string;
    filesystem?: string;
    compression?: string;
    label?: string;
    diskPath?: string;
    command?: string[];
    commandInputs?: string[];
}

/** Smallest disk mke2fs makes an ext4 with a journal on. */
const MIN_SIZE = 16 * 2 ** 20;

/** Checks the fields (at preview) and gives the build spec, without the upstream reference. */
export function qcow2Spec(name: string, fields: Qcow2Fields, upstream: string[], projectRoot: string): Qcow2BuildSpec {
    const where = `warmrun:artifacts.${name}`;
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
    if (fields.commandInputs && !fields.command) problems.push(`${where}.commandInputs only counts with a command`);
    for (const f of fields.commandInputs ?? []) {
        const abs = path.resolve(projectRoot, f);
        if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) problems.push(`${where}.commandInputs: file ${f} does not exist: create it or fix the path (relative to the project)`);
    }
    if (problems.length) throw new WarmrunError(problems.join("\n"));
    return {
        sizeBytes: sizeBytes!,
        size,
        filesystem,
        compression: compression as Compression,
        label,
        diskPath,
        ...(fields.command ? { command: fields.command, commandCwd: projectRoot } : {}),
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

export class Qcow2Image extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:Qcow2Image", name, {}, opts);
        const projectRoot = process.cwd();
        const fields = args.spec.fields as Qcow2Fields;
        // A problem with the fields is reported as the program's error: its message, no stack trace.
        const specP = Promise.resolve()
            .then(() => qcow2Spec(name, fields, args.spec.upstream, projectRoot))
            .catch((e) => {
                throw e instanceof WarmrunError ? new pulumi.RunError(e.message) : e;
            });
        const material = Promise.all([specP, upstreamKeysOf(args)]).then(([s, up]) => qcow2KeyMaterial(s, fields, up, projectRoot, args.statCache));
        const upstreamRef = args.spec.upstream.length === 1 ? args.upstreamRefs[args.spec.upstream[0]] : pulumi.output<string | undefined>(undefined);
        const build = pulumi.all([specP, upstreamRef]).apply(([s, ref]) => ({ ...s, ...(ref ? { upstreamRef: ref } : {}) }));
        ({ key: this.key, artifact: this.artifact } = publish(this, name, QCOW2_KIND, args, material, build, [], {
            tagPrefix: QCOW2_TAG_PREFIX,
            aliasTags: qcow2AliasTags(args.aliasTags ?? [], args.git),
        }));
        this.registerOutputs({});
    }
}
