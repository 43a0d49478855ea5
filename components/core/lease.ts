// Leases: one build per key across runners. Before building a miss, a runner writes a small OCI
// manifest under a tag derived from the key (`lease-<tag>`) naming itself and an expiry, re-reads it
// (last writer wins) and builds only if it is its own; a runner that finds another's live lease
// waits for the key's tag and adopts it. The holder renews its lease while it builds and removes it
// when the build ends, well or badly; a holder that dies leaves a lease that simply expires. Leases
// never decide what is correct (a duplicate build is only wasted time): a stale lease costs at most
// its expiry. The registry is the only shared service; there is no lock server.
import * as os from "os";
import { randomUUID } from "crypto";
import { RegistryClient } from "../oci/registry";
import { digestOf, manifestBytes, MEDIA } from "../oci/manifest";
import { EMPTY_CONFIG } from "../oci/push";
import { LEASE_EXPIRES_ANNOTATION, LEASE_HOLDER_ANNOTATION, LEASE_KEY_ANNOTATION, LEASE_TOKEN_ANNOTATION } from "../oci/annotations";

export const LEASE_ARTIFACT_TYPE = "application/vnd.warmrun.lease.v1";
/**
 * The default of warmrun:leaseSeconds: how long a lease outlives a holder that stopped renewing it.
 * A live holder renews it every third of that (sooner again after a failed renewal), so a build of
 * any length keeps its lease and a registry outage of almost the whole lifetime is ridden through;
 * the lifetime only bounds what a dead holder costs the runners waiting for it.
 */
export const DEFAULT_LEASE_SECONDS = 300;
export const LEASE_TAG_PREFIX = "lease-";
const MAX_TAG = 128;
const EMPTY = { mediaType: MEDIA.ociEmpty, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length };

export interface Lease {
    /** Who builds: host, pid and run, for people reading logs. */
    holder: string;
    /** Unique to one take of the lease: what "is it mine" compares. */
    token: string;
    /** The full key being built. */
    key: string;
    expires: Date;
}

/** The lease tag of a key's tag: `lease-<tag>`, cut to the registry's 128 characters. */
export function leaseTag(tag: string): string {
    return (LEASE_TAG_PREFIX + tag).slice(0, MAX_TAG);
}

export function isLeaseTag(tag: string): boolean {
    return tag.startsWith(LEASE_TAG_PREFIX);
}

/** `host pid N run R`: enough to find the holder's job in CI logs. */
export function holderName(runId: string | undefined, host = os.hostname(), pid = process.pid): string {
    return `${host} pid ${pid}${runId ? ` run ${runId}` : ""}`;
}

export function newLease(key: string, holder: string, seconds: number, now: Date): Lease {
    return { holder, token: randomUUID(), key, expires: new Date(now.getTime() + seconds * 1000) };
}

/** The lease as an OCI manifest: an empty config and layer, the lease in its annotations. */
export function leaseManifest(lease: Lease): Buffer {
    return manifestBytes({
        artifactType: LEASE_ARTIFACT_TYPE,
        config: EMPTY,
        layers: [EMPTY],
        annotations: {
            [LEASE_HOLDER_ANNOTATION]: lease.holder,
            [LEASE_EXPIRES_ANNOTATION]: lease.expires.toISOString(),
            [LEASE_TOKEN_ANNOTATION]: lease.token,
            [LEASE_KEY_ANNOTATION]: lease.key,
        },
    });
}

/** The lease a manifest carries; undefined for anything else (a foreign push under the tag). */
export function parseLease(manifest: any): Lease | undefined {
    const a = manifest?.annotations;
    if (manifest?.artifactType !== LEASE_ARTIFACT_TYPE || !a) return undefined;
    const expires = new Date(a[LEASE_EXPIRES_ANNOTATION]);
    if (typeof a[LEASE_HOLDER_ANNOTATION] !== "string" || typeof a[LEASE_TOKEN_ANNOTATION] !== "string" || isNaN(expires.getTime())) return undefined;
    return { holder: a[LEASE_HOLDER_ANNOTATION], token: a[LEASE_TOKEN_ANNOTATION], key: a[LEASE_KEY_ANNOTATION] ?? "", expires };
}

export function isLive(lease: Lease | undefined, now: Date): boolean {
    return lease !== undefined && lease.expires.getTime() > now.getTime();
}

