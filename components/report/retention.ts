// Retention (`npm run gc`): given what a registry holds for each artifact repository, what the
// stacks' states reference, the journal, when gc first saw each tag and the clock, decide what to
// keep (and why) and what to delete, and how many bytes the deletes make reclaimable. Pure:
// scripts/gc.ts does the I/O.
//
// Two clocks, for two questions. Which keys are the newest: a manifest's `created` annotation
// (reproducible builds set it to their commit's time, not the push's), else the image config's
// time, else the journal, else when gc first saw it. Whether a manifest may be deleted at all: no
// registry says when a tag was pushed, so gc records when it first saw each tag (the sightings, in
// a small state file) and never deletes a manifest a tag has pointed at for less than the grace
// period by that record. A tag was pushed no later than gc first saw it, so this holds for pushes
// from any machine, whatever their manifests' `created` says.
import { CREATED_ANNOTATION, KEY_ANNOTATION } from "../oci/annotations";
import { isLeaseTag, parseLease } from "../core/lease";
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
    /** The created annotation, else the image config's created time (ISO 8601): a time of its content, not of its push. */
    created?: string;
    createdFrom?: "annotation" | "config";
    /** Config and layers (for an index: those of its manifests). */
    blobs: Blob[];
    /** Manifests an index lists. */
    children?: string[];
    /** A build lease (core/lease.ts): whose, until when. */
    lease?: { holder: string; expires: string };
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
    /** A manifest a tag has pointed at for less than this (by the sightings) is kept: a concurrent build's fresh push. */
    graceMs: number;
    now: Date;
}

/** Where a manifest's time comes from: its annotation, its image config, the journal, or gc's first sighting of it. */
export type TimeSource = "annotation" | "config" | "journal" | "seen";

