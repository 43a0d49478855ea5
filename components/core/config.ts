// Validation of the stack's `warmrun:*` settings. Every problem is reported at once, each naming
// its config key or file and the fix, before any resource is registered (so at preview).
import * as path from "path";
import { ProblemList } from "./errors";
import { defaultInsecure, isValidPort, isValidRepository, parseRegistryPrefix, portOf, RegistryPrefix } from "../oci/registry";
import { pathProblem } from "./fileset";
import { FieldSpec, FieldTable, FieldType } from "./kind";
import { kindNamed, kindNames } from "../kinds";
import { DEFAULT_LEASE_SECONDS, leaseSecondsProblem } from "./lease";

export const NAMESPACE = "warmrun";
export const BUILDERS = ["auto", "docker", "buildah"] as const;
export type BuilderChoice = (typeof BUILDERS)[number];

/** The top-level settings; Pulumi.yaml declares the same keys for `pulumi config`. */
export const SETTINGS: Record<string, FieldSpec> = {
    registry: { type: "string", required: true, description: "registry and namespace artifacts are published under, host[:port][/namespace]" },
    registryInsecure: { type: "boolean", description: "talk plain HTTP to the registry (default: true for loopback hosts only)" },
    registryUsername: { type: "string", description: "user name for the registry" },
    registryPassword: { type: "string", description: "password or token for the registry; must be set with --secret" },
    builder: { type: "string", description: "image builder: auto, docker or buildah" },
    cacheDir: { type: "string", description: "local cache directory (stat cache, build scratch space), relative to the project" },
    latestBranch: { type: "string", description: "branch whose clean-tree runs also tag `latest` (default main; empty: never)" },
    gitShaAlias: { type: "boolean", description: "also tag each artifact git-<commit> (default false)" },
    trustHostCertificates: { type: "boolean", description: "let image build steps use the host's CA bundle, for TLS-intercepting proxies (default true)" },
    leaseSeconds: { type: "integer", description: `lifetime of the lease a runner takes in the registry before building a miss, so other runners wait instead of building it too (default ${DEFAULT_LEASE_SECONDS}; 0: no leases)` },
    artifacts: { type: "object", required: true, description: "the artifacts, by name" },
    github: { type: "object", description: "publish outputs as GitHub Actions variables: owner, repository, token (secret), artifacts, outputs" },
};

/** Fields every artifact has, whatever its kind. */
const COMMON_FIELDS: FieldTable = {
    kind: { type: "string", required: true, description: "artifact kind" },
    upstream: { type: "string[]", description: "names of artifacts this one is built from" },
};

export interface ArtifactSpec {
    name: string;
    kind: string;
    upstream: string[];
    /** Kind-specific fields, validated, with paths resolved against the project. */
    fields: Record<string, any>;
}

export interface WarmrunConfig {
    registry: RegistryPrefix & { insecure: boolean; username?: string; hasPassword: boolean };
    builder: BuilderChoice;
    cacheDir: string;
    trustHostCertificates: boolean;
    latestBranch: string;
    gitShaAlias: boolean;
    /** Lease lifetime before a build; 0: no leases (components/core/lease.ts). */
    leaseSeconds: number;
    /** In dependency order: every artifact after its upstreams. */
    artifacts: ArtifactSpec[];
    /** Where to publish outputs as GitHub Actions variables; absent: no GitHub provider at all. */
    github?: GithubSettings;
}

/** `warmrun:github`, without its token (the program reads that as a secret). */
export interface GithubSettings {
    owner: string;
    repository: string;
    /** Artifacts whose outputs are published (default: all). */
    artifacts: string[];
    /** Which outputs of each (default: pinned only), see components/report/ciEnv.ts CI_FIELDS. */
    outputs: string[];
}

export const GITHUB_OUTPUTS = ["pinned", "ref", "digest", "key", "cacheHit"];
const GITHUB_FIELDS = ["owner", "repository", "token", "artifacts", "outputs"];

