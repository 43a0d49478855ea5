// The lifecycle of one artifact (DESIGN.md): adopt on a registry hit, else build and push with the
// manifest last; refresh checks the tag; delete leaves the registry alone. These functions are what
// the dynamic provider calls; they take their builders and registry client as arguments.
import { RegistryClient, RegistryConnection } from "../oci/registry";
import { WarmrunError } from "./errors";
import { appendJournal, DownloadSummary, NO_DOWNLOADS, WarmFrom, warmLabel } from "./journal";
import { diffInputs, describeInputChanges, EntryDescriber, REASONS_SHOWN } from "./keys";
import { unfoldSummaries } from "./fileSummary";
import { KEY_ANNOTATION } from "../oci/annotations";
import { formatReference, pinnedReference } from "../oci/reference";
import { Provenance } from "../oci/provenance";
import { attachSbom } from "../sbom/attach";
import type { SbomParts } from "../sbom/spdx";
import { DEFAULT_LEASE_SECONDS, holderName, leaseOrWait } from "./lease";

export interface ArtifactInputs {
    /** The artifact's name in the stack's config. */
    name: string;
    kind: string;
    key: string;
    registry: RegistryConnection;
    repository: string;
    tag: string;
    /** Further tags that point at the same manifest (git-sha alias, latest). */
    aliasTags: string[];
    /** One entry per input file (per directory for a large context), parameter and upstream key: what diffs name. */
    inputs: Record<string, string>;
    /** Where the full file list of a folded `inputs` is kept (core/fileSummary.ts); never part of the key or the diff. */
    fileList?: string;
    /** What the kind's builder needs; never part of the key by itself. */
    build: any;
    /** Where it came from (git remote, commit, commit time, base): annotations of every manifest pushed. */
    provenance?: Provenance;
    /** The deployment creating this artifact: set by the provider (core/runId.ts), not an input the program passes. */
    runId?: string;
    /** A kind published as a local file: its path (its lifecycle checks the file). */
    path?: string;
    /** warmrun:leaseSeconds: lifetime of the lease taken before a build (0: none; never part of the key or the diff). */
    leaseSeconds?: number;
    /**
     * Whether the registry held the tag when the program asked (its preview look-up). False for an
     * artifact the state already has: the tag vanished, and a plain `up` builds or adopts it again.
     */
    tagInRegistry?: boolean;
}

export interface ArtifactOutputs extends ArtifactInputs {
    ref: string;
    digest: string;
    pinned: string;
    cacheHit: boolean;
    buildSeconds: number;
    downloads: DownloadSummary;
    /** The run whose create built or adopted this artifact: outputs from an unchanged state carry an older run. */
    createdInRun?: string;
    /** Kind-specific outputs (e.g. an appliance's files, sizes and sha256). */
    details?: Record<string, unknown>;
}

export interface BuildContext {
    inputs: ArtifactInputs;
    client: RegistryClient;
    log: (message: string) => void;
}

export interface BuildResult {
    /** Digest of the manifest the builder pushed under inputs.tag, pushed last. */
    digest: string;
    downloads: DownloadSummary;
    details?: Record<string, unknown>;
    /** The earlier image a warm start built on (CargoDepsImage), and the chain's depth after it. */
    warmFrom?: WarmFrom;
    /** Units cargo compiled, counted from its output (CargoDepsImage). */
    compiledUnits?: number;
    /** What the built tree holds (Debian packages, crates): the lifecycle attaches the SBOM made of it (sbom/attach.ts). */
    sbom?: SbomParts;
}

export type Builder = (ctx: BuildContext) => Promise<BuildResult>;

/** What a kind does on a hit besides recording the digest, e.g. download an appliance's files. */
export type Adopter = (ctx: BuildContext, digest: string) => Promise<{ downloads: DownloadSummary; details?: Record<string, unknown> }>;

/** The lifecycle of a kind whose artifact is not only a registry tag (e.g. a local file). */
export interface KindLifecycle {
    create(inputs: ArtifactInputs, log: (message: string) => void): Promise<ArtifactOutputs>;
    /** Undefined: the artifact is gone. */
    read(props: ArtifactOutputs): Promise<ArtifactOutputs | undefined>;
    diff(olds: ArtifactOutputs, news: ArtifactInputs): ArtifactDiff & { deleteBeforeReplace?: boolean };
    update(olds: ArtifactOutputs, news: ArtifactInputs): Promise<ArtifactOutputs>;
    delete(props: ArtifactOutputs): Promise<void>;
}

/** A kind's build.ts: what the provider runs for its artifacts. */
export interface KindBuildModule {
    /** Builds and pushes on a miss (manifest last); required unless the kind has its own lifecycle. */
    build?: Builder;
    /** What a hit does besides recording the digest. */
    adopt?: Adopter;
    lifecycle?: KindLifecycle;
}

