// CloudInitIso's fields: a NoCloud seed for what a generic disk must not carry.
import { KindDefinition } from "../../core/kind";

export const CLOUD_INIT_KIND = "CloudInitIso";

export interface CloudInitFields {
    caCertificate?: string;
    certificates?: Record<string, string>;
    keys?: Record<string, string>;
    secretFiles?: Record<string, string>;
    agentConfig?: Record<string, unknown>;
    agentConfigPath?: string;
    registries?: Record<string, Record<string, unknown>>;
    rpms?: string[];
    packages?: string[];
    service?: string;
    hostname?: string;
    networkConfig?: Record<string, unknown>;
    extraDir?: string;
    userData?: string;
    userDataFile?: string;
    push?: boolean;
}

export const cloudInitIso: KindDefinition<CloudInitFields> = {
    name: CLOUD_INIT_KIND,
    fields: {
        caCertificate: { type: "string", path: "file", description: "CA certificate (PEM) the guest trusts (ca_certs)" },
        certificates: { type: "object", description: "guest path -> certificate file (written 0644); contents are secrets" },
        keys: { type: "object", description: "guest path -> key file (written 0600); contents are secrets" },
        secretFiles: { type: "object", description: "guest path -> content (written 0600); set with `pulumi config set --path --secret`" },
        agentConfig: { type: "object", description: "agent configuration, written as YAML to agentConfigPath" },
        agentConfigPath: { type: "string", description: "guest path of the agent configuration (default /etc/flightctl/config.yaml)" },
        registries: { type: "object", description: "registries.conf entries: location -> settings (e.g. insecure: true)" },
        rpms: { type: "string[]", description: "packages (names, URLs or guest paths) installed with dnf at first boot" },
        packages: { type: "string[]", description: "packages cloud-init's packages module installs at first boot with the guest's own package manager (apt, dnf, ...)" },
        service: { type: "string", description: "systemd unit enabled and started at first boot" },
        hostname: { type: "string", description: "the guest's hostname" },
        networkConfig: { type: "object", description: "network-config version 2 (default: DHCP on every ethernet)" },
        extraDir: { type: "string", path: "dir", description: "directory carried on the ISO under config/" },
        userData: { type: "string", description: "extra cloud-config (YAML) merged into the user-data" },
        userDataFile: { type: "string", path: "file", description: "file of extra cloud-config (YAML), relative to the project" },
        push: { type: "boolean", description: "also push the ISO as an OCI artifact <registry>/<name>:<key> (the registry then holds its keys; default false)" },
    },
    validate(fields, ctx) {
        if (fields.secretFiles && !ctx.secretKeys.has("warmrun:artifacts")) {
            return [`${ctx.where}.secretFiles is stored in plaintext: set each with \`pulumi config set --path --secret '${ctx.where}.secretFiles["/guest/path"]' -- "$(cat file)"\``];
        }
        return [];
    },
};
