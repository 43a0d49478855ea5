// CloudInitIso: a NoCloud seed (user-data, meta-data, network-config, extra config files) as an
// ISO9660 image labelled `cidata`, with Joliet and Rock Ridge, byte-reproducible: fixed dates,
// fixed owners and modes, rendered with the yaml library (never string templates). The
// rendering is pure; the ISO is written by xorriso in the dynamic provider, mode 0600.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import YAML from "yaml";
import { stringify as tomlStringify } from "smol-toml";
import { runTool } from "../process";
import { Provenance, withProvenance } from "../oci/provenance";
import { WarmrunError } from "../errors";
import { appendJournal, NO_DOWNLOADS } from "../journal";
import { FileEntry, shortKey } from "../keys";
import { RegistryClient, RegistryConnection, MEDIA, digestOf } from "../registry";

export const CLOUD_INIT_KIND = "CloudInitIso";
export const CLOUD_INIT_RECIPE_VERSION = 1;
export const ISO_VOLUME_LABEL = "cidata";
/** List-valued cloud-config modules: extra user-data adds to ours instead of replacing it. */
const LIST_MODULES = new Set(["write_files", "runcmd", "bootcmd", "packages", "users", "ssh_authorized_keys"]);

export interface SeedFile {
    /** Path in the guest. */
    path: string;
    content: string;
    permissions: string;
}

export interface SeedInputs {
    /** PEM text of CA certificates the guest should trust. */
    caCertificates: string[];
    /** Files written in the guest (certificates 0644, keys and secret files 0600). */
    files: SeedFile[];
    agentConfig?: { path: string; value: unknown };
    /** registries.conf entries: location -> settings (insecure, blocked, mirrors...). */
    registries?: Record<string, Record<string, unknown>>;
    rpms: string[];
    service?: string;
    hostname?: string;
    networkConfig?: Record<string, unknown>;
    /** Extra user-data, already parsed. */
    extraUserData?: Record<string, unknown>;
    /** Extra files carried on the ISO under config/: relative path -> sha256 (content read at build). */
    extraFiles: FileEntry[];
}

export interface RenderedSeed {
    userData: string;
    metaData: string;
    networkConfig: string;
    instanceId: string;
}

export const REGISTRIES_CONF_PATH = "/etc/containers/registries.conf.d/50-warmrun.conf";

/** Parses the user's extra user-data; not a YAML map is a clear error naming where it came from. */
export function parseExtraUserData(text: string, where: string): Record<string, unknown> {
    let doc: unknown;
    try {
        const parsed = YAML.parseDocument(text, { prettyErrors: true });
        if (parsed.errors.length) throw parsed.errors[0];
        doc = parsed.toJS();
    } catch (e: any) {
        throw new WarmrunError(`${where} is not valid YAML: ${String(e.message).split("\n")[0]}: fix it (it is merged into the #cloud-config user-data)`);
    }
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) throw new WarmrunError(`${where} must be a YAML map of cloud-config modules (e.g. packages: [...]), not ${Array.isArray(doc) ? "a list" : typeof doc}`);
    return doc as Record<string, unknown>;
}

/** The default network: DHCP on every ethernet interface. */
export const DEFAULT_NETWORK = { version: 2, ethernets: { all: { match: { name: "e*" }, dhcp4: true } } };

function yamlText(value: unknown): string {
    return YAML.stringify(value, { lineWidth: 0, sortMapEntries: false });
}

