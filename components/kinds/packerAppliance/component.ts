// PackerAppliance's wiring: secret variables from the stack config reach packer as Pulumi secrets;
// on a miss `packer validate` runs before anything is registered (a hit never starts packer), and
// the command runner registers a local.Command that runs `packer build`.
import * as pulumi from "@pulumi/pulumi";
import { KindComponentModule } from "../../core/publish";
import { PackerBuildSpec } from "./build";
import { PackerFields } from "./fields";
import { validateTemplate } from "./plan";
import { packerCommandOnMiss } from "./command";

/** The secret variables' values, as Pulumi secrets, from the stack config keys they name. */
export function secretVarOutputs(secretVars: Record<string, string> = {}): Record<string, pulumi.Output<string>> {
    return Object.fromEntries(
        Object.entries(secretVars).map(([v, key]) => {
            const [ns, ...rest] = key.split(":");
            return [v, new pulumi.Config(ns).requireSecret(rest.join(":"))];
        }),
    );
}

const plainOf = (o: pulumi.Output<Record<string, string>>) => new Promise<Record<string, string>>((resolve) => o.apply((v) => { resolve(v); return v; }));

type Module = KindComponentModule<PackerFields, PackerBuildSpec>;

/** Only a miss can start a build, so only a miss is validated. */
export const check: Module["check"] = async (args) => {
    if (args.publication.hit) return;
    await validateTemplate(args.spec.name, args.plan.build, await plainOf(pulumi.all(secretVarOutputs(args.fields.secretVars))));
};

export const wire: Module["wire"] = (parent, args) => {
    const secrets = pulumi.all(secretVarOutputs(args.fields.secretVars));
    let build: pulumi.Output<PackerBuildSpec> = secrets.apply((s) => ({ ...args.plan.build, secretVars: s }));
    if (args.plan.build.runner === "command" && !args.publication.hit) {
        const commandDir = packerCommandOnMiss(parent, args.spec.name, args.publication.key, args.plan.build, secrets, args.stack.workDir);
        build = pulumi.all([build, commandDir]).apply(([b, d]) => ({ ...b, commandDir: d }));
    }
    const hasSecrets = Object.keys(args.fields.secretVars ?? {}).length > 0;
    return { build, secretOutputs: hasSecrets ? ["build"] : [] };
};
