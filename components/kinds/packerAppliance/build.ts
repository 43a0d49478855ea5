// PackerAppliance: `packer build` of a template, its outputs (from the manifest post-processor)
// with sha256 files, optionally a streamOptimized VMDK and an OVA, published as an OCI artifact
// (one blob a file, manifest last) so that another runner adopts it by downloading, not building.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { BuildContext, BuildResult, Adopter } from "../../core/lifecycle";
import { artifactAnnotations, TITLE_ANNOTATION } from "../../oci/annotations";
import { pushArtifact } from "../../oci/push";
import { downloadBlobToFile } from "../../oci/blobFile";
import { runTool } from "../../core/process";
import { countDownloads } from "../../downloads/counter";
import { hashFileStream } from "../../core/fileset";
import { WarmrunError } from "../../core/errors";
import { writeOva } from "./ova";
import { PACKER_KIND } from "./fields";

export const APPLIANCE_ARTIFACT_TYPE = "application/vnd.warmrun.appliance.v1";
export const APPLIANCE_CONFIG_MEDIA = "application/vnd.warmrun.appliance.config.v1+json";
export const APPLIANCE_FILE_MEDIA = "application/vnd.warmrun.appliance.file.v1";
/** Variables warmrun sets when `sshKey` is on. */
export const SSH_KEY_VARS = { privateKeyFile: "ssh_private_key_file", publicKey: "ssh_public_key" };

export interface PackerBuildSpec {
    runner: "warmrun" | "command";
    /** Directory of the build's files; packer runs in a copy of exactly the files the key saw. */
    root: string;
    files: string[];
    /** Template path relative to root. */
    template: string;
    varFiles: string[];
    vars: Record<string, string>;
    /** Packer variable -> absolute path of a source file (disk image, kernel, ISO). */
    sourceFiles: Record<string, string>;
    /** Packer variable -> value; passed as PKR_VAR_<name>, never on the command line. */
    secretVars: Record<string, string>;
    sshKey: boolean;
    only: string[];
    /** Manifest post-processor output, relative to the template's directory. */
    manifest: string;
    vmdk: boolean;
    ova: boolean;
    outputDir: string;
    /** Command runner: the directory the local.Command ran packer in. */
    commandDir?: string;
}

export interface ApplianceFile {
    name: string;
    size: number;
    sha256: string;
}

export interface ApplianceDetails {
    outputDir: string;
    files: string[];
    sizes: Record<string, number>;
    sha256: Record<string, string>;
}

// ---- pure helpers ------------------------------------------------------------------------------

