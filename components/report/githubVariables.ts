// Stack outputs published as GitHub Actions variables (`vars.WARMRUN_RUST_DEPS` in workflows),
// through @pulumi/github. Registered only when `warmrun:github` is set.
import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { GithubSettings } from "../core/config";
import { CiField, variableName } from "./ciEnv";
import { CiOutputs } from "../core/artifact";

export interface PlannedVariable {
    variableName: string;
    artifact: string;
    field: CiField;
}

/** One variable per chosen artifact and output, named as `npm run ci-outputs` names them. */
export function githubVariablePlan(settings: GithubSettings): PlannedVariable[] {
    const plan: PlannedVariable[] = [];
    for (const artifact of settings.artifacts) {
        for (const field of settings.outputs as CiField[]) plan.push({ variableName: variableName(artifact, field), artifact, field });
    }
    return plan;
}

export interface GithubVariablesArgs {
    settings: GithubSettings;
    /** The token, a secret: it only ever reaches the provider's configuration, encrypted. */
    token: pulumi.Output<string>;
    /** Per artifact, its CI outputs (components/core/artifact.ts ciOutputs). */
    outputs: Record<string, Record<CiField, pulumi.Output<unknown>>>;
}

export class GithubVariables extends pulumi.ComponentResource {
    readonly variables: Record<string, github.ActionsVariable> = {};

    constructor(name: string, args: GithubVariablesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("warmrun:index:GithubVariables", name, {}, opts);
        const provider = new github.Provider(`${name}-provider`, { owner: args.settings.owner, token: pulumi.secret(args.token) }, { parent: this });
        for (const v of githubVariablePlan(args.settings)) {
            this.variables[v.variableName] = new github.ActionsVariable(
                v.variableName.toLowerCase(),
                {
                    repository: args.settings.repository,
                    variableName: v.variableName,
                    value: args.outputs[v.artifact][v.field].apply((x) => String(x)),
                },
                { parent: this, provider },
            );
        }
        this.registerOutputs({});
    }
}

/** What index.ts does when `warmrun:github` is set: every chosen output of the stack's artifacts. */
export function publishGithubVariables(settings: GithubSettings, artifacts: Record<string, { outputs: CiOutputs }>, token: pulumi.Output<string>): GithubVariables {
    const outputs = Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, a.outputs as Record<CiField, pulumi.Output<unknown>>]));
    return new GithubVariables("github", { settings, token, outputs });
}
