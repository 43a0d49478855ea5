// PackerAppliance's plan: the template's directory (scripts, http files), the var files, the
// variables and the source files (disk image, kernel: by checksum) make the key. `packer validate`
// of the template is the plan's check, run by the component on a miss, before anything is registered.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileEntry, KeyMaterial } from "../../core/keys";
import { hashFiles, listFiles, StatCache } from "../../core/fileset";
import { runTool } from "../../core/process";
import { WarmrunError } from "../../core/errors";
import { Plan, PlanContext } from "../../core/kind";
import { copyBuildFiles, makeSshKey, packerArgs, PackerBuildSpec, secretEnv, SSH_KEY_VARS } from "./build";
import { PackerFields, PACKER_KIND } from "./fields";

export const PACKER_RECIPE_VERSION = 1;

export interface AppliancePlan {
    material: KeyMaterial;
    /** The build spec without secret values (those join as Pulumi secrets). */
    spec: PackerBuildSpec;
}

async function hashOne(file: string, entryPath: string, cache: StatCache): Promise<FileEntry> {
    const [e] = await hashFiles(path.dirname(file), [path.basename(file)], cache);
    return { ...e, path: entryPath };
}

export async function appliancePlan(name: string, fields: PackerFields, upstream: Record<string, string>, cache: StatCache, outputDir: string): Promise<AppliancePlan> {
    const where = `warmrun:artifacts.${name}`;
    const root = fields.root ?? path.dirname(fields.template);
    const template = path.relative(root, fields.template).split(path.sep).join("/");
    if (template.startsWith("../")) throw new WarmrunError(`${where}.template: ${fields.template} is outside root ${root}: put the template under root, or set root to a directory above it`);
    const files = await listFiles({ root, ignore: [...(fields.ignore ?? []), "packer_cache/**", "output/**", "output-*/**", "crash.log"] });
    if (!files.includes(template)) throw new WarmrunError(`${where}.template: ${template} is excluded by the ignore rules`);
    const entries = await hashFiles(root, files, cache);
    const varFiles = fields.varFiles ?? [];
    for (const [i, f] of varFiles.entries()) entries.push(await hashOne(f, `@var-file/${i}/${path.basename(f)}`, cache));
    const sourceFiles = fields.sourceFiles ?? {};
    for (const v of Object.keys(sourceFiles).sort()) entries.push(await hashOne(sourceFiles[v], `@source/${v}`, cache));
    const spec: PackerBuildSpec = {
        runner: fields.runner ?? "warmrun",
        root,
        files,
        template,
        varFiles,
        vars: fields.vars ?? {},
        sourceFiles,
        secretVars: {},
        sshKey: fields.sshKey ?? false,
        only: fields.only ?? [],
        manifest: fields.manifest ?? "packer-manifest.json",
        vmdk: fields.vmdk ?? false,
        ova: fields.ova ?? false,
        outputDir,
    };
    return {
        material: {
            kind: PACKER_KIND,
            recipeVersion: PACKER_RECIPE_VERSION,
            files: entries,
            // Secret values never enter the key (a published key must not leak them); their names do.
            params: { template, vars: spec.vars, only: spec.only, manifest: spec.manifest, vmdk: spec.vmdk, ova: spec.ova, sshKey: spec.sshKey, secretVars: Object.keys(fields.secretVars ?? {}).sort() },
            upstream,
        },
        spec,
    };
}

/** `packer validate` of the template with its var files and variables: one clear error if it fails. */
export async function validateTemplate(name: string, spec: PackerBuildSpec, secretVars: Record<string, string>): Promise<void> {
    const where = `warmrun:artifacts.${name}`;
    const extra: Record<string, string> = {};
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-validate-"));
    try {
        if (spec.sshKey) {
            const k = makeSshKey(path.join(keyDir, "ssh"));
            extra[SSH_KEY_VARS.privateKeyFile] = k.privateKeyFile;
            extra[SSH_KEY_VARS.publicKey] = k.publicKey;
        }
        // In a copy of the key's files: packer validate also rejects an existing output directory,
        // which a hand-run build may have left next to the template.
        const copy = path.join(keyDir, "build");
        copyBuildFiles(spec, copy);
        const cwd = path.join(copy, path.dirname(spec.template));
        await runTool(where, "packer", packerArgs("validate", { ...spec, template: path.basename(spec.template) }, extra), {
            cwd,
            env: { ...process.env, ...secretEnv(secretVars), CHECKPOINT_DISABLE: "1" },
            secrets: Object.values(secretVars),
            stream: () => undefined,
        }).catch((e: Error) => {
            if (/is not installed/.test(e.message)) throw new WarmrunError(`${where}: packer is not installed: run \`npm run setup\` (it installs packer, qemu-system-x86 and qemu-utils)`);
            throw new WarmrunError(`${where}.template: \`packer validate\` rejects ${spec.template}; fix the template or its variables:\n${e.message.replace(/^.*?last lines:\n/s, "")}`);
        });
    } finally {
        fs.rmSync(keyDir, { recursive: true, force: true });
    }
}

export async function plan(fields: PackerFields, ctx: PlanContext): Promise<Plan<PackerBuildSpec>> {
    const outputDir = fields.outputDir ? path.resolve(ctx.projectRoot, fields.outputDir) : path.join(ctx.cacheDir, "appliances", ctx.name);
    const p = await appliancePlan(ctx.name, fields, ctx.upstream, ctx.statCache, outputDir);
    return { material: p.material, build: p.spec };
}
