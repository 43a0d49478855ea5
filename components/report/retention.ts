// Retention (`npm run gc`): given what a registry holds for each artifact repository, what the
// stacks' states reference, the journal and the clock, decide what to keep (and why) and what
// to delete, and how many bytes the deletes make reclaimable. Pure: scripts/gc.ts does the I/O.
import { CREATED_ANNOTATION } from "../oci/timestamps";

export const KEY_ANNOTATION = "dev.warmrun.key";
/** Type prefix of every warmrun resource in a stack's state (dynamic provider resources). */
export const STATE_TYPE_PREFIX = "pulumi-nodejs:dynamic/warmrun:";

export interface Blob {
    digest: string;
    size: number;
}

/** What the registry says about one manifest. */
export interface ManifestFacts {
    digest: string;
    /** The full key (dev.warmrun.key annotation): warmrun made it. */
    key?: string;
    /** The created annotation, else the image config's created time (ISO 8601). */
    created?: string;
    createdFrom?: "annotation" | "config";
    /** Config and layers (for an index: those of its manifests). */
    blobs: Blob[];
    /** Manifests an index lists. */
    children?: string[];
}

export interface RegistryTag {
    tag: string;
    digest: string;
}

/** An artifact a stack's current state holds. */
export interface StateReference {
    stack: string;
    artifact: string;
    host: string;
    repository: string;
    tag: string;
    aliasTags: string[];
    /** The digest the state pins (what CI pulls). */
    digest: string;
}

export interface JournalRecord {
    artifact: string;
    key?: string;
    digest?: string;
    action: string;
    time: string;
}

/** One artifact repository: its tags, their manifests, and who references what. */
export interface RepositoryInventory {
    artifact: string;
    host: string;
    repository: string;
    tags: RegistryTag[];
    /** By digest: every tagged manifest, the state-pinned ones, and the children of indexes. */
    manifests: Record<string, ManifestFacts>;
    references: StateReference[];
}

export interface RetentionPolicy {
    /** Newest keys kept per artifact. */
    keep: number;
    /** Newest git-sha aliases kept per artifact (git-<sha>, base-qcow2-<sha>). */
    keepAliases: number;
    /** Anything younger than this is kept (a concurrent build's fresh push). */
    graceMs: number;
    now: Date;
}

export type TimeSource = "annotation" | "config" | "journal" | "unknown";

export interface Decision {
    digest: string;
    tags: string[];
    key?: string;
    /** When it was made, and where that time comes from. */
    time?: string;
    timeSource: TimeSource;
    /** Why it is kept; empty for a delete. */
    reasons: string[];
}

export interface ArtifactPlan {
    artifact: string;
    host: string;
    repository: string;
    keep: Decision[];
    /** In delete order (an index before the manifests it lists). */
    delete: Decision[];
    /** Bytes of the blobs only the deleted manifests reference (counted once over all artifacts). */
    reclaimableBytes: number;
}

export const DEFAULT_POLICY = { keep: 3, keepAliases: 3, graceMs: 24 * 3600_000 };

/** `24h`, `90m`, `7d`, `30s`, `0`: milliseconds, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
    if (!m) return undefined;
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? (Number(m[1]) === 0 ? "s" : "")) as "s"];
    return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

export function formatAge(ms: number): string {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return `${s} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172_800) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86_400)} d`;
}

export function formatBytes(n: number): string {
    if (n < 1024) return `${n} B`;
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

/** The artifacts a `pulumi stack export` holds, with where they are published and what they pin. */
export function referencesFromState(stack: string, exported: any): StateReference[] {
    const out: StateReference[] = [];
    for (const r of exported?.deployment?.resources ?? []) {
        if (typeof r.type !== "string" || !r.type.startsWith(STATE_TYPE_PREFIX)) continue;
        const o = r.outputs ?? {};
        const pinned = typeof o.pinned === "string" ? o.pinned : "";
        const at = pinned.lastIndexOf("@sha256:");
        if (at < 0 || typeof o.ref !== "string") continue;
        const place = pinned.slice(0, at);
        const slash = place.indexOf("/");
        // A local file (a CloudInitIso that is not pushed) names no registry.
        if (slash <= 0 || !o.ref.startsWith(place + ":")) continue;
        out.push({
            stack,
            artifact: typeof o.name === "string" ? o.name : String(r.urn ?? "").split("::").pop() ?? "",
            host: place.slice(0, slash),
            repository: place.slice(slash + 1),
            tag: o.ref.slice(place.length + 1),
            aliasTags: Array.isArray(o.aliasTags) ? o.aliasTags.filter((t: unknown) => typeof t === "string") : [],
            digest: pinned.slice(at + 1),
        });
    }
    return out;
}

type TagClass = "key" | "latest" | "sha-alias" | "other";