export interface LifecycleDeps {
    /** The build module of a kind (core/providerImpl.ts: from the list of kinds). */
    kinds: (kind: string) => KindBuildModule | undefined;
    clientFor?: (conn: RegistryConnection) => RegistryClient;
    journal?: boolean;
    log?: (message: string) => void;
}

function clientOf(deps: LifecycleDeps, conn: RegistryConnection): RegistryClient {
    return deps.clientFor ? deps.clientFor(conn) : new RegistryClient(conn);
}

export function refOf(inputs: ArtifactInputs): string {
    return formatReference({ host: inputs.registry.host, repository: inputs.repository, tag: inputs.tag });
}

export function pinnedOf(inputs: Pick<ArtifactInputs, "registry" | "repository">, digest: string): string {
    return pinnedReference({ host: inputs.registry.host, repository: inputs.repository, digest });
}

function outputsOf(inputs: ArtifactInputs, digest: string, cacheHit: boolean, buildSeconds: number, downloads: DownloadSummary, details?: Record<string, unknown>): ArtifactOutputs {
    return {
        ...(details ? { details } : {}),
        ...inputs,
        ref: refOf(inputs),
        digest,
        pinned: pinnedOf(inputs, digest),
        cacheHit,
        buildSeconds,
        downloads,
        ...(inputs.runId !== undefined ? { createdInRun: inputs.runId } : {}),
        // Built or adopted: the tag is there now.
        ...(inputs.tagInRegistry !== undefined ? { tagInRegistry: true } : {}),
    };
}

/** The key a manifest carries, from its annotations or (images) its config labels. */
export async function keyOfManifest(client: RegistryClient, repo: string, digest: string): Promise<string | undefined> {
    const m = await client.getManifest(repo, digest);
    if (!m) return undefined;
    const annotated = m.json.annotations?.[KEY_ANNOTATION];
    if (annotated) return annotated;
    return undefined;
}

async function pushAliases(client: RegistryClient, inputs: ArtifactInputs, digest: string): Promise<void> {
    if (inputs.aliasTags.length === 0) return;
    const m = await client.getManifest(inputs.repository, digest);
    if (!m) throw new WarmrunError(`${inputs.name}: manifest ${digest} vanished before its alias tags were set`);
    for (const alias of inputs.aliasTags) {
        await client.putManifest(inputs.repository, alias, m.mediaType, m.body);
    }
}

export async function createArtifact(inputs: ArtifactInputs, deps: LifecycleDeps): Promise<ArtifactOutputs> {
    const client = clientOf(deps, inputs.registry);
    const log = deps.log ?? (() => undefined);
    let existing = await client.resolveTag(inputs.repository, inputs.tag);
    // A miss: take the key's lease, or wait for the runner that holds it and adopt what it pushes.
    const lease = existing ? {} : await leaseOrWait({ client, name: inputs.name, repository: inputs.repository, tag: inputs.tag, key: inputs.key, seconds: inputs.leaseSeconds ?? DEFAULT_LEASE_SECONDS, holder: holderName(inputs.runId), ref: refOf(inputs), log });
    existing = existing ?? lease.adopted;
    const waited = lease.waitedFor ? { waitedFor: lease.waitedFor } : {};
    if (existing) {
        const key = await keyOfManifest(client, inputs.repository, existing);
        if (key !== undefined && key !== inputs.key) {
            throw new WarmrunError(
                `${inputs.name}: tag ${refOf(inputs)} holds key ${key}, not ${inputs.key} (a short-key collision ` +
                    "or a foreign push): delete that tag from the registry and run again",
            );
        }
        await pushAliases(client, inputs, existing);
        const adopter = deps.kinds(inputs.kind)?.adopt;
        const adopted = adopter ? await adopter({ inputs, client, log }, existing) : { downloads: NO_DOWNLOADS };
        // A Docker build (through @pulumi/docker-build) pushed this very digest during this run.
        const builtThisRun = inputs.build?.pushedDigest !== undefined && String(inputs.build.pushedDigest).endsWith(existing);
        if (deps.journal !== false) {
            appendJournal({ artifact: inputs.name, kind: inputs.kind, key: inputs.key, action: builtThisRun ? "build" : "adopt", digest: existing, downloads: adopted.downloads, ...waited });
        }
        log(`${inputs.name}: ${builtThisRun ? "recorded the Docker build of" : "cache hit, adopted"} ${refOf(inputs)}@${existing}`);
        return outputsOf(inputs, existing, !builtThisRun, 0, adopted.downloads, adopted.details);
    }
    const builder = deps.kinds(inputs.kind)?.build;
    if (!builder) {
        await lease.held?.release();
        throw new WarmrunError(`${inputs.name}: no builder for artifact kind ${inputs.kind}`);
    }
    const started = Date.now();
    const result = await builder({ inputs, client, log }).finally(() => lease.held?.release());
    // Made once, when the key is built: an adopted artifact keeps the SBOM it has.
    if (result.sbom) await attachSbom({ inputs, client, log }, result.digest, result.sbom);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    await pushAliases(client, inputs, result.digest);
    if (deps.journal !== false) {
        appendJournal({
            artifact: inputs.name, kind: inputs.kind, key: inputs.key, action: "build", digest: result.digest, buildSeconds: seconds, downloads: result.downloads, ...waited,
            ...(result.warmFrom ? { warmFrom: result.warmFrom } : {}),
            ...(result.compiledUnits !== undefined ? { compiledUnits: result.compiledUnits } : {}),
        });
    }
    const how = result.warmFrom ? ` (${warmLabel(result.warmFrom.key)}, chain depth ${result.warmFrom.depth})` : "";
    log(`${inputs.name}: built and pushed ${refOf(inputs)}@${result.digest} in ${seconds} s${how}; downloaded ${result.downloads.count} items, ${result.downloads.bytes} bytes`);
    return outputsOf(inputs, result.digest, false, seconds, result.downloads, result.details && { ...result.details, buildSeconds: seconds });
}

