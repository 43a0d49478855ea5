// The NoCloud seed, rendered (pure): user-data (#cloud-config, rendered with the yaml library, never
// string templates), meta-data and network-config, from the inputs the plan reads.
import { createHash } from "crypto";
import YAML from "yaml";
import { stringify as tomlStringify } from "smol-toml";
import { WarmrunError } from "../../core/errors";
import { FileEntry } from "../../core/keys";

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
    /** Installed by cloud-init's own packages module, with the guest's package manager (apt, dnf...). */
    packages?: string[];
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
    if (inputs.packages?.length) doc.packages = [...inputs.packages];
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
