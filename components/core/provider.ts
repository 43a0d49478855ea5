// The dynamic provider behind every artifact. Pulumi serializes these functions into the state, so
// they stay tiny: each loads the implementation (components/core/providerImpl.ts) from the project at
// run time. The engine runs dynamic providers in the project directory, so the path is relative
// to it and state never records where a checkout lives.
import * as pulumi from "@pulumi/pulumi";

function loadImpl(): typeof import("./providerImpl") {
    const path = require("path");
    const root = process.cwd();
    if (!require.extensions[".ts"]) {
        // tsconfig.pulumi.json: transpile only (the program is type-checked by the build).
        require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.pulumi.json") });
    }
    return require(path.join(root, "components", "core", "providerImpl"));
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
    if (!samePlace) return undefined;
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