/** A key tag ends with the manifest's short key; `latest`/`<prefix>latest`; `git-<sha>` / `<prefix><sha>` aliases. */
export function classifyTag(tag: string, manifest: ManifestFacts | undefined): { kind: TagClass; family?: string } {
    const key = manifest?.key;
    if (key && tag.endsWith(key.slice(0, 24))) return { kind: "key" };
    if (!key) return { kind: "other" };
    if (/(^|-)latest$/.test(tag)) return { kind: "latest" };
    const m = /^(.*?(?:git-)?)[0-9a-f]{7,40}$/.exec(tag);
    if (m) return { kind: "sha-alias", family: m[1] };
    return { kind: "other" };
}

function timeOf(m: ManifestFacts, artifact: string, journal: JournalRecord[]): { time?: string; source: TimeSource } {
    if (m.created && !Number.isNaN(Date.parse(m.created))) return { time: m.created, source: m.createdFrom ?? "annotation" };
    // The journal: when this machine first built or adopted that key (or digest).
    let first: string | undefined;
    for (const e of journal) {
        if (e.artifact !== artifact || (e.action !== "build" && e.action !== "adopt")) continue;
        if (!((m.key && e.key === m.key) || e.digest === m.digest)) continue;
        if (first === undefined || Date.parse(e.time) < Date.parse(first)) first = e.time;
    }
    return first ? { time: first, source: "journal" } : { source: "unknown" };
}

const newestFirst = (a: { time?: string }, b: { time?: string }) => (b.time ? Date.parse(b.time) : -Infinity) - (a.time ? Date.parse(a.time) : -Infinity);

/** Decides one repository; the blob accounting across repositories is planRetention's. */
function decide(inv: RepositoryInventory, journal: JournalRecord[], policy: RetentionPolicy): { keep: Decision[]; delete: Decision[] } {
    const byDigest = new Map<string, Decision>();
    const decision = (digest: string): Decision => {
        let d = byDigest.get(digest);
        if (!d) {
            const m = inv.manifests[digest] ?? { digest, blobs: [] };
            const t = timeOf(m, inv.artifact, journal);
            d = { digest, tags: [], ...(m.key ? { key: m.key } : {}), ...(t.time ? { time: t.time } : {}), timeSource: t.source, reasons: [] };
            byDigest.set(digest, d);
        }
        return d;
    };
    const because = (digest: string, reason: string) => {
        const d = decision(digest);
        if (!d.reasons.includes(reason)) d.reasons.push(reason);
    };
    const tagged = new Map<string, string>(inv.tags.map((t) => [t.tag, t.digest]));
    for (const t of inv.tags) decision(t.digest).tags.push(t.tag);

    // 1. What any given stack's current state references: its pinned digest, its tags.
    for (const r of inv.references) {
        because(r.digest, `pinned by the state of stack ${r.stack}`);
        for (const tag of [r.tag, ...r.aliasTags]) {
            const at = tagged.get(tag);
            if (at) because(at, `tag ${tag} is in the state of stack ${r.stack}`);
        }
    }
    // 2. Aliases: latest always, the newest N sha aliases of each family.
    const families = new Map<string, { tag: string; digest: string; time?: string }[]>();
    const keyTags: { tag: string; digest: string; time?: string }[] = [];
    for (const t of inv.tags) {
        const c = classifyTag(t.tag, inv.manifests[t.digest]);
        const time = decision(t.digest).time;
        if (c.kind === "latest") because(t.digest, `alias ${t.tag}`);
        else if (c.kind === "other") because(t.digest, `tag ${t.tag} is not one warmrun makes`);
        else if (c.kind === "key") keyTags.push({ ...t, time });
        else {
            if (!families.has(c.family!)) families.set(c.family!, []);
            families.get(c.family!)!.push({ ...t, time });
        }
    }
    for (const list of families.values()) {
        for (const a of [...list].sort(newestFirst).slice(0, policy.keepAliases)) because(a.digest, `alias ${a.tag} (one of the newest ${policy.keepAliases} aliases)`);
    }
    // 3. The newest N keys.
    const keys = [...new Map(keyTags.map((k) => [k.digest, k])).values()].sort(newestFirst);
    for (const k of keys.slice(0, policy.keep)) if (k.time) because(k.digest, `one of the newest ${policy.keep} keys`);
    // 4. Young or of unknown age: never deleted.
    for (const d of byDigest.values()) {
        if (!inv.manifests[d.digest] && !inv.tags.some((t) => t.digest === d.digest)) continue;
        if (!d.time) because(d.digest, "age unknown (no created annotation, no config time, not in the journal)");
        else {
            const age = policy.now.getTime() - Date.parse(d.time);
            if (age < policy.graceMs) because(d.digest, `younger than the grace period (${formatAge(age)} old)`);
        }
    }
    // Manifests an index lists live and die with it.
    const keep = [...byDigest.values()].filter((d) => d.reasons.length > 0);
    const keptChildren = new Set(keep.flatMap((d) => inv.manifests[d.digest]?.children ?? []));
    const del: Decision[] = [];
    for (const d of [...byDigest.values()]) {
        if (d.reasons.length > 0 || d.tags.length === 0) continue;
        del.push(d);
        for (const child of inv.manifests[d.digest]?.children ?? []) {
            if (keptChildren.has(child) || byDigest.get(child)?.reasons.length || del.some((x) => x.digest === child)) continue;
            del.push(decision(child));
        }
    }
    // Never a digest a kept tag points at (nor one the state pins).
    const protectedDigests = new Set(keep.map((d) => d.digest));
    for (const d of del) if (protectedDigests.has(d.digest)) throw new Error(`retention of ${inv.repository}: ${d.digest} is both kept and deleted`);
    return { keep: keep.sort(newestFirst), delete: del };
}