function validateGithub(value: Record<string, any>, isSecret: boolean, artifactNames: string[], problems: string[]): GithubSettings | undefined {
    const where = `${NAMESPACE}:github`;
    const before = problems.length;
    for (const field of Object.keys(value)) {
        if (!GITHUB_FIELDS.includes(field)) problems.push(`${where}: unknown field ${field}${didYouMean(field, GITHUB_FIELDS)}; it takes ${GITHUB_FIELDS.join(", ")}`);
    }
    for (const field of ["owner", "repository"]) {
        if (typeof value[field] !== "string" || value[field] === "") problems.push(`${where}.${field} must be a non-empty string: \`pulumi config set --path ${where}.${field} ...\``);
    }
    if (typeof value.repository === "string" && value.repository.includes("/")) problems.push(`${where}.repository is the repository's name alone (owner goes in ${where}.owner), not "${value.repository}"`);
    if (typeof value.token !== "string" || value.token === "") problems.push(`${where}.token is missing: \`pulumi config set --secret --path ${where}.token <token>\``);
    else if (!isSecret) problems.push(`${where}.token is stored in plaintext: set it with \`pulumi config set --secret --path ${where}.token <token>\``);
    for (const [field, allowed] of [["artifacts", artifactNames], ["outputs", GITHUB_OUTPUTS]] as const) {
        const list = value[field];
        if (list === undefined) continue;
        if (!Array.isArray(list) || !list.every((v) => typeof v === "string")) {
            problems.push(`${where}.${field} must be a list of strings`);
            continue;
        }
        for (const item of list) if (!allowed.includes(item)) problems.push(`${where}.${field} names "${item}"${didYouMean(item, [...allowed])}: use ${allowed.join(", ")}`);
    }
    if (problems.length > before) return undefined;
    return { owner: value.owner, repository: value.repository, artifacts: value.artifacts ?? [...artifactNames].sort(), outputs: value.outputs ?? ["pinned"] };
}

export class ConfigError extends ProblemList {
    constructor(problems: string[]) {
        super(problems, "warmrun configuration");
        this.name = "ConfigError";
    }
}

function typeProblem(where: string, value: unknown, type: FieldType): string | undefined {
    const ok =
        type === "string" ? typeof value === "string" :
        type === "boolean" ? typeof value === "boolean" :
        type === "integer" ? Number.isInteger(value) :
        type === "string[]" ? Array.isArray(value) && value.every((v) => typeof v === "string") :
        typeof value === "object" && value !== null && !Array.isArray(value);
    const shown = JSON.stringify(value);
    return ok ? undefined : `${where} must be ${type === "string[]" ? "a list of strings" : type === "object" ? "a map" : `a ${type}`}, not ${shown && shown.length > 60 ? shown.slice(0, 57) + "..." : shown}`;
}

/** Closest known name by edit distance, to suggest a fix for a typo. */
export function closest(name: string, known: string[]): string | undefined {
    const dist = (a: string, b: string): number => {
        const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
        for (let j = 1; j <= b.length; j++) d[0][j] = j;
        for (let i = 1; i <= a.length; i++)
            for (let j = 1; j <= b.length; j++)
                d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        return d[a.length][b.length];
    };
    let best: string | undefined;
    let bestD = Infinity;
    for (const k of known) {
        const dk = dist(name.toLowerCase(), k.toLowerCase());
        if (dk < bestD) [best, bestD] = [k, dk];
    }
    return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function didYouMean(name: string, known: string[]): string {
    const guess = closest(name, known);
    return guess ? ` (did you mean ${guess}?)` : "";
}

/**
 * A valid repository name close to an invalid one (lower case, runs of other characters as one
 * `-`, no separator at either end), or undefined when nothing of it is left.
 */
export function suggestArtifactName(name: string): string | undefined {
    const guess = name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, (run) => (/^[._-]$/.test(run) ? run : "-"))
        .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
    return guess && guess !== name && isValidRepository(guess) ? guess : undefined;
}

/** Orders artifacts so each comes after its upstreams; reports cycles by their path. */
export function orderArtifacts(artifacts: { name: string; upstream: string[] }[]): { order: string[]; cycles: string[][] } {
    const byName = new Map(artifacts.map((a) => [a.name, a]));
    const state = new Map<string, "visiting" | "done">();
    const order: string[] = [];
    const cycles: string[][] = [];
    const visit = (name: string, trail: string[]) => {
        const s = state.get(name);
        if (s === "done") return;
        if (s === "visiting") {
            cycles.push([...trail.slice(trail.indexOf(name)), name]);
            return;
        }
        state.set(name, "visiting");
        for (const up of byName.get(name)?.upstream ?? []) if (byName.has(up)) visit(up, [...trail, name]);
        state.set(name, "done");
        order.push(name);
    };
    for (const a of [...artifacts].sort((x, y) => x.name.localeCompare(y.name))) visit(a.name, []);
    return { order, cycles };
}