/** The #cloud-config document, before the extra user-data is merged in. */
export function cloudConfig(inputs: SeedInputs): Record<string, unknown> {
    const files: SeedFile[] = [...inputs.files];
    if (inputs.agentConfig) files.push({ path: inputs.agentConfig.path, content: yamlText(inputs.agentConfig.value), permissions: "0600" });
    if (inputs.registries && Object.keys(inputs.registries).length) {
        const registry = Object.keys(inputs.registries)
            .sort()
            .map((location) => ({ location, ...inputs.registries![location] }));
        files.push({ path: REGISTRIES_CONF_PATH, content: tomlStringify({ registry }) + "\n", permissions: "0644" });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const doc: Record<string, unknown> = {};
    if (inputs.hostname) doc.hostname = inputs.hostname;
    if (inputs.caCertificates.length) doc.ca_certs = { trusted: inputs.caCertificates };
    if (files.length) doc.write_files = files.map((f) => ({ path: f.path, content: f.content, owner: "root:root", permissions: f.permissions }));
    const runcmd: string[][] = [];
    if (inputs.rpms.length) runcmd.push(["dnf", "install", "-y", ...inputs.rpms]);
    if (inputs.service) runcmd.push(["systemctl", "enable", "--now", inputs.service]);
    if (runcmd.length) doc.runcmd = runcmd;
    return doc;
}

/** Ours first; the user's extra modules are added (lists) or take over (everything else). */
export function mergeUserData(ours: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = { ...ours };
    for (const [k, v] of Object.entries(extra)) {
        if (LIST_MODULES.has(k) && Array.isArray(v) && Array.isArray(merged[k])) merged[k] = [...(merged[k] as unknown[]), ...v];
        else merged[k] = v;
    }
    return merged;
}

/** user-data, meta-data (instance-id from the content: new config, new instance), network-config. */
export function renderSeed(inputs: SeedInputs): RenderedSeed {
    const userData = "#cloud-config\n" + yamlText(mergeUserData(cloudConfig(inputs), inputs.extraUserData ?? {}));
    const network = inputs.networkConfig ?? DEFAULT_NETWORK;
    if ((network as any).version !== 2) throw new WarmrunError("networkConfig must be network-config version 2 (version: 2, ethernets: ...)");
    const networkConfig = yamlText(network);
    const h = createHash("sha256").update(userData).update("\0").update(networkConfig);
    for (const f of [...inputs.extraFiles].sort((a, b) => (a.path < b.path ? -1 : 1))) h.update(`\0${f.path}\0${f.sha256}`);
    const instanceId = `iid-warmrun-${h.digest("hex").slice(0, 20)}`;
    const metaData = yamlText({ "instance-id": instanceId, ...(inputs.hostname ? { "local-hostname": inputs.hostname } : {}) });
    return { userData, metaData, networkConfig, instanceId };
}

/** What the provider needs to write the ISO; secret as a whole (it carries keys). */
export interface IsoBuildSpec {
    userData: string;
    metaData: string;
    networkConfig: string;
    /** Extra files: path on the ISO (under config/) and where to read them. */
    extraFiles: { path: string; from: string }[];
}

/** xorriso's mkisofs mode: label cidata, Joliet, Rock Ridge with owner 0:0, every date fixed. */
export function xorrisoArgs(stage: string, out: string): string[] {
    return ["-as", "mkisofs", "-quiet", "-V", ISO_VOLUME_LABEL, "-J", "-R", "-uid", "0", "-gid", "0", "--modification-date=1970010100000000", "-o", out, stage];
}

/** Writes the seed into a fresh staging tree with fixed modes and times, then the ISO. */
export async function writeIso(spec: IsoBuildSpec, out: string, what: string): Promise<string> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-iso-"));
    try {
        const stage = path.join(tmp, "seed");
        fs.mkdirSync(stage, { mode: 0o700 });
        const put = (rel: string, data: string | Buffer) => {
            const abs = path.join(stage, rel);
            fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
            fs.writeFileSync(abs, data, { mode: 0o600 });
        };
        put("user-data", spec.userData);
        put("meta-data", spec.metaData);
        put("network-config", spec.networkConfig);
        for (const f of spec.extraFiles) {
            if (!fs.existsSync(f.from)) throw new WarmrunError(`${what}: ${f.from} vanished before the ISO was written; run again`);
            put(path.join("config", f.path), fs.readFileSync(f.from));
        }
        const epoch = new Date(0);
        const fix = (abs: string) => {
            const st = fs.lstatSync(abs);
            if (st.isDirectory()) for (const e of fs.readdirSync(abs)) fix(path.join(abs, e));
            fs.chmodSync(abs, st.isDirectory() ? 0o555 : 0o444);
            fs.utimesSync(abs, epoch, epoch);
        };
        fix(stage);
        const iso = path.join(tmp, "seed.iso");
        await runTool(what, "xorriso", xorrisoArgs(stage, iso), { env: { ...process.env, SOURCE_DATE_EPOCH: "0" }, stream: () => undefined });
        const sha256 = createHash("sha256").update(fs.readFileSync(iso)).digest("hex");
        fs.mkdirSync(path.dirname(out), { recursive: true });
        const partial = `${out}.partial`;
        fs.copyFileSync(iso, partial);
        fs.chmodSync(partial, 0o600);
        fs.renameSync(partial, out);
        return sha256;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

function fileSha256(file: string): string | undefined {
    return fs.existsSync(file) ? createHash("sha256").update(fs.readFileSync(file)).digest("hex") : undefined;
}

// The dynamic provider of CloudInitIso: the ISO is a local file, so create writes it, read checks
// it is still there with its digest, and delete removes it (it carries keys).

export interface IsoInputs {
    name: string;
    kind: string;
    key: string;
    path: string;
    inputs: Record<string, string>;
    build: IsoBuildSpec;
    /** Also push the ISO as an OCI artifact here (the registry then holds its keys). */
    push?: { registry: RegistryConnection; repository: string };
    /** Provenance annotations of the pushed manifest. */
    provenance?: Provenance;
}

export const ISO_ARTIFACT_TYPE = "application/vnd.warmrun.cloud-init-iso.v1";
export const ISO_LAYER_MEDIA_TYPE = "application/vnd.warmrun.cloud-init-iso.v1.iso9660";

/** Pushes the ISO as a one-layer OCI artifact (blobs first, manifest last) under its key tag. */
export async function pushIso(inputs: IsoInputs, sha256: string): Promise<{ ref: string; digest: string }> {
    const { registry, repository } = inputs.push!;
    const client = new RegistryClient(registry);
    const tag = shortKey(inputs.key);
    const config = Buffer.from("{}");
    const size = fs.statSync(inputs.path).size;
    await client.pushBlob(repository, { digest: digestOf(config), size: config.length, data: config });
    await client.pushBlob(repository, { digest: `sha256:${sha256}`, size, file: inputs.path });
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA.ociManifest,
            artifactType: ISO_ARTIFACT_TYPE,
            config: { mediaType: MEDIA.ociEmpty, digest: digestOf(config), size: config.length },
            layers: [{ mediaType: ISO_LAYER_MEDIA_TYPE, digest: `sha256:${sha256}`, size, annotations: { "org.opencontainers.image.title": `${inputs.name}.iso` } }],
            annotations: withProvenance({ "dev.warmrun.key": inputs.key, "dev.warmrun.kind": CLOUD_INIT_KIND, "dev.warmrun.artifact": inputs.name }, inputs.provenance),
        }),
    );
    const digest = await client.putManifest(repository, tag, MEDIA.ociManifest, manifest);
    return { ref: `${registry.host}/${repository}:${tag}`, digest };
}

