// CloudInitIso component: reads the certificate, key and config files at preview (a missing one is
// an error naming its field), renders the seed, keys it by the rendered content, and hands the
// rendered text to the provider as a Pulumi secret: no plaintext in state, outputs or logs.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Artifact, RegistryArgs } from "./artifact";
import { repositoryFor } from "./registry";
import { FileEntry, KeyMaterial, computeKey, inputSummary, sha256Hex, shortKey } from "./keys";
import { hashFileSet } from "./fileset";
import { KindArgs, upstreamKeysOf } from "./kind";
import { WarmrunError } from "./errors";
import { Provenance, provenanceOf } from "./oci/provenance";
import { DownloadSummary } from "./journal";
import {
    CLOUD_INIT_KIND,
    CLOUD_INIT_RECIPE_VERSION,
    IsoBuildSpec,
    parseExtraUserData,
    renderSeed,
    SeedFile,
    SeedInputs,
} from "./builders/cloudInit";

export interface CloudInitFields {
    caCertificate?: string;
    certificates?: Record<string, string>;
    keys?: Record<string, string>;
    secretFiles?: Record<string, string>;
    agentConfig?: Record<string, unknown>;
    agentConfigPath?: string;
    registries?: Record<string, Record<string, unknown>>;
    rpms?: string[];
    service?: string;
    hostname?: string;
    networkConfig?: Record<string, unknown>;
    extraDir?: string;
    userData?: string;
    userDataFile?: string;
    push?: boolean;
}

function readLocal(where: string, file: unknown, projectRoot: string): string {
    if (typeof file !== "string") throw new WarmrunError(`${where} must be the path of a file, relative to the project`);
    const abs = path.resolve(projectRoot, file);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new WarmrunError(`${where}: file ${file} does not exist: create it or fix the path (relative to the project)`);
    return fs.readFileSync(abs, "utf8");
}

function guestPath(where: string, p: string): string {
    if (!p.startsWith("/") || p.split("/").includes("..")) throw new WarmrunError(`${where}: "${p}" must be an absolute path in the guest, e.g. /etc/pki/agent.crt`);
    return p;
}

/** The seed's inputs from the artifact's fields; every problem names its field. */
export async function seedInputs(name: string, fields: CloudInitFields, projectRoot: string, hashExtra: (dir: string) => Promise<FileEntry[]>): Promise<SeedInputs> {
    const where = `warmrun:artifacts.${name}`;
    const files: SeedFile[] = [];
    for (const [field, permissions] of [["certificates", "0644"], ["keys", "0600"]] as const) {
        for (const [guest, local] of Object.entries(fields[field] ?? {})) {
            const w = `${where}.${field}[${JSON.stringify(guest)}]`;
            files.push({ path: guestPath(w, guest), content: readLocal(w, local, projectRoot), permissions });
        }
    }
    for (const [guest, content] of Object.entries(fields.secretFiles ?? {})) {
        const w = `${where}.secretFiles[${JSON.stringify(guest)}]`;
        if (typeof content !== "string") throw new WarmrunError(`${w} must be the file's content as a string`);
        files.push({ path: guestPath(w, guest), content, permissions: "0600" });
    }
    const caCertificates = fields.caCertificate ? [readLocal(`${where}.caCertificate`, fields.caCertificate, projectRoot)] : [];
    let extra: Record<string, unknown> = {};
    if (fields.userDataFile) extra = parseExtraUserData(readLocal(`${where}.userDataFile`, fields.userDataFile, projectRoot), `${where}.userDataFile (${fields.userDataFile})`);
    if (fields.userData) extra = { ...extra, ...parseExtraUserData(fields.userData, `${where}.userData`) };
    if (fields.networkConfig && (fields.networkConfig as any).version !== 2) {
        throw new WarmrunError(`${where}.networkConfig must be network-config version 2: add version: 2 (and ethernets: ...)`);
    }
    if (fields.rpms?.some((r) => r.startsWith("-"))) throw new WarmrunError(`${where}.rpms: package names or URLs, not options`);
    return {
        caCertificates,
        files,
        ...(fields.agentConfig ? { agentConfig: { path: guestPath(`${where}.agentConfigPath`, fields.agentConfigPath ?? "/etc/flightctl/config.yaml"), value: fields.agentConfig } } : {}),
        ...(fields.registries ? { registries: fields.registries } : {}),
        rpms: fields.rpms ?? [],
        ...(fields.service ? { service: fields.service } : {}),
        ...(fields.hostname ? { hostname: fields.hostname } : {}),
        ...(fields.networkConfig ? { networkConfig: fields.networkConfig } : {}),
        extraUserData: extra,
        extraFiles: fields.extraDir ? await hashExtra(fields.extraDir) : [],
    };
}

