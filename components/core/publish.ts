// The one path from a kind's key material to a published Artifact: the key becomes a tag, the tag
// a registry answer (at preview), and both an Artifact resource under the kind's component. Kinds
// take part through their component module (component.ts): checks that need the wiring side, and
// the Artifact's build input (upstream references, secrets, a Docker build on a miss...).
import * as pulumi from "@pulumi/pulumi";
import { Artifact, CiOutputs, ciOutputs, RegistryArgs } from "./artifact";
import { computeKey, inputSummary, KeyMaterial, shortKey } from "./keys";
import { fileListPath, isFolded, saveFileList } from "./fileSummary";
import { ArtifactSpec, BuilderChoice } from "./config";
import { Plan, TagNaming } from "./kind";
import { GitState } from "./gitState";
import { announceCacheStatus, TagLookup } from "./preview";
import { formatReference, repositoryFor } from "../oci/reference";
import { baseOfPlan, Provenance, provenanceOf } from "../oci/provenance";
import { artifactKey, WarmrunError } from "./errors";
import { missingTools } from "./process";

/** Where a key is published, and what the registry answered at preview. */
export interface Publication {
    key: string;
    repository: string;
    tag: string;
    /** `host/repository:tag` */
    ref: string;
    aliasTags: string[];
    /** The digest the registry holds under the tag; undefined: a miss, a create builds. */
    digest: string | undefined;
    hit: boolean;
    /** One entry per input file (per directory for a large context), parameter and upstream key: what diffs name. */
    inputs: Record<string, string>;
    /** Where the full file list is kept when `inputs` folds the files into directories. */
    fileList?: string;
}

export interface ResolveOptions {
    registry: RegistryArgs;
    /** The artifact's name: its repository under the registry's namespace. */
    name: string;
    material: KeyMaterial;
    naming?: TagNaming;
    /** The stack's alias tags, for kinds that name none of their own. */
    stackAliasTags: string[];
    lookup: TagLookup;
    /** Where the file lists of folded summaries are kept (core/fileSummary.ts); none: not kept. */
    fileListDir?: string;
}

/** Key -> tag -> the registry's answer. */
export async function resolvePublication(o: ResolveOptions): Promise<Publication> {
    const key = computeKey(o.material);
    const repository = repositoryFor(o.registry, o.name);
    const tag = `${o.naming?.tagPrefix ?? ""}${shortKey(key)}`;
    const digest = await o.lookup(repository, tag);
    const inputs = inputSummary(o.material);
    const fileList = o.fileListDir && isFolded(inputs) ? fileListPath(o.fileListDir, o.name, key) : undefined;
    if (fileList) saveFileList(fileList, o.material.files);
    return {
        key,
        repository,
        tag,
        ref: formatReference({ host: o.registry.host, repository, tag }),
        aliasTags: o.naming?.aliasTags ?? o.stackAliasTags,
        digest,
        hit: digest !== undefined,
        inputs,
        ...(fileList ? { fileList } : {}),
    };
}

/** The stack's settings a component may need. */
export interface StackSettings {
    builder: BuilderChoice;
    trustHostCertificates: boolean;
    projectRoot: string;
    cacheDir: string;
    /** Scratch space of the program (cacheDir/work), e.g. for Docker build contexts. */
    workDir: string;
    git: GitState;
    /** warmrun:leaseSeconds, for the provider's create (core/lease.ts); undefined: the default. */
    leaseSeconds?: number;
}

/** What a kind's component sees before anything is registered. */
export interface CheckArgs<F = any, B = any> {
    spec: ArtifactSpec;
    fields: F;
    plan: Plan<B>;
    publication: Publication;
    registry: RegistryArgs;
    stack: StackSettings;
}

/** What a kind's component sees when it is registered. */
export interface KindArgs<F = any, B = any> extends CheckArgs<F, B> {
    /** Pinned references (repo@digest) of the artifact's upstreams, by name. */
    upstreamRefs: Record<string, pulumi.Output<string>>;
}

/** What a component adds to its Artifact. */
export interface Wiring {
    /** The Artifact's build input: what the provider-side build gets. */
    build: pulumi.Input<unknown>;
    /** Properties kept encrypted in state (e.g. a build block carrying secrets). */
    secretOutputs?: string[];
    dependsOn?: pulumi.Resource[];
    /** For a kind published as a local file: its path (refresh and diff then check the file). */
    path?: string;
    /** Outputs CI gets besides the common ones (e.g. a local file's path and sha256). */
    outputs?: (artifact: Artifact) => Record<string, pulumi.Output<unknown>>;
}

