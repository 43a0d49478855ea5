// The dynamic provider behind every artifact. Pulumi serializes these functions into the state, so
// they stay tiny: each loads the implementation (components/core/providerImpl.ts) at run time, by
// the package's name from the provider's working directory (loader/load.js), so state never records
// where a checkout or an installed package lives. It stays self-contained: a call to an imported
// helper would be serialized as a reference to this module, which an installed package cannot resolve.
import * as pulumi from "@pulumi/pulumi";

function loadImpl(): typeof import("./providerImpl") {
    const { createRequire } = require("module");
    return createRequire(require("path").join(process.cwd(), "package.json"))("warmrun/load").load("components/core/providerImpl");
}

/**
 * The diff of an artifact whose key and place are unchanged (the warm case, every artifact of a
 * no-op preview), answered without loading the implementation: it agrees with diffArtifact in
 * components/core/lifecycle.ts (a unit test holds them together). Undefined: ask the implementation.
 */
export function unchangedArtifactDiff(olds: any, news: any): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } | undefined {
    // A kind published as a local file checks its file; a changed provider is recorded by an update.
    if (news.path !== undefined || olds.__provider !== news.__provider) return undefined;
    const samePlace =
        olds.key === news.key &&
        olds.kind === news.kind &&
        olds.repository === news.repository &&
        olds.tag === news.tag &&
        (olds.registry && olds.registry.host) === (news.registry && news.registry.host);
    // A tag gone from the registry is a replacement: the implementation names it.
    if (!samePlace || news.tagInRegistry === false) return undefined;
    const aliasesChanged = JSON.stringify(olds.aliasTags || []) !== JSON.stringify(news.aliasTags || []);
    return { changes: aliasesChanged, replaces: [], deleteBeforeReplace: false };
}

export const artifactProvider: pulumi.dynamic.ResourceProvider = {
    diff: async (id: string, olds: any, news: any) => unchangedArtifactDiff(olds, news) ?? loadImpl().diff(id, olds, news),
    create: (inputs: any) => loadImpl().create(inputs),
    read: (id: string, props: any) => loadImpl().read(id, props),
    update: (id: string, olds: any, news: any) => loadImpl().update(id, olds, news),
    delete: (id: string, props: any) => loadImpl().remove(id, props),
};