/**
 * Refresh: the tag must still resolve. Gone: undefined, so the engine drops the artifact and the
 * next `up` treats it as a miss. Re-pushed under the same key: the new digest is recorded.
 */
export async function readArtifact(props: ArtifactOutputs, deps: LifecycleDeps): Promise<ArtifactOutputs | undefined> {
    const client = clientOf(deps, props.registry);
    const digest = await client.resolveTag(props.repository, props.tag);
    if (!digest) {
        if (deps.journal !== false) appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "gone", digest: props.digest });
        return undefined;
    }
    if (digest !== props.digest) {
        if (deps.journal !== false) appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "moved", digest });
        return { ...props, digest, pinned: pinnedOf(props, digest) };
    }
    return props;
}

export async function updateArtifact(olds: ArtifactOutputs, news: ArtifactInputs, deps: LifecycleDeps): Promise<ArtifactOutputs> {
    const client = clientOf(deps, news.registry);
    await pushAliases(client, news, olds.digest);
    return { ...olds, ...news, ref: refOf(news), digest: olds.digest, pinned: olds.pinned };
}

export interface ArtifactDiff {
    changes: boolean;
    replaces: string[];
    /** Human-readable: which inputs changed. */
    reason: string;
}

/** Why an unchanged artifact is replaced when the registry lost its tag. */
export const TAG_GONE_REASON = "tag gone from the registry";

/**
 * Replace when the key (or where it is published) changes, or when the registry no longer has the
 * tag (deleted, garbage-collected); alias tags alone are an update.
 * `describer`: the kind's words for its own input entries (KindDefinition.inputs).
 */
export function diffArtifact(olds: ArtifactOutputs, news: ArtifactInputs, describer?: EntryDescriber): ArtifactDiff {
    const replaces: string[] = [];
    if (olds.key !== news.key) replaces.push("key");
    for (const prop of ["kind", "repository", "tag"] as const) {
        if (olds[prop] !== news[prop]) replaces.push(prop);
    }
    if (olds.registry?.host !== news.registry.host) replaces.push("registry");
    if (replaces.length > 0) {
        const changes = diffInputs(olds.inputs ?? {}, news.inputs);
        // Files by name where both file lists of folded summaries are kept, directories otherwise.
        const unfolded = unfoldSummaries(olds.inputs ?? {}, news.inputs, olds.fileList, news.fileList);
        const said = unfolded ? { changes: diffInputs(unfolded.olds, unfolded.news), ...unfolded } : { changes, olds: olds.inputs ?? {}, news: news.inputs };
        // Each changed input by its path (inputs["file:Cargo.lock"]), so previews name the files: at
        // most REASONS_SHOWN of them, and every changed directory entry of a folded summary.
        const named = [...said.changes.changed, ...said.changes.added, ...said.changes.removed].slice(0, REASONS_SHOWN);
        const folders = unfolded ? [...changes.changed, ...changes.added, ...changes.removed].filter((n) => n.startsWith("files:")) : [];
        for (const name of [...named, ...folders]) replaces.push(`inputs[${JSON.stringify(name)}]`);
        return { changes: true, replaces, reason: describeInputChanges(said.changes, said.olds, said.news, describer) };
    }
    if (news.tagInRegistry === false) return { changes: true, replaces: ["tagInRegistry"], reason: TAG_GONE_REASON };
    const aliasesChanged = JSON.stringify(olds.aliasTags ?? []) !== JSON.stringify(news.aliasTags);
    return { changes: aliasesChanged, replaces: [], reason: aliasesChanged ? "alias tags changed" : "no input changed" };
}