function parseValue(raw: string, type: FieldType): unknown {
    if (type === "string") return raw;
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}

export interface ValidateOptions {
    projectRoot: string;
    secretKeys: Set<string>;
    /** Artifacts registered outside the map (a Pulumi program's own components): upstreams it may name. */
    registered?: string[];
}

/**
 * Validates the raw config map (`warmrun:key` -> string, as Pulumi hands it to the program).
 * Throws one ConfigError listing every problem.
 */
export function validateConfig(raw: Record<string, string>, opts: ValidateOptions): WarmrunConfig {
    const problems: string[] = [];
    const values: Record<string, unknown> = {};
    const known = Object.keys(SETTINGS);
    for (const [fullKey, rawValue] of Object.entries(raw)) {
        const [ns, ...rest] = fullKey.split(":");
        if (ns !== NAMESPACE) continue;
        const key = rest.join(":");
        const spec = SETTINGS[key];
        if (!spec) {
            problems.push(
                `unknown config key ${fullKey}${didYouMean(key, known)}: rename or remove it ` +
                    `(\`pulumi config rm ${fullKey}\`); known keys: ${known.join(", ")}`,
            );
            continue;
        }
        const value = parseValue(rawValue, spec.type);
        const p = typeProblem(`${NAMESPACE}:${key}`, value, spec.type);
        if (p) problems.push(`${p}: fix it with \`pulumi config set ${spec.type === "string" ? "" : "--path "}${NAMESPACE}:${key} ...\``);
        else values[key] = value;
    }
    for (const [key, spec] of Object.entries(SETTINGS)) {
        if (spec.required && !(`${NAMESPACE}:${key}` in raw)) {
            problems.push(`${NAMESPACE}:${key} is not set: ${spec.description}; set it in Pulumi.<stack>.yaml`);
        }
    }

    let prefix: RegistryPrefix | undefined;
    if (typeof values.registry === "string") {
        prefix = parseRegistryPrefix(values.registry);
        const port = portOf(values.registry.split("/")[0]);
        if (port !== undefined && !isValidPort(port)) {
            problems.push(`${NAMESPACE}:registry "${values.registry}": port ${port} is out of range (1-65535): fix the port, e.g. 127.0.0.1:5000/warmrun`);
        } else if (!prefix) {
            problems.push(`${NAMESPACE}:registry "${values.registry}" is not a registry reference: write host[:port][/namespace], e.g. 127.0.0.1:5000/warmrun or registry.example.com/acme/ci-cache (no scheme, no tag)`);
        }
    }
    if (`${NAMESPACE}:registryPassword` in raw && !opts.secretKeys.has(`${NAMESPACE}:registryPassword`)) {
        problems.push(`${NAMESPACE}:registryPassword is stored in plaintext: set it with \`pulumi config set --secret ${NAMESPACE}:registryPassword\``);
    }
    if ((`${NAMESPACE}:registryPassword` in raw) !== (`${NAMESPACE}:registryUsername` in raw)) {
        problems.push(`${NAMESPACE}:registryUsername and ${NAMESPACE}:registryPassword go together: set both or neither`);
    }
    const leaseProblem = leaseSecondsProblem(values.leaseSeconds);
    if (leaseProblem) problems.push(leaseProblem);
    if (values.builder !== undefined && !(BUILDERS as readonly string[]).includes(values.builder as string)) {
        problems.push(`${NAMESPACE}:builder "${values.builder}" is not one of ${BUILDERS.join(", ")}`);
    }

    const artifacts: ArtifactSpec[] = [];
    const artifactMap = (values.artifacts ?? {}) as Record<string, any>;
    if (values.artifacts !== undefined && Object.keys(artifactMap).length === 0) {
        problems.push(`${NAMESPACE}:artifacts is empty: declare at least one artifact`);
    }
    for (const [name, spec] of Object.entries(artifactMap)) {
        const where = `${NAMESPACE}:artifacts.${name}`;
        if (!isValidRepository(name) || name.includes("/")) {
            const suggestion = suggestArtifactName(name);
            problems.push(
                `${where}: the name "${name}" cannot be a repository name: use lower-case letters and digits, ` +
                    `separated by single . _ or - (not at either end)${suggestion ? ` (e.g. ${suggestion})` : ""}`,
            );
            continue;
        }
        if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
            problems.push(`${where} must be a map with at least a kind`);
            continue;
        }
        const kind = spec.kind;
        const entry = typeof kind === "string" ? kindNamed(kind) : undefined;
        if (!entry) {
            const what = kind === undefined ? "is missing" : `${JSON.stringify(kind)} is not a known kind${typeof kind === "string" ? didYouMean(kind, kindNames()) : ""}`;
            problems.push(`${where}.kind ${what}: use one of ${kindNames().join(", ")}`);
            continue;
        }
        const definition = entry.definition;
        const fieldsSpec = { ...COMMON_FIELDS, ...definition.fields };
        const fields: Record<string, any> = {};
        for (const [field, value] of Object.entries(spec)) {
            const fs_ = fieldsSpec[field];
            if (!fs_) {
                const known = Object.keys(fieldsSpec);
                problems.push(`${where}: unknown field ${field}${didYouMean(field, known)}; a ${kind} takes ${known.join(", ")}`);
                continue;
            }
            const p = typeProblem(`${where}.${field}`, value, fs_.type);
            if (p) problems.push(p);
            else fields[field] = value;
        }
        for (const [field, fs_] of Object.entries(fieldsSpec)) {
            if (fs_.required && spec[field] === undefined) problems.push(`${where}.${field} is missing: ${fs_.description}`);
        }
        for (const [field, fs_] of Object.entries(fieldsSpec)) {
            if (!fs_.path || typeof fields[field] !== "string") continue;
            const abs = path.resolve(opts.projectRoot, fields[field]);
            const problem = pathProblem(abs, fields[field], fs_.path);
            if (problem) problems.push(`${where}.${field}: ${problem}`);
            else fields[field] = abs;
        }
        const upstream = (fields.upstream as string[] | undefined) ?? [];
        if (definition.validate) {
            problems.push(...definition.validate(fields, { name, where, raw: spec, upstream, projectRoot: opts.projectRoot, secretKeys: opts.secretKeys }));
        }
        artifacts.push({ name, kind, upstream, fields });
    }
    const names = new Set(artifacts.map((a) => a.name));
    for (const a of artifacts) {
        for (const up of a.upstream) {
            if (up === a.name) problems.push(`${NAMESPACE}:artifacts.${a.name}.upstream names the artifact itself`);
            else if (!names.has(up) && !(up in artifactMap) && !opts.registered?.includes(up)) {
                const guess = closest(up, [...names]);
                problems.push(`${NAMESPACE}:artifacts.${a.name}.upstream names "${up}", which is not an artifact${guess ? ` (did you mean ${guess}?)` : ""}`);
            }
        }
    }
    const { order, cycles } = orderArtifacts(artifacts.map((a) => ({ name: a.name, upstream: a.upstream.filter((u) => u !== a.name) })));
    for (const cycle of cycles) {
        problems.push(`${NAMESPACE}:artifacts has a cycle: ${cycle.join(" -> ")}; an artifact cannot be built from itself, remove one upstream link`);
    }

    const github = values.github === undefined ? undefined : validateGithub(values.github as Record<string, any>, opts.secretKeys.has(`${NAMESPACE}:github`), Object.keys(artifactMap), problems);

    if (problems.length > 0) throw new ConfigError(problems);
    const byName = new Map(artifacts.map((a) => [a.name, a]));
    const host = prefix!.host;
    return {
        registry: {
            ...prefix!,
            insecure: (values.registryInsecure as boolean | undefined) ?? defaultInsecure(host),
            username: values.registryUsername as string | undefined,
            hasPassword: `${NAMESPACE}:registryPassword` in raw,
        },
        builder: (values.builder as BuilderChoice | undefined) ?? "auto",
        cacheDir: path.resolve(opts.projectRoot, (values.cacheDir as string | undefined) ?? ".warmrun"),
        trustHostCertificates: (values.trustHostCertificates as boolean | undefined) ?? true,
        latestBranch: (values.latestBranch as string | undefined) ?? "main",
        gitShaAlias: (values.gitShaAlias as boolean | undefined) ?? false,
        leaseSeconds: (values.leaseSeconds as number | undefined) ?? DEFAULT_LEASE_SECONDS,
        artifacts: order.map((n) => byName.get(n)!),
        ...(github ? { github } : {}),
    };
}
