// The stack's wiring, in two steps. First every artifact is planned, upstreams first so keys chain
// (Merkle): its kind's plan gives the key material, the key a tag and the registry's answer, and
// the kind's component checks what it needs to; every problem of the stack is gathered. Only when
// there is none is anything registered, so a problem is reported once, as one message, at preview.
// This is also the one place where a WarmrunError becomes the program's error (runProgram).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE, validateConfig, WarmrunConfig, ArtifactSpec } from "./config";
import { StatCache } from "./fileset";
import { RegistryArgs, RUN_ID } from "./artifact";
import { artifactKey, artifactMessage, ProblemList, systemErrorMessage, userMessage, WarmrunError } from "./errors";
import { sharedLookup, TagLookup } from "./preview";
import { aliasTagsFor, GitState, readGitState } from "./gitState";
import { ImageResolver, Plan } from "./kind";
import { CheckArgs, KindComponent, KindComponentModule, Publication, resolvePublication, StackSettings } from "./publish";
import { kindNamed, KindEntry } from "../kinds";
import { publishGithubVariables } from "../report/githubVariables";
import { formatPrefix } from "../oci/reference";
import { releaseRunImages, RELEASE_ATTEMPTS } from "../images/storage";
import { registryResolver, sharedResolver } from "../images/pinning";

/** A planned artifact: everything its component needs but the upstreams' pinned references. */
export interface Planned extends CheckArgs {
    entry: KindEntry;
    component: KindComponentModule;
}

/** An artifact whose upstream could not be planned: its upstream's problem says it all. */
class UpstreamFailed extends Error {}

/**
 * The stack's problems, one line each, every line naming its artifacts: a message that names its
 * artifact stays as it is; one several artifacts met alike (an unreachable registry, a workspace two
 * images share) is one line naming them all. An artifact whose upstream failed adds nothing: the
 * upstream's problem says it all.
 */
export function stackProblems(failures: { name: string; error: unknown }[]): string[] {
    const own: string[] = [];
    const shared = new Map<string, string[]>();
    for (const { name, error } of failures) {
        if (error instanceof UpstreamFailed) continue;
        const message = userMessage(error);
        if (message.startsWith(artifactKey(name)) || message.startsWith(`${name}: `)) {
            const line = artifactMessage(name, error);
            if (!own.includes(line)) own.push(line);
        } else shared.set(message, [...(shared.get(message) ?? []), name]);
    }
    return [...own, ...[...shared].map(([message, names]) => `${names.map(artifactKey).join(", ")}: ${message}`)];
}

/** The user's message for a problem of one artifact (a program's own artifact()), naming it. */
export function problemOf(spec: ArtifactSpec, e: unknown): string | undefined {
    return stackProblems([{ name: spec.name, error: e }])[0];
}

export interface PlanOptions {
    statCache: StatCache;
    registry: RegistryArgs;
    lookup: TagLookup;
    stack: StackSettings;
    aliasTags: string[];
    resolveImage: ImageResolver;
}

/** One artifact's plan, given its upstreams' keys by name: key material, publication, the kind's checks. */
export async function planArtifact(spec: ArtifactSpec, upstream: Record<string, string>, o: PlanOptions): Promise<Planned> {
    const entry = kindNamed(spec.kind)!;
    const plan: Plan = await entry.plan().plan(spec.fields, {
        name: spec.name,
        where: `${NAMESPACE}:artifacts.${spec.name}`,
        upstream,
        upstreamNames: spec.upstream,
        statCache: o.statCache,
        projectRoot: o.stack.projectRoot,
        cacheDir: o.stack.cacheDir,
        workDir: o.stack.workDir,
        aliasTags: o.aliasTags,
        git: o.stack.git,
        resolveImage: o.resolveImage,
    });
    const publication: Publication = await resolvePublication({
        registry: o.registry,
        name: spec.name,
        material: plan.material,
        naming: plan.naming,
        stackAliasTags: o.aliasTags,
        lookup: o.lookup,
        fileListDir: path.join(o.stack.cacheDir, "file-lists"),
    });
    const component = entry.component();
    const args: CheckArgs = { spec, fields: spec.fields, plan, publication, registry: o.registry, stack: o.stack };
    await component.check?.(args);
    return { ...args, entry, component };
}