export interface Decision {
    digest: string;
    tags: string[];
    key?: string;
    /** When it was made, and where that time comes from (orders the keys). */
    time?: string;
    timeSource?: TimeSource;
    /** When gc first saw the youngest of its tags pointing at it (gates the delete). */
    firstSeen?: string;
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

type TagClass = "key" | "latest" | "sha-alias" | "referrers" | "lease" | "other";

/** The referrers tag schema's tag of a subject (oci/referrers.ts): `sha256-<hex>`. */
const REFERRERS_TAG = /^sha256-([0-9a-f]{64})$/;

/**
 * A key tag ends with the manifest's short key; `latest`/`<prefix>latest`; `git-<sha>` / `<prefix><sha>`
 * aliases; `sha256-<hex>` the index of a manifest's referrers (its SBOM) where the registry has no referrers API;
 * `lease-<tag>` a runner's lease on a key it builds (core/lease.ts).
 */
export function classifyTag(tag: string, manifest: ManifestFacts | undefined): { kind: TagClass; family?: string; subject?: string } {
    const referrers = REFERRERS_TAG.exec(tag);
    if (referrers) return { kind: "referrers", subject: `sha256:${referrers[1]}` };
    if (isLeaseTag(tag) && manifest?.lease) return { kind: "lease" };
    const key = manifest?.key;
    if (key && tag.endsWith(key.slice(0, 24))) return { kind: "key" };
    if (!key) return { kind: "other" };
    if (/(^|-)latest$/.test(tag)) return { kind: "latest" };
    const m = /^(.*?(?:git-)?)[0-9a-f]{7,40}$/.exec(tag);
    if (m) return { kind: "sha-alias", family: m[1] };
    return { kind: "other" };
}

/** The journal's time of a manifest: when this machine first built or adopted that key (or digest). */
function journalTime(m: ManifestFacts, artifact: string, journal: JournalRecord[]): string | undefined {
    let first: string | undefined;
    for (const e of journal) {
        if (e.artifact !== artifact || (e.action !== "build" && e.action !== "adopt")) continue;
        if (!((m.key && e.key === m.key) || e.digest === m.digest)) continue;
        if (first === undefined || Date.parse(e.time) < Date.parse(first)) first = e.time;
    }
    return first;
}

/** What orders a manifest among its artifact's keys: its time, then the journal's, then the first sighting. */
interface Age {
    time?: string;
    source?: TimeSource;
    journal?: string;
    seen?: string;
}

function ageOf(m: ManifestFacts, artifact: string, journal: JournalRecord[], seen: string | undefined): Age {
    const fromJournal = journalTime(m, artifact, journal);
    const base = { ...(fromJournal ? { journal: fromJournal } : {}), ...(seen ? { seen } : {}) };
    if (m.created && !Number.isNaN(Date.parse(m.created))) return { time: m.created, source: m.createdFrom ?? "annotation", ...base };
    if (fromJournal) return { time: fromJournal, source: "journal", ...base };
    if (seen) return { time: seen, source: "seen", ...base };
    return base;
}

const ms = (t: string | undefined) => (t ? Date.parse(t) : -Infinity);
/** Newest first; equal times (builds of one commit share its time) by the journal, then by the first sighting. */
function newestFirst(a: Age, b: Age): number {
    return ms(b.time) - ms(a.time) || ms(b.journal) - ms(a.journal) || ms(b.seen) - ms(a.seen);
}

/** The key of one tag's sighting: `host/repository:tag@digest` (a tag moved to another manifest is a new sighting). */
export function sightingKey(host: string, repository: string, tag: string, digest: string): string {
    return `${host}/${repository}:${tag}@${digest}`;
}

/** When gc first and last saw each tag pointing at a manifest (the gc state file). */
export interface Sightings {
    version: 1;
    tags: Record<string, { firstSeen: string; lastSeen: string }>;
}

export const NO_SIGHTINGS: Sightings = { version: 1, tags: {} };

/** A sighting not confirmed for this long (its repository no longer examined) is forgotten: seen again, it starts over. */
export const SIGHTING_TTL_MS = 30 * 86_400_000;

/**
 * The sightings after examining `inventories` at `now`: new tags are first seen now, present ones
 * confirmed; a tag of an examined repository that is gone (or points elsewhere) is forgotten, so a
 * later push under it counts from when gc sees it. Others stay until SIGHTING_TTL_MS passes.
 */
export function recordSightings(previous: Sightings, inventories: RepositoryInventory[], now: Date): Sightings {
    const at = now.toISOString();
    const examined = new Set(inventories.map((inv) => `${inv.host}/${inv.repository}:`));
    const tags: Sightings["tags"] = {};
    for (const [k, v] of Object.entries(previous.tags ?? {})) {
        const tagged = k.slice(0, k.lastIndexOf("@"));
        const prefix = tagged.slice(0, tagged.lastIndexOf(":") + 1);
        if (examined.has(prefix) || now.getTime() - Date.parse(v.lastSeen) > SIGHTING_TTL_MS) continue;
        tags[k] = v;
    }
    for (const inv of inventories) {
        for (const t of inv.tags) {
            const k = sightingKey(inv.host, inv.repository, t.tag, t.digest);
            const before = previous.tags?.[k];
            tags[k] = { firstSeen: before?.firstSeen ?? at, lastSeen: at };
        }
    }
    return { version: 1, tags };
}

/** The sightings without the tags of deleted manifests. */
export function forgetDeleted(s: Sightings, plans: { host: string; repository: string; delete: { digest: string; tags: string[] }[] }[]): Sightings {
    const tags = { ...s.tags };
    for (const p of plans) for (const d of p.delete) for (const t of d.tags) delete tags[sightingKey(p.host, p.repository, t, d.digest)];
    return { version: 1, tags };
}

/** Decides one repository; the blob accounting across repositories is planRetention's. */
function decide(inv: RepositoryInventory, journal: JournalRecord[], policy: RetentionPolicy, sightings: Sightings): { keep: Decision[]; delete: Decision[] } {
    const seenOf = (tag: string, digest: string) => sightings.tags[sightingKey(inv.host, inv.repository, tag, digest)]?.firstSeen;
    // Each manifest's tags' first sightings: the earliest dates it, the latest gates its delete.
    const sighted = new Map<string, { earliest?: string; latest?: string; unseen: boolean }>();
    for (const t of inv.tags) {
        const s = sighted.get(t.digest) ?? { unseen: false };
        const at = seenOf(t.tag, t.digest);
        if (at === undefined) s.unseen = true;
        else {
            if (s.earliest === undefined || at < s.earliest) s.earliest = at;
            if (s.latest === undefined || at > s.latest) s.latest = at;
        }
        sighted.set(t.digest, s);
    }
    const byDigest = new Map<string, Decision>();
    const ages = new Map<string, Age>();
    const decision = (digest: string): Decision => {
        let d = byDigest.get(digest);
        if (!d) {
            const m = inv.manifests[digest] ?? { digest, blobs: [] };
            const s = sighted.get(digest);
            const age = ageOf(m, inv.artifact, journal, s?.earliest);
            ages.set(digest, age);
            d = {
                digest,
                tags: [],
                ...(m.key ? { key: m.key } : {}),
                ...(age.time ? { time: age.time, timeSource: age.source } : {}),
                ...(s?.latest && !s.unseen ? { firstSeen: s.latest } : {}),
                reasons: [],
            };
            byDigest.set(digest, d);
        }
        return d;
    };
    const order = (a: { digest: string }, b: { digest: string }) => newestFirst(ages.get(a.digest)!, ages.get(b.digest)!);
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
    const families = new Map<string, RegistryTag[]>();
    const keyTags: RegistryTag[] = [];
    const referrers: (RegistryTag & { subject: string })[] = [];
    for (const t of inv.tags) {
        const c = classifyTag(t.tag, inv.manifests[t.digest]);
        if (c.kind === "referrers") referrers.push({ ...t, subject: c.subject! });
        else if (c.kind === "lease") {
            // A live lease: a runner is building that key now. An expired one is left by a runner
            // that died (or a registry that refuses deletes) and goes after the grace period.
            const lease = inv.manifests[t.digest].lease!;
            if (Date.parse(lease.expires) > policy.now.getTime()) because(t.digest, `a live lease: ${lease.holder} builds this key until ${lease.expires}`);
        }
        else if (c.kind === "latest") because(t.digest, `alias ${t.tag}`);
        else if (c.kind === "other") because(t.digest, `tag ${t.tag} is not one warmrun makes`);
        else if (c.kind === "key") keyTags.push(t);
        else {
            if (!families.has(c.family!)) families.set(c.family!, []);
            families.get(c.family!)!.push(t);
        }
    }
    for (const list of families.values()) {
        for (const a of [...list].sort(order).slice(0, policy.keepAliases)) because(a.digest, `alias ${a.tag} (one of the newest ${policy.keepAliases} aliases)`);
    }
    // 3. The newest N keys.
    const keys = [...new Map(keyTags.map((k) => [k.digest, k])).values()].sort(order);
    for (const k of keys.slice(0, policy.keep)) because(k.digest, `one of the newest ${policy.keep} keys`);
    // 4. The grace period: a tag gc has not seen for that long may be a concurrent run's fresh push.
    const now = policy.now.getTime();
    for (const d of byDigest.values()) {
        if (d.tags.length === 0) continue;
        const seenFor = d.firstSeen === undefined ? 0 : now - Date.parse(d.firstSeen);
        if (seenFor < policy.graceMs) {
            const grace = formatAge(policy.graceMs);
            because(d.digest, seenFor <= 0 ? `first seen by this gc run: kept for the grace period (${grace})` : `first seen by gc ${formatAge(seenFor)} ago: within the grace period (${grace})`);
        }
        // Its own time says young too (a time of its content: the push came later).
        if (d.time && d.timeSource !== "seen" && now - Date.parse(d.time) < policy.graceMs) because(d.digest, `younger than the grace period (${formatAge(now - Date.parse(d.time))} old, by its ${d.timeSource} time)`);
    }
    // 5. A manifest's referrers (its SBOM) live and die with it; those of a manifest no longer in
    // the registry go once their tag is past the grace period.
    for (const r of referrers) {
        const subject = byDigest.get(r.subject);
        if (subject?.reasons.length) because(r.digest, `referrers of ${r.subject.slice(7, 19)}, which is kept`);
        else if (!subject && inv.manifests[r.subject]) because(r.digest, `referrers of ${r.subject.slice(7, 19)}, an untagged manifest`);
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
    return { keep: keep.sort(order), delete: del };
}

/** Plans every repository; reclaimable bytes count each blob once and never one a kept manifest uses. */
export function planRetention(inventories: RepositoryInventory[], journal: JournalRecord[], policy: RetentionPolicy, sightings: Sightings): ArtifactPlan[] {
    const decided = inventories.map((inv) => ({ inv, ...decide(inv, journal, policy, sightings) }));
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
    const lease = parseLease(json);
    return {
        digest,
        ...(typeof annotations[KEY_ANNOTATION] === "string" ? { key: annotations[KEY_ANNOTATION] } : {}),
        ...created,
        blobs,
        ...(children ? { children } : {}),
        ...(lease ? { lease: { holder: lease.holder, expires: lease.expires.toISOString() } } : {}),
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