/** Seconds between two looks for the key's tag: 1, 2, 4, 8... up to a third of the lease, at most 15. */
export function backoffSeconds(attempt: number, leaseSeconds: number): number {
    const cap = Math.max(1, Math.min(15, Math.floor(leaseSeconds / 3)));
    return Math.min(cap, 2 ** Math.max(0, attempt));
}

/** How often a holder renews its lease: three times per lifetime, so one missed renewal is harmless. */
export function renewSeconds(leaseSeconds: number): number {
    return Math.max(1, leaseSeconds / 3);
}

/** How soon a holder tries again after a failed renewal: every 15 s at most, more often for a short lease. */
export function renewRetrySeconds(leaseSeconds: number): number {
    return Math.min(15, renewSeconds(leaseSeconds));
}

/** Whether warmrun:leaseSeconds is usable: undefined is the default, 0 turns leases off. */
export function leaseSecondsProblem(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return undefined;
    return `warmrun:leaseSeconds must be a whole number of seconds, 0 to turn leases off (default ${DEFAULT_LEASE_SECONDS}), not ${JSON.stringify(value)}: \`pulumi config set warmrun:leaseSeconds 600\``;
}

// ---- registry operations ------------------------------------------------------------------

export interface StoredLease extends Lease {
    digest: string;
}

export async function readLease(client: RegistryClient, repository: string, tag: string): Promise<StoredLease | undefined> {
    const m = await client.getManifest(repository, leaseTag(tag));
    const lease = m && parseLease(m.json);
    return lease ? { ...lease, digest: m!.digest } : undefined;
}

/** Pushes the empty blob (once per repository), then the lease manifest; returns its digest. */
export async function writeLease(client: RegistryClient, repository: string, tag: string, lease: Lease): Promise<string> {
    await client.pushBlob(repository, { ...EMPTY, data: EMPTY_CONFIG });
    return client.putManifest(repository, leaseTag(tag), MEDIA.ociManifest, leaseManifest(lease));
}

/**
 * Removes a lease by its manifest's digest (the tag goes with it, and only if it still names that
 * manifest). A registry that refuses deletes gets an already expired lease under the tag instead,
 * if the tag is still ours.
 */
export async function removeLease(client: RegistryClient, repository: string, tag: string, lease: StoredLease): Promise<void> {
    try {
        await client.deleteManifest(repository, lease.digest);
        return;
    } catch {
        /* e.g. 405: this registry does not delete through its API */
    }
    const current = await readLease(client, repository, tag);
    if (current?.token === lease.token) await writeLease(client, repository, tag, { ...lease, expires: new Date(0) });
}

export interface LeaseOptions {
    client: RegistryClient;
    /** The artifact's name, for log lines. */
    name: string;
    repository: string;
    /** The key's tag; the lease lives under leaseTag(tag). */
    tag: string;
    key: string;
    /** Lifetime without renewal; 0 (or less): no lease at all. */
    seconds: number;
    holder: string;
    /** How the artifact is named in log lines (repo:tag). */
    ref: string;
    log: (message: string) => void;
    /** Pause between writing a lease and reading it back, so a near-simultaneous writer is seen (default: settleMsFor). */
    settleMs?: number;
    sleep?: (ms: number) => Promise<void>;
    now?: () => Date;
}

/**
 * How long to wait before reading a lease back. Another runner that saw no lease writes its own
 * within its read-then-write time, which on the same registry is about ours: four times ours,
 * at least 200 ms, at most the 1 s that covers a slow registry.
 */
export function settleMsFor(readThenWriteMs: number): number {
    return Math.min(1000, Math.max(200, 4 * readThenWriteMs));
}

/** A lease this runner holds while it builds. */
export interface HeldLease {
    lease: StoredLease;
    /** Stops renewing and removes the lease; never throws. */
    release(): Promise<void>;
}

