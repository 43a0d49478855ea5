// Retention of the artifact repositories (components/report/retention.ts decides; this asks the
// stacks and the registry, prints, and with --yes deletes).
//
//   npm run gc -- [--stack a,b] [--keep N] [--keep-aliases N] [--grace 24h] [--journal FILE] [--json] [--yes]
//                 [--state-file FILE,FILE]   (saved `pulumi stack export` output instead of asking the stacks)
//                 [--seen-file FILE]         (when gc first saw each tag; default .warmrun/gc-seen.json)
//
// Dry run by default. Exit codes: 0 done; 1 a stack or the registry failed; 2 bad arguments;
// 4 the registry refuses deletes (nothing deleted).
import * as fs from "fs";
import * as path from "path";
import { RegistryClient, RegistryRequestError, defaultInsecure } from "../components/oci/registry";
import { MEDIA } from "../components/oci/manifest";
import { journalPath, readJournal } from "../components/core/journal";
import { CREATED_ANNOTATION } from "../components/oci/annotations";
import { formatBytes } from "../components/downloads/report";
import {
    ArtifactPlan,
    classifyTag,
    DEFAULT_POLICY,
    deleteRefusedMessage,
    formatAge,
    forgetDeleted,
    manifestFacts,
    ManifestFacts,
    parseDuration,
    NO_SIGHTINGS,
    planRetention,
    recordSightings,
    referencesFromState,
    RepositoryInventory,
    RetentionPolicy,
    Sightings,
    StateReference,
} from "../components/report/retention";
import { parseOptions, pulumi, PROJECT_ROOT, UsageError } from "./pulumiCli";
import { WarmrunError } from "../components/core/errors";

const USAGE =
    "usage: npm run gc -- [--stack a,b] [--keep N] [--keep-aliases N] [--grace 24h] [--journal FILE] [--json] [--yes] [--state-file FILE,FILE] [--seen-file FILE]\n" +
    `  defaults: the current stack, --keep ${DEFAULT_POLICY.keep}, --keep-aliases ${DEFAULT_POLICY.keepAliases}, --grace 24h; a dry run unless --yes`;

export const EXIT_REFUSED = 4;

class GcError extends WarmrunError {}

/** Where gc records when it first saw each tag: beside the journal, in the project's cache directory. */
export const DEFAULT_SEEN_FILE = path.join(".warmrun", "gc-seen.json");

function readSightings(file: string): Sightings {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e: any) {
        if (e.code === "ENOENT") return NO_SIGHTINGS;
        throw new GcError(`gc state ${file} cannot be read (${e.code ?? e.message}): fix its permissions`);
    }
    try {
        const s = JSON.parse(text);
        if (s?.version === 1 && s.tags && typeof s.tags === "object") return s;
    } catch {
        /* below */
    }
    throw new GcError(`gc state ${file} is not a gc state file: move it away (without it, gc keeps every tag for one more grace period)`);
}

/** Written whole (a partial file is never read); a failure only makes later runs keep more. */
function writeSightings(file: string, s: Sightings): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(`${file}.partial`, JSON.stringify(s, null, 1) + "\n");
        fs.renameSync(`${file}.partial`, file);
    } catch (e: any) {
        process.stderr.write(`gc: could not write ${file} (${e.code ?? e.message}): later runs count the grace period from when they see these tags\n`);
    }
}

async function currentStack(): Promise<string> {
    if (process.env.WARMRUN_STACK) return process.env.WARMRUN_STACK;
    const r = await pulumi(["stack", "--show-name", "--non-interactive"]);
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : "dev";
}

function readExport(file: string): any {
    try {
        return JSON.parse(fs.readFileSync(path.resolve(process.env.INIT_CWD ?? process.cwd(), file), "utf8"));
    } catch (e: any) {
        throw new GcError(`--state-file ${file}: ${e.code === "ENOENT" ? "no such file" : e.message}: give the output of \`pulumi stack export\``);
    }
}

