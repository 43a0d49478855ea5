// The custom resource each artifact kind publishes through.
import * as pulumi from "@pulumi/pulumi";
import { artifactProvider } from "./provider";
import { programRunId } from "./runId";
import { DownloadSummary, NO_DOWNLOADS } from "./journal";
import { Provenance } from "../oci/provenance";

/** This program run: artifacts created (built or adopted) by it carry it as createdInRun (core/runId.ts). */
export const RUN_ID = programRunId();

export interface RegistryArgs {
    host: string;
    namespace: string;
    insecure: boolean;
    username?: string;
    password?: pulumi.Output<string>;
}

export interface ArtifactArgs {
    name: string;
    kind: string;
    key: pulumi.Input<string>;
    registry: RegistryArgs;
    repository: string;
    tag: pulumi.Input<string>;
    aliasTags: pulumi.Input<string[]>;
    inputs: pulumi.Input<Record<string, string>>;
    /** Where the full file list of a folded `inputs` is kept (core/fileSummary.ts). */
    fileList?: pulumi.Input<string>;
    build: pulumi.Input<any>;
    /** Where it came from: the OCI provenance annotations every pushed manifest carries. */
    provenance?: pulumi.Input<Provenance>;
    /** A kind published as a local file: its path (its lifecycle checks the file). */
    path?: pulumi.Input<string>;
    /** warmrun:leaseSeconds, for the provider's create (core/lease.ts). */
    leaseSeconds?: number;
    /** The registry's answer for the tag at planning (core/preview.ts): false heals a vanished tag. */
    tagInRegistry?: boolean;
    /** Further properties to keep encrypted in state (e.g. a build block carrying secrets). */
    secretOutputs?: string[];
}

export class Artifact extends pulumi.dynamic.Resource {
    declare readonly key: pulumi.Output<string>;
    declare readonly ref: pulumi.Output<string>;
    declare readonly digest: pulumi.Output<string>;
    declare readonly pinned: pulumi.Output<string>;
    declare readonly cacheHit: pulumi.Output<boolean>;
    declare readonly buildSeconds: pulumi.Output<number>;
    declare readonly downloads: pulumi.Output<DownloadSummary>;
    declare readonly createdInRun: pulumi.Output<string | undefined>;
    /** Kind-specific outputs (an appliance's files, sizes, sha256), when the kind has any. */
    declare readonly details: pulumi.Output<Record<string, any> | undefined>;

    constructor(name: string, args: ArtifactArgs, opts?: pulumi.CustomResourceOptions) {
        const registry = {
            host: args.registry.host,
            insecure: args.registry.insecure,
            ...(args.registry.username !== undefined ? { username: args.registry.username, password: args.registry.password } : {}),
        };
        const { secretOutputs, ...props } = args;
        super(
            artifactProvider,
            name,
            { ...props, registry, ref: undefined, digest: undefined, pinned: undefined, cacheHit: undefined, buildSeconds: undefined, downloads: undefined, createdInRun: undefined, details: undefined },
            // The registry block carries the password: keep it encrypted in outputs too.
            { ...opts, additionalSecretOutputs: [...(args.registry.password ? ["registry"] : []), ...(secretOutputs ?? [])] },
            "warmrun",
            args.kind,
        );
    }
}

/**
 * What this run downloaded for an artifact: its build's downloads when this run built it, else
 * nothing (a cache hit adopts, an unchanged artifact is not touched).
 */
export function downloadsThisRun(createdInRun: string | undefined, downloads: DownloadSummary | undefined, runId: string = RUN_ID): DownloadSummary {
    return createdInRun === runId && downloads ? downloads : NO_DOWNLOADS;
}

/** The outputs CI consumes, per artifact (DESIGN.md, "Outputs for CI"), and a kind's own (`extra`). */
export function ciOutputs(a: Artifact, extra: Record<string, pulumi.Output<unknown>> = {}) {
    return {
        ref: a.ref,
        digest: a.digest,
        pinned: a.pinned,
        key: a.key,
        cacheHit: a.cacheHit,
        buildSeconds: a.buildSeconds,
        downloads: pulumi.all([a.createdInRun, a.downloads]).apply(([run, d]) => downloadsThisRun(run, d)),
        buildDownloads: a.downloads,
        ...extra,
        // Kind-specific: an appliance's outputDir, files, sizes and sha256.
        details: a.details,
    };
}

export type CiOutputs = ReturnType<typeof ciOutputs>;