export interface LeaseOutcome {
    /** The key's tag appeared (another runner built it): its digest, to adopt. */
    adopted?: string;
    /** This runner holds the lease and builds. */
    held?: HeldLease;
    /** The holder this runner waited for, if any. */
    waitedFor?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function hold(opts: LeaseOptions, first: StoredLease): HeldLease {
    const { client, repository, tag, log } = opts;
    const now = opts.now ?? (() => new Date());
    let current = first;
    let stopped = false;
    let warned = false;
    let inFlight: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    /** One renewal; false when it failed (and should be tried again soon). */
    const renew = async (): Promise<boolean> => {
        try {
            const seen = await readLease(client, repository, tag);
            if (seen && seen.token !== current.token) {
                stopped = true;
                log(`${opts.name}: the lease on ${opts.ref} was taken over by ${seen.holder}; building on (the last push wins, both are the same key)`);
                return true;
            }
            const next = { ...current, expires: new Date(now().getTime() + opts.seconds * 1000) };
            const digest = await writeLease(client, repository, tag, next);
            const previous = current;
            current = { ...next, digest };
            if (previous.digest !== digest) await client.deleteManifest(repository, previous.digest).catch(() => undefined);
            return true;
        } catch (e: any) {
            if (!warned) log(`${opts.name}: could not renew the lease on ${opts.ref} (${e?.message ?? e}); building on, trying again every ${renewRetrySeconds(opts.seconds)} s`);
            warned = true;
            return false;
        }
    };
    // One renewal at a time: the next is scheduled when the last one ends, sooner if it failed.
    const schedule = (seconds: number) => {
        if (stopped) return;
        timer = setTimeout(() => {
            inFlight = renew().then((ok) => schedule(ok ? renewSeconds(opts.seconds) : renewRetrySeconds(opts.seconds)));
        }, seconds * 1000);
        timer.unref();
    };
    schedule(renewSeconds(opts.seconds));
    return {
        get lease() {
            return current;
        },
        async release() {
            stopped = true;
            clearTimeout(timer);
            await inFlight;
            await removeLease(client, repository, tag, current).catch((e) => log(`${opts.name}: could not remove the lease on ${opts.ref} (${e?.message ?? e}); it expires by itself`));
        },
    };
}

/**
 * Called on a miss, before building. Returns `held` when this runner is to build (release it when
 * the build ends), `adopted` when another runner's build appeared meanwhile, and neither when
 * leases are off.
 */
export async function leaseOrWait(opts: LeaseOptions): Promise<LeaseOutcome> {
    if (!(opts.seconds > 0)) return {};
    const { client, repository, tag, log } = opts;
    const sleep = opts.sleep ?? defaultSleep;
    const now = opts.now ?? (() => new Date());
    let waitedFor: string | undefined;
    let announced: string | undefined;
    let attempt = 0;
    let lastLine = 0;
    const started = now().getTime();
    for (;;) {
        const digest = await client.resolveTag(repository, tag);
        if (digest) {
            if (waitedFor) log(`${opts.name}: ${opts.ref} appeared after ${Math.round((now().getTime() - started) / 1000)} s of waiting for ${waitedFor}; adopting it`);
            return { adopted: digest, ...(waitedFor ? { waitedFor } : {}) };
        }
        const readAt = Date.now();
        let current = await readLease(client, repository, tag);
        if (!isLive(current, now())) {
            if (current) log(`${opts.name}: the lease of ${current.holder} on ${opts.ref} expired at ${current.expires.toISOString()}; taking it over`);
            else if (waitedFor) log(`${opts.name}: ${waitedFor} gave up its lease on ${opts.ref} without pushing it (its build failed or stopped); building it here`);
            const mine = newLease(opts.key, opts.holder, opts.seconds, now());
            const written = await writeLease(client, repository, tag, mine);
            await sleep(opts.settleMs ?? settleMsFor(Date.now() - readAt));
            const check = await readLease(client, repository, tag);
            if (check?.token === mine.token) {
                const held = hold(opts, { ...mine, digest: written });
                // The holder may have pushed and released between our first look and our lease.
                const appeared = await client.resolveTag(repository, tag);
                if (appeared) {
                    await held.release();
                    return { adopted: appeared, ...(waitedFor ? { waitedFor } : {}) };
                }
                log(`${opts.name}: took the lease on ${opts.ref} until ${mine.expires.toISOString()} (renewed while building)`);
                return { held, ...(waitedFor ? { waitedFor } : {}) };
            }
            // Another runner wrote after us: it builds, we wait. Our manifest is now untagged.
            await client.deleteManifest(repository, written).catch(() => undefined);
            current = check;
            if (!isLive(current, now())) continue;
        }
        const holder = current!;
        waitedFor = holder.holder;
        const delay = backoffSeconds(attempt++, opts.seconds);
        const t = now().getTime();
        if (announced !== holder.holder || t - lastLine >= 60_000) {
            const left = Math.max(0, Math.round((holder.expires.getTime() - t) / 1000));
            log(`${opts.name}: waiting for ${holder.holder}, which is building ${opts.ref} (its lease ends in ${left} s unless renewed); looking again every ${backoffSeconds(99, opts.seconds)} s at most`);
            announced = holder.holder;
            lastLine = t;
        }
        await sleep(delay * 1000);
    }
}