/** The stack a `pulumi stack export` is of: its root resource's URN names it. */
function stackOfExport(exported: any): string | undefined {
    for (const r of exported?.deployment?.resources ?? []) {
        const m = /^urn:pulumi:([^:]+)::/.exec(r.urn ?? "");
        if (m) return m[1];
    }
    return undefined;
}

async function stackReferences(stack: string): Promise<StateReference[]> {
    const r = await pulumi(["stack", "export", "--stack", stack, "--non-interactive"]);
    if (r.code !== 0) throw new GcError(`stack ${stack}: \`pulumi stack export\` failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`);
    return referencesFromState(stack, JSON.parse(r.stdout));
}

/** The stack config's registry settings, when this checkout has the stack's config file. */
async function stackRegistry(stack: string): Promise<{ host?: string; insecure?: boolean; username?: string; password?: string }> {
    const r = await pulumi(["config", "--json", "--show-secrets", "--stack", stack, "--non-interactive"]);
    if (r.code !== 0) return {};
    let c: Record<string, { value?: unknown }>;
    try {
        c = JSON.parse(r.stdout);
    } catch {
        return {};
    }
    const v = (k: string) => c[`warmrun:${k}`]?.value;
    const prefix = typeof v("registry") === "string" ? (v("registry") as string) : undefined;
    const insecure = v("registryInsecure");
    return {
        host: prefix?.split("/")[0],
        ...(insecure !== undefined ? { insecure: insecure === true || insecure === "true" } : {}),
        ...(typeof v("registryUsername") === "string" && typeof v("registryPassword") === "string" ? { username: v("registryUsername") as string, password: v("registryPassword") as string } : {}),
    };
}

async function configCreated(client: RegistryClient, repository: string, json: any): Promise<string | undefined> {
    const config = json?.config;
    if (!config?.digest || !/image\.config\.v1\+json|container\.image\.v1\+json/.test(config.mediaType ?? "") || Number(config.size ?? 0) > 1 << 20) return undefined;
    const { body } = await client.openBlob(repository, config.digest);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    try {
        const created = JSON.parse(Buffer.concat(chunks).toString("utf8")).created;
        return typeof created === "string" && !created.startsWith("0001-") && !created.startsWith("1970-01-01T00:00:00") ? created : undefined;
    } catch {
        return undefined;
    }
}

async function factsOf(client: RegistryClient, repository: string, digest: string, into: Record<string, ManifestFacts>): Promise<void> {
    if (into[digest]) return;
    const m = await client.getManifest(repository, digest);
    if (!m) return;
    const isIndex = m.mediaType === MEDIA.ociIndex || m.mediaType === MEDIA.dockerList;
    into[digest] = manifestFacts(digest, m.json, isIndex || m.json.annotations?.[CREATED_ANNOTATION] ? undefined : await configCreated(client, repository, m.json));
    for (const child of into[digest].children ?? []) await factsOf(client, repository, child, into);
}

async function inventory(client: RegistryClient, host: string, repository: string, references: StateReference[]): Promise<RepositoryInventory> {
    const tags = [];
    for (const tag of await client.listTags(repository)) {
        const digest = await client.resolveTag(repository, tag);
        if (digest) tags.push({ tag, digest });
    }
    const manifests: Record<string, ManifestFacts> = {};
    // The subjects of referrers tags too: whether the manifest an SBOM describes is still there.
    const subjects = tags.map((t) => classifyTag(t.tag, undefined).subject).filter((d): d is string => d !== undefined);
    for (const digest of new Set([...tags.map((t) => t.digest), ...references.map((r) => r.digest), ...subjects])) await factsOf(client, repository, digest, manifests);
    const names = [...new Set(references.map((r) => r.artifact))];
    return { artifact: names.join(", ") || repository.split("/").pop()!, host, repository, tags, manifests, references };
}