export interface IsoOutputs {
    push?: IsoInputs["push"];
    name: string;
    kind: string;
    key: string;
    path: string;
    inputs: Record<string, string>;
    sha256: string;
    ref: string;
    digest: string;
    pinned: string;
    cacheHit: boolean;
    buildSeconds: number;
    downloads: typeof NO_DOWNLOADS;
}

export async function createIso(inputs: IsoInputs): Promise<{ id: string; outs: IsoOutputs }> {
    const started = Date.now();
    const before = fileSha256(inputs.path);
    const sha256 = await writeIso(inputs.build, inputs.path, inputs.name);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const cacheHit = before === sha256;
    const pushed = inputs.push ? await pushIso(inputs, sha256) : undefined;
    appendJournal({ artifact: inputs.name, kind: inputs.kind, key: inputs.key, action: cacheHit ? "adopt" : "build", digest: `sha256:${sha256}`, buildSeconds: seconds, downloads: NO_DOWNLOADS });
    console.error(`${inputs.name}: wrote ${inputs.path} (sha256 ${sha256}, mode 0600)${pushed ? `, pushed ${pushed.ref}@${pushed.digest}` : ""}`);
    const { build: _secret, ...rest } = inputs;
    const published = pushed
        ? { ref: pushed.ref, digest: pushed.digest, pinned: `${pushed.ref.replace(/:[^:/]+$/, "")}@${pushed.digest}` }
        : { ref: inputs.path, digest: `sha256:${sha256}`, pinned: `${inputs.path}@sha256:${sha256}` };
    return { id: inputs.path, outs: { ...rest, sha256, ...published, cacheHit, buildSeconds: cacheHit ? 0 : seconds, downloads: NO_DOWNLOADS } };
}

export async function readIso(id: string, props: IsoOutputs) {
    if (fileSha256(props.path) !== props.sha256) {
        appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "gone", digest: props.digest });
        return { id: "", props: {} };
    }
    return { id, props };
}

export async function diffIso(_id: string, olds: IsoOutputs, news: IsoInputs) {
    const replaces: string[] = [];
    if (olds.key !== news.key) replaces.push("key");
    if (olds.path !== news.path) replaces.push("path");
    if (JSON.stringify(olds.push?.repository ?? null) !== JSON.stringify(news.push?.repository ?? null) || olds.push?.registry?.host !== news.push?.registry?.host) replaces.push("push");
    if (replaces.length === 0 && fileSha256(olds.path) !== olds.sha256) replaces.push("sha256");
    if (replaces.length && olds.key !== news.key) {
        for (const [k, v] of Object.entries(news.inputs)) if (olds.inputs?.[k] !== v) replaces.push(`inputs[${JSON.stringify(k)}]`);
    }
    // Same path (the file was altered or deleted): the old one must go before the new is written.
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: olds.path === news.path };
}

export async function deleteIso(_id: string, props: IsoOutputs) {
    if (fileSha256(props.path) === props.sha256) fs.rmSync(props.path, { force: true });
    appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "delete", digest: props.digest });
}
