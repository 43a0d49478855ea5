// PackerAppliance component: the template's directory (scripts, http files), the var files, the
// variables and the source files (disk image, kernel: by checksum) make the key. `packer validate`
// runs while the program runs, so a bad template fails `pulumi preview`, before any build.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Artifact } from "../../core/artifact";
import { computeKey, FileEntry, KeyMaterial, shortKey } from "../../core/keys";
import { hashFiles, listFiles, StatCache } from "../../core/fileset";
import { KindArgs, publish, upstreamKeysOf } from "../../core/publish";
import { runTool } from "../../core/process";
import { WarmrunError } from "../../core/errors";
import { repositoryFor } from "../../oci/registry";
import { copyBuildFiles, makeSshKey, packerArgs, PackerBuildSpec, PACKER_KIND, PACKER_RECIPE_VERSION, secretEnv, SSH_KEY_VARS } from "./build";
import { packerCommandOnMiss } from "./command";

export interface PackerFields {
    template: string;
    root?: string;
    ignore?: string[];
    varFiles?: string[];
    vars?: Record<string, string>;
    secretVars?: Record<string, string>;
    sourceFiles?: Record<string, string>;
    sshKey?: boolean;
    only?: string[];
    manifest?: string;
    vmdk?: boolean;
    ova?: boolean;
    outputDir?: string;
    runner?: "warmrun" | "command";
}

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

/** The secret variables' values, as Pulumi secrets, from the stack config keys they name. */
export function secretVarOutputs(secretVars: Record<string, string> = {}): Record<string, pulumi.Output<string>> {
    return Object.fromEntries(
        Object.entries(secretVars).map(([v, key]) => {
            const [ns, ...rest] = key.split(":");
            return [v, new pulumi.Config(ns).requireSecret(rest.join(":"))];
        }),
    );
}

const plainOf = (o: pulumi.Output<Record<string, string>>) => new Promise<Record<string, string>>((resolve) => o.apply((v) => { resolve(v); return v; }));

export class PackerAppliance extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:PackerAppliance", name, {}, opts);
        const fields = args.spec.fields as PackerFields;
        const outputDir = fields.outputDir ? path.resolve(fields.outputDir) : path.join(path.dirname(args.workDir), "appliances", name);
        const secrets = pulumi.all(secretVarOutputs(fields.secretVars));
        const plan = upstreamKeysOf(args)
            .then((upstream) => appliancePlan(name, fields, upstream, args.statCache, outputDir))
            .then(async (p) => {
                // Only a miss can start a build, so only a miss is validated: a hit (a warm run)
                // never starts packer at all.
                const hit = (await args.lookup(repositoryFor(args.registry, name), shortKey(computeKey(p.material)))) !== undefined;
                if (!hit) await validateTemplate(name, p.spec, await plainOf(secrets));
                return p;
            })
            // A bad template is the user's input to fix: the message alone, without a stack trace.
            .catch((e: Error) => {
                throw e instanceof WarmrunError ? new pulumi.RunError(e.message) : e;
            });
        const hasSecrets = Object.keys(fields.secretVars ?? {}).length > 0;
        let build: pulumi.Output<PackerBuildSpec> = pulumi.all([plan, secrets]).apply(([p, s]) => ({ ...p.spec, secretVars: s }));
        if ((fields.runner ?? "warmrun") === "command") {
            const repository = repositoryFor(args.registry, name);
            const key = plan.then((p) => computeKey(p.material));
            const hit = key.then(async (k) => (await args.lookup(repository, shortKey(k))) !== undefined);
            const commandDir = packerCommandOnMiss(this, name, key, hit, plan.then((p) => p.spec), pulumi.output(secrets), args.workDir);
            build = pulumi.all([build, commandDir]).apply(([b, d]) => ({ ...b, ...(d ? { commandDir: d } : {}) }));
        }
        ({ key: this.key, artifact: this.artifact } = publish(this, name, PACKER_KIND, args, plan.then((p) => p.material), build, [], {}, hasSecrets ? ["build"] : []));
        this.registerOutputs({});
    }
}