function shortDigest(d: string): string {
    return d.replace(/^sha256:/, "").slice(0, 12);
}

function render(plans: ArtifactPlan[], opts: { stacks: string[]; policy: RetentionPolicy; dryRun: boolean }): string {
    const { policy } = opts;
    const lines = [
        `warmrun gc: stack${opts.stacks.length > 1 ? "s" : ""} ${opts.stacks.join(", ")}; keep the newest ${policy.keep} keys and ${policy.keepAliases} git aliases per artifact, ` +
            `${policy.graceMs > 0 ? `and any tag gc first saw less than ${formatAge(policy.graceMs)} ago` : "no grace period"}; ${opts.dryRun ? "dry run (--yes deletes)" : "deleting"}`,
        "",
    ];
    const when = (t: string | undefined, source: string | undefined) => (t ? `${t.replace("T", " ").replace(/(\.\d+)?Z$/, "")} (${source}, ${formatAge(policy.now.getTime() - Date.parse(t))} old)` : "age unknown");
    for (const p of plans) {
        lines.push(`${p.artifact} (${p.host}/${p.repository}): keep ${p.keep.length}, delete ${p.delete.length}, ${formatBytes(p.reclaimableBytes)} reclaimable`);
        for (const d of p.keep) lines.push(`  keep    ${shortDigest(d.digest)}  ${d.tags.join(", ") || "(untagged)"}  ${when(d.time, d.timeSource)}: ${d.reasons.join("; ")}`);
        for (const d of p.delete) lines.push(`  delete  ${shortDigest(d.digest)}  ${d.tags.join(", ") || "(listed by a deleted index)"}  ${when(d.time, d.timeSource)}`);
        lines.push("");
    }
    const kept = plans.reduce((s, p) => s + p.keep.length, 0);
    const deleted = plans.reduce((s, p) => s + p.delete.length, 0);
    const bytes = plans.reduce((s, p) => s + p.reclaimableBytes, 0);
    lines.push(
        `total: keep ${kept}, ${opts.dryRun ? "would delete" : "deleted"} ${deleted} manifest${deleted === 1 ? "" : "s"}; ${formatBytes(bytes)} (${bytes} bytes) of blobs become reclaimable ` +
            "once the registry collects garbage (the local one: `bash scripts/registry.sh gc`)",
    );
    return lines.join("\n") + "\n";
}

/** A delete the registry refuses outright: 405, or the distribution error code UNSUPPORTED. */
function refused(e: unknown): e is RegistryRequestError {
    return e instanceof RegistryRequestError && (e.status === 405 || /"code"\s*:\s*"UNSUPPORTED"/.test(e.body));
}