/** Plans every artifact; throws one ProblemList with every problem of the stack. */
export async function planStack(config: WarmrunConfig, o: PlanOptions): Promise<Map<string, Planned>> {
    const planned = new Map<string, Promise<Planned>>();
    for (const spec of config.artifacts) {
        const upstreams = spec.upstream.map((u) => planned.get(u)!);
        planned.set(
            spec.name,
            (async (): Promise<Planned> => {
                const ups = await Promise.all(upstreams.map((u) => u.catch(() => Promise.reject(new UpstreamFailed()))));
                return planArtifact(spec, Object.fromEntries(ups.map((u) => [u.spec.name, u.publication.key])), o);
            })(),
        );
    }
    const settled = await Promise.allSettled(config.artifacts.map((spec) => planned.get(spec.name)!));
    const failures = settled.flatMap((s, i) => (s.status === "rejected" ? [{ name: config.artifacts[i].name, error: s.reason }] : []));
    const problems = stackProblems(failures);
    if (problems.length) throw new ProblemList(problems);
    return new Map(settled.map((s, i) => [config.artifacts[i].name, (s as PromiseFulfilledResult<Planned>).value]));
}

export function registryArgsOf(config: WarmrunConfig, password?: pulumi.Output<string>): RegistryArgs {
    const r = config.registry;
    return { host: r.host, namespace: r.namespace, insecure: r.insecure, username: r.username, password };
}

/** What a stack's plan takes besides its config and stat cache. */
export interface StackInputs {
    password?: pulumi.Output<string>;
    /** Default: the registry's own answers. */
    lookup?: TagLookup;
    git?: GitState;
    projectRoot?: string;
    /** Default: the registries' own answers, the stack's registry with its credentials. */
    resolveImage?: ImageResolver;
}

/** The stack-wide options of a plan: registry, one look-up for every tag, the stack's settings and alias tags. */
export function planOptionsOf(config: WarmrunConfig, statCache: StatCache, { password, lookup, git = { clean: false }, projectRoot = process.cwd(), resolveImage }: StackInputs = {}): PlanOptions {
    const registry = registryArgsOf(config, password);
    const stack: StackSettings = {
        builder: config.builder,
        trustHostCertificates: config.trustHostCertificates,
        projectRoot,
        cacheDir: config.cacheDir,
        workDir: path.join(config.cacheDir, "work"),
        git,
        leaseSeconds: config.leaseSeconds,
    };
    // External images (FROM debian:trixie) are asked once each, those in the stack's registry with its credentials.
    const resolver = resolveImage
        ? sharedResolver(resolveImage)
        : registryResolver({
            stackRegistry: { host: registry.host, insecure: registry.insecure, username: registry.username },
            password: password ? () => new Promise<string>((resolve) => password.apply(resolve)) : undefined,
        });
    return { statCache, registry, lookup: sharedLookup(registry, lookup), stack, aliasTags: aliasTagsFor(git, config), resolveImage: resolver };
}

/** Registers a planned artifact's component (and its Artifact), built from the given upstream components. */
export function registerArtifact(p: Planned, upstream: Record<string, KindComponent>): KindComponent {
    const upstreamRefs = Object.fromEntries(Object.entries(upstream).map(([u, c]) => [u, c.artifact.pinned]));
    const dependsOn = Object.values(upstream).map((c) => c.artifact);
    return new KindComponent(p.spec.name, { ...p, upstreamRefs }, p.component, { dependsOn });
}

/** Plans the stack, then registers one component (and its Artifact) per artifact, upstreams first. */
export async function buildStack(
    config: WarmrunConfig,
    statCache: StatCache,
    password?: pulumi.Output<string>,
    lookup?: TagLookup,
    git: GitState = { clean: false },
    projectRoot: string = process.cwd(),
    resolveImage?: ImageResolver,
): Promise<Record<string, KindComponent>> {
    const plans = await planStack(config, planOptionsOf(config, statCache, { password, lookup, git, projectRoot, resolveImage }));
    statCache.save();
    const built: Record<string, KindComponent> = {};
    for (const spec of config.artifacts) {
        built[spec.name] = registerArtifact(plans.get(spec.name)!, Object.fromEntries(spec.upstream.map((u) => [u, built[u]])));
    }
    return built;
}

/**
 * Every error of the program becomes its one message, without a stack trace: a problem the user
 * can act on as it is, a file's system error as a sentence; anything else (a bug) with a word on how
 * to see where it happened (WARMRUN_DEBUG=1 lets the error through, stack and all).
 */
