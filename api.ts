// warmrun as a library, for a Pulumi TypeScript program of your own (`import ... from "warmrun"`):
// the artifact components, and the arguments they take built from typed settings, validated as
// the stack config is (one WarmrunError naming the field and the fix).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ArtifactSpec, validateConfig, WarmrunConfig } from "./components/config";
import { StatCache } from "./components/fileset";
import { KindArgs } from "./components/kind";
import { sharedLookup, TagLookup } from "./components/preview";
import { aliasTagsFor, GitState, readGitState } from "./components/gitState";
import { ArtifactComponent, buildStack, KINDS } from "./components/stack";
import { WarmrunError } from "./components/errors";

export { FileBundle } from "./components/fileBundle";
export { DebianRootfs } from "./components/debianRootfs";
export { BaseImage } from "./components/baseImage";
export { CargoDepsImage } from "./components/cargoDepsImage";
export { Qcow2Image } from "./components/qcow2Image";
export { CloudInitIso } from "./components/cloudInitIso";
export { PackerAppliance } from "./components/packerAppliance";
export { Artifact, ciOutputs } from "./components/artifact";
export { WarmrunError } from "./components/errors";
export type { ArtifactComponent } from "./components/stack";
export type { KindArgs } from "./components/kind";

/** The stack-wide settings, as the `warmrun:*` config keys of a stack file. */
export interface WarmrunSettings {
    /** `host[:port][/namespace]` artifacts are published under. */
    registry: string;
    registryInsecure?: boolean;
    registryUsername?: string;
    /** A password or token; pass a secret (`config.requireSecret(...)`). */
    registryPassword?: pulumi.Input<string>;
    builder?: "auto" | "docker" | "buildah";
    /** Stat cache and build scratch space, relative to projectRoot (default `.warmrun`). */
    cacheDir?: string;
    latestBranch?: string;
    gitShaAlias?: boolean;
    trustHostCertificates?: boolean;
    /** What relative paths are relative to, and whose git state decides alias tags (default: the program's directory). */
    projectRoot?: string;
}

/** One artifact's fields, as under `warmrun:artifacts.<name>` (kind, upstream, the kind's fields). */
export interface ArtifactFields {
    kind: string;
    upstream?: string[];
    [field: string]: unknown;
}

interface Context {
    config: WarmrunConfig;
    projectRoot: string;
    statCache: StatCache;
    lookup: TagLookup;
    git: GitState;
    password?: pulumi.Output<string>;
}

const contexts = new Map<string, Context>();

function validated(settings: WarmrunSettings, artifacts: Record<string, ArtifactFields>): { config: WarmrunConfig; projectRoot: string } {
    const projectRoot = path.resolve(settings.projectRoot ?? process.cwd());
    const raw: Record<string, string> = { "warmrun:registry": settings.registry, "warmrun:artifacts": JSON.stringify(artifacts) };
    for (const key of ["registryInsecure", "registryUsername", "builder", "cacheDir", "latestBranch", "gitShaAlias", "trustHostCertificates"] as const) {
        const v = settings[key];
        if (v !== undefined) raw[`warmrun:${key}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const secretKeys = new Set<string>();
    if (settings.registryPassword !== undefined) {
        raw["warmrun:registryPassword"] = "(a secret)";
        secretKeys.add("warmrun:registryPassword");
    }
    try {
        return { config: validateConfig(raw, { projectRoot, secretKeys }), projectRoot };
    } catch (e: any) {
        // One message, no stack trace, as for a stack file.
        throw e instanceof WarmrunError ? new pulumi.RunError(e.message.replace(/warmrun:/g, "")) : e;
    }
}

/** One stat cache, registry look-up and git state per settings, shared by the components. */
function contextFor(settings: WarmrunSettings, config: WarmrunConfig, projectRoot: string): Context {
    const { registryPassword, ...plain } = settings;
    const id = JSON.stringify({ ...plain, projectRoot, hasPassword: registryPassword !== undefined });
    let ctx = contexts.get(id);
    if (ctx) return ctx;
    fs.mkdirSync(config.cacheDir, { recursive: true });
    // The cache directory ignores itself in git, so it never makes the tree dirty (no `latest` then).
    const ignore = path.join(config.cacheDir, ".gitignore");
    if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, "*\n");
    const statCache = new StatCache(path.join(config.cacheDir, "stat-cache.json"));
    process.once("beforeExit", () => statCache.save());
    const password = registryPassword === undefined ? undefined : pulumi.secret(registryPassword);
    const r = config.registry;
    ctx = {
        config,
        projectRoot,
        statCache,
        lookup: sharedLookup({ host: r.host, namespace: r.namespace, insecure: r.insecure, username: r.username, password }),
        git: readGitState(projectRoot),
        password,
    };
    contexts.set(id, ctx);
    return ctx;
}

/**
 * Every artifact of a map, as a stack file's `warmrun:artifacts` declares them (upstreams by name),
 * registered as components; `ciOutputs(a.artifact)` gives each one's outputs.
 */
export function artifacts(settings: WarmrunSettings & { artifacts: Record<string, ArtifactFields> }): Record<string, ArtifactComponent> {
    const { artifacts: map, ...rest } = settings;
    const { config, projectRoot } = validated(rest, map);
    const ctx = contextFor(rest, config, projectRoot);
    return buildStack(config, ctx.statCache, ctx.password, ctx.lookup, ctx.git);
}

/**
 * The arguments of one component, e.g. `new CargoDepsImage("deps", artifactArgs(settings, "deps",
 * { kind: "CargoDepsImage", workspace: "." }, { base }))`: the fields are checked as a stack file's
 * are, paths resolved against projectRoot; `upstream` names the components it is built from.
 */
export function artifactArgs(settings: WarmrunSettings, name: string, fields: ArtifactFields, upstream: Record<string, ArtifactComponent> = {}): KindArgs {
    if (!(fields.kind in KINDS)) throw new pulumi.RunError(`artifacts.${name}.kind ${JSON.stringify(fields.kind)} is not one of ${Object.keys(KINDS).join(", ")}`);
    if (fields.upstream !== undefined) throw new pulumi.RunError(`artifacts.${name}: pass its upstream components as artifactArgs' last argument, not as upstream names`);
    const { config, projectRoot } = validated(settings, { [name]: fields });
    const ctx = contextFor(settings, config, projectRoot);
    const spec: ArtifactSpec = { ...config.artifacts[0], upstream: Object.keys(upstream) };
    const r = config.registry;
    return {
        spec,
        registry: { host: r.host, namespace: r.namespace, insecure: r.insecure, username: r.username, password: ctx.password },
        upstreamKeys: Object.fromEntries(Object.entries(upstream).map(([n, c]) => [n, c.key])),
        upstreamRefs: Object.fromEntries(Object.entries(upstream).map(([n, c]) => [n, c.artifact.pinned])),
        statCache: ctx.statCache,
        lookup: ctx.lookup,
        builder: config.builder,
        trustHostCertificates: config.trustHostCertificates,
        aliasTags: aliasTagsFor(ctx.git, config),
        workDir: path.join(config.cacheDir, "work"),
        git: ctx.git,
        cacheDir: config.cacheDir,
    };
}