export async function main(argv: string[]): Promise<number> {
    const o = parseOptions(argv, ["--stack", "--keep", "--keep-aliases", "--grace", "--journal", "--state-file", "--seen-file"], ["--yes", "--json", "--help"], USAGE);
    if (o.flags.has("help")) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const count = (name: string, fallback: number) => {
        const v = o.values[name];
        if (v === undefined) return fallback;
        if (!/^\d+$/.test(v)) throw new UsageError(`--${name} ${v} is not a whole number\n${USAGE}`);
        return Number(v);
    };
    const graceMs = o.values.grace === undefined ? DEFAULT_POLICY.graceMs : parseDuration(o.values.grace);
    if (graceMs === undefined) throw new UsageError(`--grace ${o.values.grace} is not a duration: write e.g. 24h, 90m, 7d or 0\n${USAGE}`);
    const policy: RetentionPolicy = { keep: count("keep", DEFAULT_POLICY.keep), keepAliases: count("keep-aliases", DEFAULT_POLICY.keepAliases), graceMs, now: new Date() };
    const dryRun = !o.flags.has("yes");
    const stateFiles = o.values["state-file"]?.split(",").filter(Boolean);
    if (stateFiles && o.values.stack) throw new UsageError(`--state-file and --stack exclude each other\n${USAGE}`);

    const references: StateReference[] = [];
    const settings: Record<string, { insecure?: boolean; username?: string; password?: string }> = {};
    let stacks: string[];
    if (stateFiles) {
        stacks = [];
        for (const file of stateFiles) {
            const exported = readExport(file);
            const stack = stackOfExport(exported) ?? path.basename(file);
            stacks.push(stack);
            references.push(...referencesFromState(stack, exported));
        }
    } else {
        stacks = o.values.stack ? o.values.stack.split(",").map((s) => s.trim()).filter(Boolean) : [await currentStack()];
        for (const stack of stacks) {
            references.push(...(await stackReferences(stack)));
            const s = await stackRegistry(stack);
            if (s.host && !settings[s.host]) settings[s.host] = s;
        }
    }
    const repos = new Map<string, StateReference[]>();
    for (const r of references) {
        const k = `${r.host}/${r.repository}`;
        if (!repos.has(k)) repos.set(k, []);
        repos.get(k)!.push(r);
    }
    const clients = new Map<string, RegistryClient>();
    const clientFor = (host: string) => {
        if (!clients.has(host)) {
            const s = settings[host] ?? {};
            // Explicit stack config first; else the credentials docker/podman login left (components/oci/credentials.ts).
            clients.set(host, new RegistryClient({ host, insecure: s.insecure ?? defaultInsecure(host), ...(s.username !== undefined ? { username: s.username, password: s.password } : {}) }));
        }
        return clients.get(host)!;
    };
    const inventories: RepositoryInventory[] = [];
    for (const refs of repos.values()) inventories.push(await inventory(clientFor(refs[0].host), refs[0].host, refs[0].repository, refs));
    inventories.sort((a, b) => a.artifact.localeCompare(b.artifact));
    const journal = readJournal(path.resolve(PROJECT_ROOT, o.values.journal ?? journalPath()));
    // A dry run records what it saw too: the grace period runs from a tag's first sighting.
    const seenFile = path.resolve(PROJECT_ROOT, o.values["seen-file"] ?? DEFAULT_SEEN_FILE);
    const sightings = recordSightings(readSightings(seenFile), inventories, policy.now);
    const plans = planRetention(inventories, journal, policy, sightings);

    const out = (text: string) => process.stdout.write(text);
    if (!o.flags.has("json")) out(render(plans, { stacks, policy, dryRun }));
    let deleted = 0;
    let refusal: string | undefined;
    const done: ArtifactPlan[] = [];
    try {
        if (!dryRun) {
            outer: for (const p of plans) {
                const gone: ArtifactPlan = { ...p, delete: [] };
                done.push(gone);
                for (const d of p.delete) {
                    try {
                        await clientFor(p.host).deleteManifest(p.repository, d.digest);
                        gone.delete.push(d);
                        deleted++;
                    } catch (e) {
                        if (!refused(e)) throw e;
                        refusal = deleteRefusedMessage(p.host, e.status);
                        break outer;
                    }
                }
            }
        }
    } finally {
        // A deleted tag pushed again later is a new sighting.
        writeSightings(seenFile, forgetDeleted(sightings, done));
    }
    if (o.flags.has("json")) {
        out(JSON.stringify({ stacks, dryRun, policy: { keep: policy.keep, keepAliases: policy.keepAliases, graceMs: policy.graceMs }, plans, deleted, ...(refusal ? { refused: refusal } : {}) }, null, 2) + "\n");
    }
    if (refusal) {
        process.stderr.write(`gc: ${refusal}\n`);
        return EXIT_REFUSED;
    }
    if (!dryRun && !o.flags.has("json")) out(`deleted ${deleted} manifest${deleted === 1 ? "" : "s"}\n`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`gc: ${e.message}\n`);
            process.exitCode = e instanceof UsageError ? 2 : 1;
        },
    );
}
