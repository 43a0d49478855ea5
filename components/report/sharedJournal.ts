// The build journal in the registry, so every runner's `warmrun stats` sees the same history: one
// small OCI artifact per stack (tag `journal-<stack>`, one JSON-lines layer). Appending is
// read-modify-write: read the artifact, add the local entries it lacks, push it, read it back; a
// registry has no compare-and-swap, so when another runner's push replaced ours in between, the
// entries are missing on the re-read and the append starts over (a bounded number of times).
import { setTimeout as sleep } from "timers/promises";
import { WarmrunError } from "../core/errors";
import { digestOf, manifestBytes, MEDIA } from "../oci/manifest";
import { EMPTY_CONFIG } from "../oci/push";
import { RegistryClient } from "../oci/registry";

export const JOURNAL_ARTIFACT_TYPE = "application/vnd.warmrun.journal.v1";
export const JOURNAL_LAYER_TYPE = "application/vnd.warmrun.journal.v1+jsonl";
const EMPTY = { mediaType: MEDIA.ociEmpty, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length };

export interface Entry {
    time: string;
    artifact: string;
    action: string;
    [field: string]: unknown;
}

export function journalTag(stack: string): string {
    return `journal-${stack.replace(/[^A-Za-z0-9_.-]/g, "_")}`.slice(0, 128);
}

/** An entry's identity: its JSON with sorted keys (the same entry from two runners is one). */
export function entryId(e: Entry): string {
    return JSON.stringify(Object.keys(e).sort().map((k) => [k, e[k]]));
}

/** The remote journal with the local entries it lacks, in time order (stable). */
export function mergeEntries(remote: Entry[], local: Entry[]): { merged: Entry[]; added: number } {
    const seen = new Set(remote.map(entryId));
    const extra = local.filter((e) => !seen.has(entryId(e)) && (seen.add(entryId(e)), true));
    const merged = [...remote, ...extra].map((e, i) => ({ e, i })).sort((a, b) => a.e.time.localeCompare(b.e.time) || a.i - b.i).map((x) => x.e);
    return { merged, added: extra.length };
}

export function serialize(entries: Entry[]): Buffer {
    return Buffer.from(entries.map((e) => JSON.stringify(e) + "\n").join(""));
}

export function parseEntries(text: string, where: string): Entry[] {
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l, i) => {
            try {
                return JSON.parse(l);
            } catch {
                throw new WarmrunError(`${where}: line ${i + 1} is not JSON: delete the tag to start the shared journal over`);
            }
        });
}

/** The stack's journal in the registry (empty when there is none yet). */
export async function readShared(client: RegistryClient, repository: string, stack: string): Promise<{ entries: Entry[]; digest?: string }> {
    const tag = journalTag(stack);
    const m = await client.getManifest(repository, tag);
    if (!m) return { entries: [] };
    const layer = m.json?.layers?.[0];
    if (m.json?.artifactType !== JOURNAL_ARTIFACT_TYPE || layer?.mediaType !== JOURNAL_LAYER_TYPE) {
        throw new WarmrunError(`${repository}:${tag} is not a warmrun journal (artifactType ${m.json?.artifactType ?? "none"}): remove that tag or give another repository`);
    }
    const { body } = await client.openBlob(repository, layer.digest);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    return { entries: parseEntries(Buffer.concat(chunks).toString("utf8"), `${repository}:${tag}`), digest: m.digest };
}

async function write(client: RegistryClient, repository: string, stack: string, entries: Entry[]): Promise<string> {
    const data = serialize(entries);
    const layer = { mediaType: JOURNAL_LAYER_TYPE, digest: digestOf(data), size: data.length };
    await client.pushBlob(repository, { ...EMPTY, data: EMPTY_CONFIG });
    await client.pushBlob(repository, { ...layer, data });
    const manifest = manifestBytes({ artifactType: JOURNAL_ARTIFACT_TYPE, config: EMPTY, layers: [layer], annotations: { "org.opencontainers.image.title": `warmrun journal of stack ${stack}` } });
    return client.putManifest(repository, journalTag(stack), MEDIA.ociManifest, manifest);
}

export interface AppendOptions {
    attempts?: number;
    /** Called after each push, before the read-back (tests put a rival's push here). */
    afterWrite?: (attempt: number) => Promise<void>;
    /** Milliseconds before the read-back and between attempts (grows with each attempt). */
    settleMs?: number;
}

/** Appends the local entries the stack's shared journal lacks; returns how many and the attempts taken. */
export async function appendShared(client: RegistryClient, repository: string, stack: string, local: Entry[], opts: AppendOptions = {}): Promise<{ added: number; attempts: number; total: number }> {
    const attempts = opts.attempts ?? 5;
    const settle = opts.settleMs ?? 200;
    let firstAdded: number | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
        const { entries: remote } = await readShared(client, repository, stack);
        const { merged, added } = mergeEntries(remote, local);
        firstAdded ??= added;
        if (added === 0) return { added: firstAdded, attempts: attempt, total: remote.length };
        await write(client, repository, stack, merged);
        await opts.afterWrite?.(attempt);
        await sleep(settle * attempt * (0.5 + Math.random()));
        const back = await readShared(client, repository, stack);
        if (mergeEntries(back.entries, local).added === 0) return { added: firstAdded, attempts: attempt, total: back.entries.length };
    }
    throw new WarmrunError(`the shared journal ${repository}:${journalTag(stack)} kept changing under ${attempts} appends (other runners writing): run the push again`);
}