/** Plans every repository; reclaimable bytes count each blob once and never one a kept manifest uses. */
export function planRetention(inventories: RepositoryInventory[], journal: JournalRecord[], policy: RetentionPolicy): ArtifactPlan[] {
    const decided = inventories.map((inv) => ({ inv, ...decide(inv, journal, policy) }));
    const blobsOf = (inv: RepositoryInventory, digest: string): Blob[] => {
        const m = inv.manifests[digest];
        if (!m) return [];
        return [...m.blobs, ...(m.children ?? []).flatMap((c) => blobsOf(inv, c))];
    };
    // Blobs are shared across repositories of one registry: a kept manifest anywhere keeps its blobs.
    const kept = new Set<string>();
    for (const d of decided) {
        for (const k of d.keep) for (const b of blobsOf(d.inv, k.digest)) kept.add(`${d.inv.host} ${b.digest}`);
        // Untagged manifests the plan does not delete (children of kept indexes, state-pinned ones) keep theirs too.
        const deleted = new Set(d.delete.map((x) => x.digest));
        for (const digest of Object.keys(d.inv.manifests)) {
            if (!deleted.has(digest) && !d.keep.some((k) => k.digest === digest)) for (const b of blobsOf(d.inv, digest)) kept.add(`${d.inv.host} ${b.digest}`);
        }
    }
    const counted = new Set<string>();
    return decided.map(({ inv, keep, delete: del }) => {
        let bytes = 0;
        for (const d of del) {
            for (const b of blobsOf(inv, d.digest)) {
                const id = `${inv.host} ${b.digest}`;
                if (kept.has(id) || counted.has(id)) continue;
                counted.add(id);
                bytes += b.size;
            }
        }
        return { artifact: inv.artifact, host: inv.host, repository: inv.repository, keep, delete: del, reclaimableBytes: bytes };
    });
}

/** The manifest facts of a fetched manifest (and, for an image, the config's created time). */
export function manifestFacts(digest: string, json: any, configCreated?: string): ManifestFacts {
    const annotations = json?.annotations ?? {};
    const blobs: Blob[] = [];
    if (json?.config?.digest) blobs.push({ digest: json.config.digest, size: Number(json.config.size ?? 0) });
    for (const l of json?.layers ?? []) if (l?.digest) blobs.push({ digest: l.digest, size: Number(l.size ?? 0) });
    const children = Array.isArray(json?.manifests) ? json.manifests.map((m: any) => m.digest).filter((d: unknown) => typeof d === "string") : undefined;
    const created = typeof annotations[CREATED_ANNOTATION] === "string" ? { created: annotations[CREATED_ANNOTATION], createdFrom: "annotation" as const } : configCreated ? { created: configCreated, createdFrom: "config" as const } : {};
    return {
        digest,
        ...(typeof annotations[KEY_ANNOTATION] === "string" ? { key: annotations[KEY_ANNOTATION] } : {}),
        ...created,
        blobs,
        ...(children ? { children } : {}),
    };
}

/**
 * One message for a registry that refuses deletes (405, or the UNSUPPORTED error code), naming
 * the retention feature that registry has instead.
 */
export function deleteRefusedMessage(host: string, status: number): string {
    const h = host.toLowerCase();
    const own: [RegExp, string][] = [
        [/^ghcr\.io$/, "GitHub Packages: delete package versions in the package's settings, or with a scheduled workflow (e.g. actions/delete-package-versions)"],
        [/(^|\.)quay\.io$/, "Quay: tag expiration (the quay.expires-after label) and the repository's auto-prune policies"],
        [/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/, "Amazon ECR: lifecycle policies on the repository"],
        [/\.azurecr\.io$/, "Azure Container Registry: retention policies for untagged manifests, or `az acr run` with `acr purge`"],
        [/(^|\.)(gcr\.io|pkg\.dev)$/, "Google Artifact Registry: cleanup policies on the repository"],
        [/(^|\.)(docker\.io|registry-1\.docker\.io)$/, "Docker Hub: delete tags in the repository's settings (Hub's API does not delete by digest)"],
        [/gitlab/, "GitLab: the project's container registry cleanup policy"],
    ];
    const hit = own.find(([re]) => re.test(h));
    const instead = hit
        ? hit[1]
        : "the registry's own retention feature (Harbor: tag retention rules; GitLab: cleanup policies; Nexus: cleanup policies); a distribution registry deletes once started with storage.delete.enabled: true (REGISTRY_STORAGE_DELETE_ENABLED=true)";
    return `registry ${host} refuses manifest deletes (${status}): nothing was deleted. Use ${instead}; the dry run above lists what it would have kept and deleted.`;
}