/** The key covers what goes on the ISO, by digest only: the rendered files and the extra files. */
export function seedKeyMaterial(rendered: { userData: string; metaData: string; networkConfig: string }, extraFiles: FileEntry[], upstream: Record<string, string>): KeyMaterial {
    return {
        kind: CLOUD_INIT_KIND,
        recipeVersion: CLOUD_INIT_RECIPE_VERSION,
        files: [
            { path: "user-data", sha256: sha256Hex(rendered.userData), executable: false },
            { path: "meta-data", sha256: sha256Hex(rendered.metaData), executable: false },
            { path: "network-config", sha256: sha256Hex(rendered.networkConfig), executable: false },
            ...extraFiles.map((f) => ({ ...f, path: `config/${f.path}` })),
        ],
        params: {},
        upstream,
    };
}

/** The ISO file: one dynamic resource, whose outputs name its path and digest, never its content. */
export class IsoFile extends pulumi.dynamic.Resource {
    declare readonly key: pulumi.Output<string>;
    declare readonly path: pulumi.Output<string>;
    declare readonly sha256: pulumi.Output<string>;
    declare readonly ref: pulumi.Output<string>;
    declare readonly digest: pulumi.Output<string>;
    declare readonly pinned: pulumi.Output<string>;
    declare readonly cacheHit: pulumi.Output<boolean>;
    declare readonly buildSeconds: pulumi.Output<number>;
    declare readonly downloads: pulumi.Output<DownloadSummary>;

    constructor(
        name: string,
        args: { name: string; key: pulumi.Input<string>; path: pulumi.Input<string>; inputs: pulumi.Input<Record<string, string>>; build: pulumi.Input<IsoBuildSpec>; push?: { registry: RegistryArgs; repository: string }; provenance?: Provenance },
        opts?: pulumi.CustomResourceOptions,
    ) {
        const r = args.push?.registry;
        const push = args.push && r
            ? { repository: args.push.repository, registry: { host: r.host, insecure: r.insecure, ...(r.username !== undefined ? { username: r.username, password: r.password } : {}) } }
            : undefined;
        super(
            isoProvider,
            name,
            { ...args, push, kind: CLOUD_INIT_KIND, build: pulumi.secret(args.build), sha256: undefined, ref: undefined, digest: undefined, pinned: undefined, cacheHit: undefined, buildSeconds: undefined, downloads: undefined },
            // The build carries keys; the push block may carry the registry password.
            { ...opts, additionalSecretOutputs: ["build", ...(r?.password ? ["push"] : [])] },
            "warmrun",
            CLOUD_INIT_KIND,
        );
    }
}

// Serialized into the state like components/provider.ts: tiny functions that load the builder
// module from the project at run time.
function loadIsoImpl(): typeof import("./builders/cloudInit") {
    const p = require("path");
    const root = process.cwd();
    if (!require.extensions[".ts"]) require("ts-node").register({ transpileOnly: true, project: p.join(root, "tsconfig.json") });
    return require(p.join(root, "components", "builders", "cloudInit"));
}

const isoProvider: pulumi.dynamic.ResourceProvider = {
    diff: (id: string, olds: any, news: any) => loadIsoImpl().diffIso(id, olds, news),
    create: (inputs: any) => loadIsoImpl().createIso(inputs),
    read: (id: string, props: any) => loadIsoImpl().readIso(id, props),
    delete: (id: string, props: any) => loadIsoImpl().deleteIso(id, props),
};

export class CloudInitIso extends pulumi.ComponentResource {
    readonly key: Promise<string>;
    /** Has every output of an Artifact (ref = the file's path, digest = its sha256). */
    readonly artifact: Artifact;

    constructor(name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:CloudInitIso", name, {}, opts);
        const projectRoot = process.cwd();
        const fields = args.spec.fields as CloudInitFields;
        // A problem with the inputs is reported as the program's error: its message, no stack trace.
        const seed = seedInputs(name, fields, projectRoot, (dir) => hashFileSet({ root: path.resolve(projectRoot, dir) }, args.statCache)).catch((e) => {
            throw e instanceof WarmrunError ? new pulumi.RunError(e.message) : e;
        });
        const rendered = seed.then(renderSeed);
        const material = Promise.all([seed, rendered, upstreamKeysOf(args)]).then(([s, r, up]) => seedKeyMaterial(r, s.extraFiles, up));
        this.key = material.then(computeKey);
        const cacheDir = args.cacheDir ?? path.join(projectRoot, ".warmrun");
        const isoPath = this.key.then((k) => path.join(cacheDir, "cloud-init", `${name}-${shortKey(k)}.iso`));
        const build: Promise<IsoBuildSpec> = Promise.all([seed, rendered]).then(([s, r]) => ({
            userData: r.userData,
            metaData: r.metaData,
            networkConfig: r.networkConfig,
            extraFiles: s.extraFiles.map((f) => ({ path: f.path, from: path.resolve(projectRoot, fields.extraDir!, f.path) })),
        }));
        const push = fields.push ? { registry: args.registry, repository: repositoryFor(args.registry, name) } : undefined;
        const provenance = push ? provenanceOf(args.git) : undefined;
        const iso = new IsoFile(name, { name, key: this.key, path: isoPath, inputs: material.then(inputSummary), build: pulumi.secret(build), push, ...(provenance ? { provenance } : {}) }, { parent: this });
        this.artifact = iso as unknown as Artifact;
        this.registerOutputs({});
    }
}