/** A kind's component.ts. */
export interface KindComponentModule<F = any, B = any> {
    /** Checks that need the wiring side (stack secrets) or the registry's answer; run before anything is registered. */
    check?(args: CheckArgs<F, B>): Promise<void>;
    wire(parent: pulumi.ComponentResource, args: KindArgs<F, B>): Wiring;
}

/**
 * A kind's check that the tools its build runs are installed, wherever a create would build (a
 * miss): a missing one is a problem at preview, not halfway through an up. `fix` says what installs them.
 */
export function requireToolsOnMiss(args: CheckArgs, tools: string[], fix = "run `npm run setup`"): void {
    if (args.publication.hit) return;
    const missing = missingTools(tools);
    if (missing.length === 0) return;
    throw new WarmrunError(
        `${artifactKey(args.spec.name)}: ${args.publication.ref} is not in the registry, so \`pulumi up\` builds it with ` +
            `${missing.join(" and ")}, which ${missing.length === 1 ? "is" : "are"} not installed (not on PATH): ${fix}`,
    );
}

export interface PublishOptions {
    parent: pulumi.Resource;
    name: string;
    kind: string;
    registry: RegistryArgs;
    publication: Publication;
    build: pulumi.Input<unknown>;
    dependsOn?: pulumi.Resource[];
    secretOutputs?: string[];
    path?: string;
    /** Where it came from: the annotations of every manifest its build pushes. */
    provenance?: pulumi.Input<Provenance>;
    leaseSeconds?: number;
}

/** Registers the Artifact of a publication. */
export function publish(o: PublishOptions): Artifact {
    const p = o.publication;
    return new Artifact(
        o.name,
        {
            name: o.name,
            kind: o.kind,
            key: p.key,
            registry: o.registry,
            repository: p.repository,
            tag: p.tag,
            aliasTags: p.aliasTags,
            inputs: p.inputs,
            ...(p.fileList !== undefined ? { fileList: p.fileList } : {}),
            build: o.build,
            ...(o.provenance !== undefined ? { provenance: o.provenance } : {}),
            // The planning look-up's answer (asked once per tag): a tag gone from the registry replaces the artifact.
            tagInRegistry: p.hit,
            ...(o.path !== undefined ? { path: o.path } : {}),
            ...(o.leaseSeconds !== undefined ? { leaseSeconds: o.leaseSeconds } : {}),
            secretOutputs: o.secretOutputs ?? [],
        },
        { parent: o.parent, dependsOn: o.dependsOn ?? [] },
    );
}

/** The component of one artifact (`warmrun:index:<kind>`): its Artifact and its CI outputs. */
export class KindComponent extends pulumi.ComponentResource {
    readonly key: string;
    readonly artifact: Artifact;
    readonly outputs: CiOutputs;

    constructor(name: string, args: KindArgs, module: KindComponentModule, opts?: pulumi.ComponentResourceOptions) {
        super(`warmrun:index:${args.spec.kind}`, name, {}, opts);
        const p = args.publication;
        announceCacheStatus(this, name, p.ref, p.digest);
        for (const m of args.plan.messages ?? []) pulumi.log.info(m, this);
        for (const w of args.plan.warnings ?? []) pulumi.log.warn(`${name}: ${w}`, this);
        const wiring = module.wire(this, args);
        // The checkout's remote, commit and commit time; the base the plan names, else the one upstream.
        const provenance = pulumi.all(args.upstreamRefs).apply((refs) => provenanceOf(args.stack.git, baseOfPlan(args.plan.base, refs)));
        this.key = p.key;
        this.artifact = publish({
            parent: this,
            name,
            kind: args.spec.kind,
            registry: args.registry,
            publication: p,
            build: wiring.build,
            dependsOn: wiring.dependsOn,
            secretOutputs: wiring.secretOutputs,
            path: wiring.path,
            provenance,
            leaseSeconds: args.stack.leaseSeconds,
        });
        this.outputs = ciOutputs(this.artifact, wiring.outputs?.(this.artifact));
        this.registerOutputs({});
    }
}
