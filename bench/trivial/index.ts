// As many components and dynamic resources as the dev stack registers, doing nothing: what a
// preview of that many resources costs on this runtime without warmrun's work.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config("trivial");
const components = config.requireNumber("components");
const resources = config.requireNumber("resources");

const noop: pulumi.dynamic.ResourceProvider = {
    async create(inputs: any) {
        return { id: inputs.name, outs: inputs };
    },
    async diff() {
        return { changes: false };
    },
};

class Noop extends pulumi.dynamic.Resource {
    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        super(noop, name, { name }, opts);
    }
}

const parents: pulumi.ComponentResource[] = [];
for (let i = 0; i < components; i++) parents.push(new pulumi.ComponentResource("bench:trivial:Component", `c${i}`));
for (let i = 0; i < resources; i++) new Noop(`r${i}`, { parent: parents.length ? parents[i % parents.length] : undefined });
export const count = resources;
