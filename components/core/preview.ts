// Registry look-up at preview: whether an artifact's key is already published (adopt, no build) or
// must be built, asked once per tag for the whole stack, and the log line that says so.
import * as pulumi from "@pulumi/pulumi";
import { RegistryClient } from "../oci/registry";
import { RegistryArgs } from "./artifact";

/**
 * Says what the registry answered for one artifact. A hit is news only to the cache report (most
 * artifacts of an up are unchanged): debug, unless the report's preview asks for every answer
 * (WARMRUN_REPORT_LOOKUPS). A miss is always said.
 */
export function announceCacheStatus(parent: pulumi.Resource, name: string, ref: string, digest: string | undefined): void {
    const message = cacheStatusMessage(name, ref, digest);
    if (digest && !process.env.WARMRUN_REPORT_LOOKUPS) pulumi.log.debug(message, parent);
    else pulumi.log.info(message, parent);
}

/** The preview's log line about one artifact; `npm run cache-report` reads it back (parseCacheStatus). */
export function cacheStatusMessage(name: string, ref: string, digest: string | undefined): string {
    return digest ? `${name}: ${ref} is in the registry (${digest}): a create adopts it, no build` : `${name}: ${ref} is not in the registry: a create builds it`;
}

export interface CacheStatus {
    artifact: string;
    ref: string;
    /** The digest the registry holds under ref, or undefined when it lacks the tag. */
    digest: string | undefined;
}

/** Reads a cacheStatusMessage back; undefined for any other line. */
export function parseCacheStatus(message: string): CacheStatus | undefined {
    const m = /^(\S+): (\S+) is (?:in the registry \((sha256:[0-9a-f]{64})\)|not in the registry)/.exec(message.trim());
    return m ? { artifact: m[1], ref: m[2], digest: m[3] } : undefined;
}

/** Resolves repository:tag to a digest, or undefined when the registry lacks it. */
export type TagLookup = (repository: string, tag: string) => Promise<string | undefined>;

/**
 * One look-up for the whole stack: a single registry client (its tokens reused), and each
 * repository:tag asked once however many components want to know.
 */
export function sharedLookup(registry: RegistryArgs, base?: TagLookup): TagLookup {
    let client: Promise<RegistryClient> | undefined;
    const ask: TagLookup =
        base ??
        (async (repository, tag) => {
            client ??= (async () => {
                const password = registry.password ? await new Promise<string>((resolve) => registry.password!.apply(resolve)) : undefined;
                return new RegistryClient({ host: registry.host, insecure: registry.insecure, username: registry.username, password });
            })();
            return (await client).resolveTag(repository, tag);
        });
    const answers = new Map<string, Promise<string | undefined>>();
    return (repository, tag) => {
        const k = `${repository}:${tag}`;
        if (!answers.has(k)) answers.set(k, ask(repository, tag));
        return answers.get(k)!;
    };
}
