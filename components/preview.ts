// Registry look-up at preview: say whether an artifact's key is already published (adopt, no
// build) or must be built, and fail early when the registry cannot be reached.
import * as pulumi from "@pulumi/pulumi";
import { RegistryClient } from "./registry";
import { RegistryArgs } from "./artifact";

export function announceCacheStatus(
    parent: pulumi.Resource,
    name: string,
    registry: RegistryArgs,
    repository: string,
    key: Promise<string>,
    tag: Promise<string>,
    lookup?: TagLookup,
): Promise<string> {
    return (async () => {
        const [k, t] = await Promise.all([key, tag]);
        const resolve = lookup ?? (await registryLookup(registry));
        const digest = await resolve(repository, t);
        const ref = `${registry.host}/${repository}:${t}`;
        pulumi.log.info(
            digest ? `${name}: ${ref} is in the registry (${digest}): a create adopts it, no build` : `${name}: ${ref} is not in the registry: a create builds it`,
            parent,
        );
        return k;
    })();
}

/** Resolves repository:tag to a digest, or undefined when the registry lacks it. */
export type TagLookup = (repository: string, tag: string) => Promise<string | undefined>;

export async function registryLookup(registry: RegistryArgs): Promise<TagLookup> {
    const password = registry.password ? await new Promise<string>((resolve) => registry.password!.apply(resolve)) : undefined;
    const client = new RegistryClient({ host: registry.host, insecure: registry.insecure, username: registry.username, password });
    return (repository, tag) => client.resolveTag(repository, tag);
}
