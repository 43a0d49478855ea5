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
): Promise<string> {
    return (async () => {
        const [k, t] = await Promise.all([key, tag]);
        const password = registry.password ? await new Promise<string>((resolve) => registry.password!.apply((p) => { resolve(p); return p; })) : undefined;
        const client = new RegistryClient({ host: registry.host, insecure: registry.insecure, username: registry.username, password });
        const digest = await client.resolveTag(repository, t);
        const ref = `${registry.host}/${repository}:${t}`;
        pulumi.log.info(
            digest ? `${name}: ${ref} is in the registry (${digest}): a create adopts it, no build` : `${name}: ${ref} is not in the registry: a create builds it`,
            parent,
        );
        return k;
    })();
}
