// What every artifact kind shares: from key material to a published Artifact resource.
import * as pulumi from "@pulumi/pulumi";
import { Artifact, RegistryArgs, RUN_ID } from "./artifact";
import { computeKey, inputSummary, KeyMaterial, shortKey } from "./keys";
import { ArtifactSpec } from "./config";
import { StatCache } from "./fileset";
import { repositoryFor } from "./registry";
import { announceCacheStatus, TagLookup } from "./preview";
import { GitState } from "./gitState";

export interface KindArgs {
    spec: ArtifactSpec;
    registry: RegistryArgs;
    /** Keys of this artifact's upstreams, by name. */
    upstreamKeys: Record<string, Promise<string>>;
    /** Pinned references (repo@digest) of this artifact's upstreams, by name. */
    upstreamRefs: Record<string, pulumi.Output<string>>;
    statCache: StatCache;
    /** How to ask the registry for a tag (shared by the stack's components). */
    lookup: TagLookup;
    /** Builder choice for image kinds. */
    builder?: string;
    /** Bind-mount the host's CA bundle into image build steps. */
    trustHostCertificates?: boolean;
    /** Alias tags every artifact also gets (latest, git-<sha>). */
    aliasTags?: string[];
    /** Scratch space of the program (cacheDir/work), e.g. for Docker build contexts. */
    workDir: string;
    /** The checkout's git state (kinds with their own alias tags use it). */
    git?: GitState;
    /** The stack's cache directory (warmrun:cacheDir), for kinds that write local files. */
    cacheDir?: string;
    /** warmrun:leaseSeconds, handed to the provider's create. */
    leaseSeconds?: number;
}

/** How a kind names its tags: a prefix on the key tag, and its own alias tags. */
export interface TagNaming {
    tagPrefix?: string;
    aliasTags?: string[];
}

export async function upstreamKeysOf(args: KindArgs): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [n, k] of Object.entries(args.upstreamKeys)) out[n] = await k;
    return out;
}

export interface Published {
    key: Promise<string>;
    artifact: Artifact;
}

/** Registers the Artifact of a kind's component: key, tag, preview look-up, build spec. */
export function publish(
    parent: pulumi.ComponentResource,
    name: string,
    kind: string,
    args: KindArgs,
    material: Promise<KeyMaterial>,
    build: pulumi.Input<any>,
    extraDependsOn: pulumi.Resource[] = [],
    naming: TagNaming = {},
    secretOutputs: string[] = [],
): Published {
    const key = material.then(computeKey);
    const repository = repositoryFor(args.registry, name);
    const tag = key.then((k) => `${naming.tagPrefix ?? ""}${shortKey(k)}`);
    const checkedKey = announceCacheStatus(parent, name, args.registry, repository, key, tag, args.lookup);
    const artifact = new Artifact(
        name,
        {
            name,
            kind,
            key: checkedKey,
            registry: args.registry,
            repository,
            tag,
            aliasTags: naming.aliasTags ?? args.aliasTags ?? [],
            inputs: material.then(inputSummary),
            build,
            runId: RUN_ID,
            ...(args.leaseSeconds !== undefined ? { leaseSeconds: args.leaseSeconds } : {}),
            secretOutputs,
        },
        { parent, dependsOn: extraDependsOn },
    );
    return { key, artifact };
}
