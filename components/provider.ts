// The dynamic provider behind every artifact. Pulumi serializes these functions into the state, so
// they stay tiny: each loads the implementation (components/providerImpl.ts) from the project at
// run time. The engine runs dynamic providers in the project directory, so the path is relative
// to it and state never records where a checkout lives.
import * as pulumi from "@pulumi/pulumi";

function loadImpl(): typeof import("./providerImpl") {
    const path = require("path");
    const root = process.cwd();
    if (!require.extensions[".ts"]) {
        require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
    }
    return require(path.join(root, "components", "providerImpl"));
}

export const artifactProvider: pulumi.dynamic.ResourceProvider = {
    diff: (id: string, olds: any, news: any) => loadImpl().diff(id, olds, news),
    create: (inputs: any) => loadImpl().create(inputs),
    read: (id: string, props: any) => loadImpl().read(id, props),
    update: (id: string, olds: any, news: any) => loadImpl().update(id, olds, news),
    delete: (id: string, props: any) => loadImpl().remove(id, props),
};
