// warmrun as a library, for a Pulumi TypeScript program of your own (`import ... from "warmrun"`):
// artifacts declared in TypeScript, with the fields, checks, keys and registry look-ups of a stack
// file's `warmrun:artifacts` (every kind of the list, components/kinds/index.ts), registered as the
// same components (`warmrun:index:<Kind>`) the warmrun program registers.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, WarmrunConfig } from "./components/core/config";
import { StatCache } from "./components/core/fileset";
import { ProblemList, WarmrunError } from "./components/core/errors";
import { readGitState } from "./components/core/gitState";
import { KindComponent } from "./components/core/publish";
import { asRunError, buildStack, planArtifact, planOptionsOf, PlanOptions, problemOf, registerArtifact } from "./components/core/stack";

export { Artifact, ciOutputs } from "./components/core/artifact";
export type { CiOutputs } from "./components/core/artifact";
export { KindComponent } from "./components/core/publish";
export { WarmrunError } from "./components/core/errors";
export { kindNames } from "./components/kinds";

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

/** One artifact's fields, as under `warmrun:artifacts.<name>`: its kind and the kind's fields. */
export interface ArtifactFields {
    kind: string;
    [field: string]: unknown;
}

/** The `warmrun:*` config map the settings stand for, and the settings that are not config. */
function rawConfig(settings: WarmrunSettings, artifacts: Record<string, unknown>): { raw: Record<string, string>; secretKeys: Set<string> } {
    const raw: Record<string, string> = { "warmrun:registry": settings.registry, "warmrun:artifacts": JSON.stringify(artifacts) };
    for (const key of ["registryInsecure", "registryUsername", "builder", "cacheDir", "latestBranch", "gitShaAlias", "trustHostCertificates"] as const) {
        const v = settings[key];
        if (v !== undefined) raw[`warmrun:${key}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const secretKeys = new Set<string>();
    if (settings.registryPassword !== undefined) {
        // Validation needs to know a password is set, never its value (that stays a Pulumi secret).
        raw["warmrun:registryPassword"] = "(a secret)";
        secretKeys.add("warmrun:registryPassword");
    }
    return { raw, secretKeys };
}

interface Context {
    statCache: StatCache;
    options: PlanOptions;
}

/** One stat cache, registry look-up and git state per settings, shared by every artifact declared with them. */
const contexts = new Map<string, Context>();

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
    ctx = { statCache, options: planOptionsOf(config, statCache, { password, git: readGitState(projectRoot), projectRoot }) };
    contexts.set(id, ctx);
    return ctx;
}

function validated(settings: WarmrunSettings, artifacts: Record<string, unknown>, registered: string[] = []): { config: WarmrunConfig; projectRoot: string } {
    const projectRoot = path.resolve(settings.projectRoot ?? process.cwd());
    const { raw, secretKeys } = rawConfig(settings, artifacts);
    return { config: validateConfig(raw, { projectRoot, secretKeys, registered }), projectRoot };
}

/**
 * One artifact of your program, e.g. `await artifact(settings, "deps", { kind: "CargoDepsImage",
 * workspace: "." }, { toolchain })`: the fields are checked as a stack file's are (one error naming
 * the field and the fix), paths resolved against projectRoot; `upstream` gives the components it is
 * built from, by the names its kind's fields refer to, and their keys enter its own.
 */
export async function artifact(settings: WarmrunSettings, name: string, fields: ArtifactFields, upstream: Record<string, KindComponent> = {}): Promise<KindComponent> {
    try {
        if ("upstream" in fields) throw new WarmrunError(`artifact ${name}: pass its upstream components as artifact()'s last argument, not as upstream names`);
        const names = Object.keys(upstream);
        const { config, projectRoot } = validated(settings, { [name]: { ...fields, upstream: names } }, names);
        const spec = config.artifacts[0];
        const { options } = contextFor(settings, config, projectRoot);
        const planned = await planArtifact(spec, Object.fromEntries(names.map((u) => [u, upstream[u].key])), options).catch((e) => {
            throw new ProblemList([problemOf(spec, e)!]);
        });
        return registerArtifact(planned, upstream);
    } catch (e) {
        throw asRunError(e);
    }
}

/**
 * Every artifact of a map written as a stack file's `warmrun:artifacts` (upstreams by name),
 * registered as components; `a.outputs` (or `ciOutputs(a.artifact)`) gives each one's outputs.
 */
export async function artifacts(settings: WarmrunSettings & { artifacts: Record<string, ArtifactFields & { upstream?: string[] }> }): Promise<Record<string, KindComponent>> {
    try {
        const { artifacts: map, ...rest } = settings;
        const { config, projectRoot } = validated(rest, map);
        const ctx = contextFor(rest, config, projectRoot);
        const o = ctx.options;
        return await buildStack(config, ctx.statCache, o.registry.password, o.lookup, o.stack.git, projectRoot);
    } catch (e) {
        throw asRunError(e);
    }
}