export function asRunError(e: unknown): unknown {
    if (process.env.WARMRUN_DEBUG && !(e instanceof WarmrunError)) return e;
    const known = e instanceof WarmrunError || systemErrorMessage(e) !== undefined;
    const error = new pulumi.RunError(known ? userMessage(e) : `${userMessage(e)} (an unexpected error: run with WARMRUN_DEBUG=1 to see where it happened, and report it)`);
    // The engine prints a RunError's message alone, but the Node.js runtime still formats the error
    // with util.inspect (for a trace event) when it has a stack: measured, most of the CPU time of a
    // failing preview's program, most of it garbage collection. Without a stack it takes the message.
    error.stack = "";
    return error;
}

function secretKeys(): Set<string> {
    const isSecret = (pulumi.runtime as any).isConfigSecret as ((k: string) => boolean) | undefined;
    const keys = Object.keys(pulumi.runtime.allConfig());
    return new Set(isSecret ? keys.filter((k) => isSecret(k)) : []);
}

/**
 * buildah's storage: once every artifact of this up is done, the images its builds made or pulled
 * are removed (a following build of the same run reused them; the next run needs none of them).
 */
function releaseBuilderStorage(artifacts: Record<string, KindComponent>): void {
    pulumi.all(Object.values(artifacts).map((a) => a.artifact.digest)).apply(async () => {
        const r = await releaseRunImages(RUN_ID);
        const containers = r.containers?.length ? ` and ${r.containers.length} container(s) of builds that never reached their end` : "";
        if (r.removed.length || r.kept.length || containers) pulumi.log.info(`builder storage: removed ${r.removed.length} image name(s) this run's builds made or pulled${containers}${r.kept.length ? `; ${r.kept.length} still in use, left for a later run` : ""}`);
        if (r.abandoned.length) pulumi.log.warn(`builder storage: ${r.abandoned.join(", ")} still in use by a container after ${RELEASE_ATTEMPTS} runs; no run asks again: \`buildah containers\` lists what holds them, \`buildah rm\` and \`buildah rmi\` free them`);
    });
}

/**
 * The registry password: the config secret, else WARMRUN_REGISTRY_PASSWORD (a CI token, e.g.
 * GitHub's), which leaves the committed stack file untouched and is kept a secret just the same;
 * its user is warmrun:registryUsername, else WARMRUN_REGISTRY_USERNAME, else "warmrun".
 */
function registryPassword(config: WarmrunConfig): pulumi.Output<string> | undefined {
    if (config.registry.hasPassword) return new pulumi.Config(NAMESPACE).requireSecret("registryPassword");
    const token = process.env.WARMRUN_REGISTRY_PASSWORD;
    if (!token) return undefined;
    config.registry.username ??= process.env.WARMRUN_REGISTRY_USERNAME || "warmrun";
    return pulumi.secret(token);
}

/** The program (index.ts): validate the config, plan and register the stack, return its outputs. */
export async function runProgram(projectRoot: string) {
    try {
        const config = validateConfig(pulumi.runtime.allConfig(), { projectRoot, secretKeys: secretKeys() });
        const statCache = new StatCache(path.join(config.cacheDir, "stat-cache.json"));
        const password = registryPassword(config);
        const artifacts = await buildStack(config, statCache, password, undefined, readGitState(projectRoot), projectRoot);
        const outputs = Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, a.outputs]));
        if (!pulumi.runtime.isDryRun()) releaseBuilderStorage(artifacts);
        // Only a stack with warmrun:github registers the GitHub provider (and needs its plugin).
        if (config.github) {
            const token = new pulumi.Config(NAMESPACE).requireSecretObject<{ token: string }>("github").apply((g) => g.token);
            publishGithubVariables(config.github, artifacts, token);
        }
        return {
            registry: formatPrefix(config.registry),
            outputs,
            /** What this run downloaded, over all artifacts: 0 on a warm run (every artifact adopted or unchanged). */
            downloads: pulumi.all(Object.values(outputs).map((o) => o.downloads)).apply((all) => ({
                count: all.reduce((s, d) => s + d.count, 0),
                bytes: all.reduce((s, d) => s + d.bytes, 0),
            })),
        };
    } catch (e) {
        throw asRunError(e);
    }
}