export function parsePackerVersion(text: string): [number, number, number] | undefined {
    const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** `packer init` arrived in Packer 1.7.0. */
export function supportsInit(version: [number, number, number]): boolean {
    return version[0] > 1 || (version[0] === 1 && version[1] >= 7);
}

export function declaresRequiredPlugins(templateText: string): boolean {
    return /\brequired_plugins\s*\{/.test(templateText.replace(/#.*$|\/\/.*$/gm, ""));
}

/**
 * Whether to run `packer init` first: only for HCL2 templates that declare required plugins, and
 * a clear error when they do and this packer cannot init.
 */
export function initDecision(templateName: string, templateText: string, version: [number, number, number], where: string): { run: boolean; note: string } {
    if (!templateName.endsWith(".hcl") || !declaresRequiredPlugins(templateText)) {
        return { run: false, note: "packer init skipped: the template declares no required plugins" };
    }
    if (!supportsInit(version)) {
        throw new WarmrunError(
            `${where}: the template ${templateName} declares required_plugins, but packer ${version.join(".")} has no \`packer init\` ` +
                "(it came in 1.7): install packer 1.7 or later, or remove required_plugins and use the builders this packer ships",
        );
    }
    return { run: true, note: "packer init: installing the template's required plugins" };
}

/** The arguments of `packer build|validate`; secret variables travel in the environment instead. */
export function packerArgs(command: "build" | "validate", spec: Pick<PackerBuildSpec, "template" | "varFiles" | "vars" | "sourceFiles" | "only">, extraVars: Record<string, string> = {}): string[] {
    const args: string[] = [command];
    if (command === "build") args.push("-color=false", "-force");
    if (spec.only.length) args.push(`-only=${spec.only.join(",")}`);
    for (const f of spec.varFiles) args.push(`-var-file=${f}`);
    const vars = { ...spec.vars, ...spec.sourceFiles, ...extraVars };
    for (const name of Object.keys(vars).sort()) args.push("-var", `${name}=${vars[name]}`);
    args.push(spec.template);
    return args;
}

export function secretEnv(secretVars: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(secretVars).map(([k, v]) => [`PKR_VAR_${k}`, v]));
}

/** The files of the last run in the manifest post-processor's JSON. */
export function manifestFiles(text: string): { name: string; size: number }[] {
    let m: any;
    try {
        m = JSON.parse(text);
    } catch (e: any) {
        throw new WarmrunError(`the packer manifest is not JSON: ${e.message}`);
    }
    const builds: any[] = Array.isArray(m?.builds) ? m.builds : [];
    const last = builds.filter((b) => !m.last_run_uuid || b.packer_run_uuid === m.last_run_uuid);
    return last.flatMap((b) => (Array.isArray(b.files) ? b.files : [])).map((f: any) => ({ name: String(f.name), size: Number(f.size ?? 0) }));
}

/** The disk among a build's files: a qcow2/raw/img file, else the largest. */
export function pickDisk(files: { name: string; size: number }[]): string | undefined {
    const disks = files.filter((f) => /\.(qcow2|raw|img)$/i.test(f.name));
    const pool = disks.length ? disks : files;
    return [...pool].sort((a, b) => b.size - a.size)[0]?.name;
}

export function sha256Line(sha: string, name: string): string {
    return `${sha}  ${name}\n`;
}

// ---- the build ---------------------------------------------------------------------------------

export function packerVersion(where: string): [number, number, number] {
    let text: string;
    try {
        text = execFileSync("packer", ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: any) {
        if (e.code === "ENOENT") throw new WarmrunError(`${where}: packer is not installed: run \`npm run setup\` (it installs packer, qemu-system-x86 and qemu-utils)`);
        throw new WarmrunError(`${where}: \`packer version\` failed: ${e.message}`);
    }
    const v = parsePackerVersion(text);
    if (!v) throw new WarmrunError(`${where}: cannot read the packer version from "${text.trim()}"`);
    return v;
}

/** A throwaway ed25519 key pair in a private directory; the caller removes the directory. */
export function makeSshKey(dir: string): { privateKeyFile: string; publicKey: string } {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "packer-build", "-f", file], { stdio: "ignore" });
    return { privateKeyFile: file, publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

/** Copies the files the key saw into dir (so edits during the build cannot leak into it). */
export function copyBuildFiles(spec: Pick<PackerBuildSpec, "root" | "files">, dir: string): void {
    for (const rel of spec.files) {
        const to = path.join(dir, rel);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(path.join(spec.root, rel), to);
        fs.chmodSync(to, fs.statSync(path.join(spec.root, rel)).mode & 0o777);
    }
}

/** Runs `packer init` (when needed) and `packer build` in dir, streaming the output. */
export async function runPackerBuild(where: string, spec: PackerBuildSpec, dir: string, log: (m: string) => void): Promise<string> {
    const version = packerVersion(where);
    const templateText = fs.readFileSync(path.join(dir, spec.template), "utf8");
    // Packer resolves relative paths (scripts, manifest output) against its working directory.
    const cwd = path.join(dir, path.dirname(spec.template));
    const template = path.basename(spec.template);
    const init = initDecision(spec.template, templateText, version, where);
    log(`${where}: ${init.note}`);
    const secrets = Object.values(spec.secretVars);
    const env = { ...process.env, ...secretEnv(spec.secretVars), PACKER_NO_COLOR: "1", CHECKPOINT_DISABLE: "1" };
    let output = "";
    if (init.run) output += (await runTool(`${where}: packer init`, "packer", ["init", template], { cwd, env, secrets })).output;
    const extra: Record<string, string> = {};
    const keyDir = path.join(dir, ".warmrun-ssh");
    if (spec.sshKey) {
        const k = makeSshKey(keyDir);
        extra[SSH_KEY_VARS.privateKeyFile] = k.privateKeyFile;
        extra[SSH_KEY_VARS.publicKey] = k.publicKey;
    }
    try {
        log(`${where}: packer ${version.join(".")} build ${spec.template}`);
        output += (await runTool(`${where}: packer build`, "packer", packerArgs("build", { ...spec, template }, extra), { cwd, env, secrets })).output;
    } finally {
        fs.rmSync(keyDir, { recursive: true, force: true });
    }
    return output;
}

/** From the manifest: the packer outputs, then the optional VMDK and OVA, all in outDir. */
export async function collectOutputs(where: string, spec: PackerBuildSpec, dir: string, outDir: string, log: (m: string) => void): Promise<ApplianceFile[]> {
    const manifestFile = path.join(dir, path.dirname(spec.template), spec.manifest);
    if (!fs.existsSync(manifestFile)) {
        throw new WarmrunError(`${where}: packer wrote no manifest at ${spec.manifest}: add a \`post-processor "manifest"\` with output = "${spec.manifest}" to the template`);
    }
    const listed = manifestFiles(fs.readFileSync(manifestFile, "utf8"));
    if (listed.length === 0) throw new WarmrunError(`${where}: the packer manifest lists no files for the last run`);
    fs.mkdirSync(outDir, { recursive: true });
    const names: string[] = [];
    for (const f of listed) {
        const from = path.resolve(path.dirname(manifestFile), f.name);
        const name = path.basename(f.name);
        if (names.includes(name)) throw new WarmrunError(`${where}: two packer outputs are named ${name}; give them distinct names`);
        fs.renameSync(from, path.join(outDir, name));
        names.push(name);
    }
    const disk = pickDisk(listed.map((f) => ({ name: path.basename(f.name), size: f.size })));
    if ((spec.vmdk || spec.ova) && disk) {
        const base = disk.replace(/\.[^.]+$/, "");
        const vmdk = `${base}.vmdk`;
        log(`${where}: qemu-img convert ${disk} -> ${vmdk} (streamOptimized)`);
        await runTool(`${where}: VMDK conversion`, "qemu-img", ["convert", "-O", "vmdk", "-o", "subformat=streamOptimized", disk, vmdk], { cwd: outDir });
        names.push(vmdk);
        if (spec.ova) {
            const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", path.join(outDir, disk)], { encoding: "utf8" }));
            const ova = `${base}.ova`;
            log(`${where}: packing ${ova}`);
            await writeOva(path.join(outDir, ova), { name: base, vmdkFile: path.join(outDir, vmdk), capacityBytes: Number(info["virtual-size"]) });
            names.push(ova);
        }
    }
    const files: ApplianceFile[] = [];
    for (const name of names) {
        const abs = path.join(outDir, name);
        const sha256 = await hashFileStream(abs);
        fs.writeFileSync(`${abs}.sha256`, sha256Line(sha256, name));
        files.push({ name, size: fs.statSync(abs).size, sha256 });
    }
    return files;
}

export function detailsOf(outputDir: string, files: ApplianceFile[]): ApplianceDetails {
    return {
        outputDir,
        files: files.map((f) => f.name),
        sizes: Object.fromEntries(files.map((f) => [f.name, f.size])),
        sha256: Object.fromEntries(files.map((f) => [f.name, f.sha256])),
    };
}

/** Replaces outputDir by the new files in one rename, so it never mixes two builds. */
function installOutputs(staged: string, outputDir: string): void {
    fs.mkdirSync(path.dirname(outputDir), { recursive: true });
    const old = `${outputDir}.old-${process.pid}`;
    if (fs.existsSync(outputDir)) fs.renameSync(outputDir, old);
    fs.renameSync(staged, outputDir);
    fs.rmSync(old, { recursive: true, force: true });
}

export async function build(ctx: BuildContext): Promise<BuildResult> {
    const { inputs, client, log } = ctx;
    const spec = inputs.build as PackerBuildSpec;
    const where = inputs.name;
    const outputDir = path.resolve(spec.outputDir);
    fs.mkdirSync(path.dirname(outputDir), { recursive: true });
    const staged = fs.mkdtempSync(`${outputDir}.new-`);
    let work: string | undefined;
    try {
        let output = "";
        let dir: string;
        if (spec.runner === "command") {
            if (!spec.commandDir || !fs.existsSync(spec.commandDir)) throw new WarmrunError(`${where}: the packer command left no build directory; see the ${where}-packer resource's output`);
            dir = spec.commandDir;
        } else {
            work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-packer-"));
            dir = path.join(work, "build");
            copyBuildFiles(spec, dir);
            output = await runPackerBuild(where, spec, dir, log);
        }
        const files = await collectOutputs(where, spec, dir, staged, log);
        for (const f of files) log(`${where}: pushing ${f.name} (${f.size} bytes)`);
        const digest = await pushArtifact(client, {
            repository: inputs.repository,
            tag: inputs.tag,
            artifactType: APPLIANCE_ARTIFACT_TYPE,
            config: { mediaType: APPLIANCE_CONFIG_MEDIA, data: Buffer.from(JSON.stringify({ files })) },
            layers: files.map((f) => ({ mediaType: APPLIANCE_FILE_MEDIA, digest: `sha256:${f.sha256}`, size: f.size, file: path.join(staged, f.name), annotations: { [TITLE_ANNOTATION]: f.name } })),
            annotations: artifactAnnotations({ key: inputs.key, kind: PACKER_KIND, name: inputs.name }),
            provenance: inputs.provenance,
        });
        installOutputs(staged, outputDir);
        const counted = countDownloads(output);
        return { digest, downloads: { count: counted.count, bytes: counted.bytes }, details: { ...detailsOf(outputDir, files) } };
    } finally {
        fs.rmSync(staged, { recursive: true, force: true });
        if (work) fs.rmSync(work, { recursive: true, force: true });
    }
}

/** A hit: the files come from the registry (a download, no build); files already in place stay. */
export const adopt: Adopter = async (ctx, digest) => {
    const { inputs, client, log } = ctx;
    const spec = inputs.build as PackerBuildSpec;
    const outputDir = path.resolve(spec.outputDir);
    const m = await client.getManifest(inputs.repository, digest);
    if (!m) throw new WarmrunError(`${inputs.name}: manifest ${digest} vanished while adopting it; run again`);
    fs.mkdirSync(outputDir, { recursive: true });
    const files: ApplianceFile[] = [];
    let count = 0;
    let bytes = 0;
    for (const layer of m.json.layers ?? []) {
        const name = layer.annotations?.[TITLE_ANNOTATION];
        if (!name || name !== path.basename(name)) throw new WarmrunError(`${inputs.name}: ${digest} is not a warmrun appliance (a layer has no plain file name)`);
        const abs = path.join(outputDir, name);
        const sha256 = String(layer.digest).replace(/^sha256:/, "");
        const present = fs.existsSync(abs) && fs.statSync(abs).size === layer.size && (await hashFileStream(abs)) === sha256;
        if (!present) {
            log(`${inputs.name}: downloading ${name} (${layer.size} bytes)`);
            bytes += await downloadBlobToFile(client, inputs.repository, layer.digest, abs);
            count++;
        }
        fs.writeFileSync(`${abs}.sha256`, sha256Line(sha256, name));
        files.push({ name, size: layer.size, sha256 });
    }
    return { downloads: { count, bytes }, details: { ...detailsOf(outputDir, files) } };
};
