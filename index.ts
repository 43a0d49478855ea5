// warmrun: the stack's artifacts, keyed by content, built only on a miss.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, WarmrunConfig, NAMESPACE } from "./components/config";
import { StatCache } from "./components/fileset";
import { ciOutputs } from "./components/artifact";
import { buildStack } from "./components/stack";
import { readGitState } from "./components/gitState";
import { publishGithubVariables } from "./components/githubVariables";

function secretKeys(): Set<string> {
    const isSecret = (pulumi.runtime as any).isConfigSecret as ((k: string) => boolean) | undefined;
    const keys = Object.keys(pulumi.runtime.allConfig());
    return new Set(isSecret ? keys.filter((k) => isSecret(k)) : []);
}

// Run by the `warmrun` command for a user's repository, the program is the installed package's and
// WARMRUN_PROJECT_ROOT names the repository: config paths, git state and the cache directory are its.
const projectRoot = path.resolve(process.env.WARMRUN_PROJECT_ROOT || __dirname);
process.chdir(projectRoot);
let config: WarmrunConfig;
try {
    config = validateConfig(pulumi.runtime.allConfig(), { projectRoot, secretKeys: secretKeys() });
} catch (e: any) {
    // One clear message, without a stack trace.
    throw new pulumi.RunError(e.message);
}

const statCache = new StatCache(path.join(config.cacheDir, "stat-cache.json"));
// The registry password: a config secret, else WARMRUN_REGISTRY_PASSWORD (a CI token, e.g. GitHub's),
// which leaves the committed stack file untouched and is kept a secret just the same.
const envPassword = config.registry.hasPassword ? undefined : process.env.WARMRUN_REGISTRY_PASSWORD;
if (envPassword) config.registry.username ??= process.env.WARMRUN_REGISTRY_USERNAME || "warmrun";
const password = config.registry.hasPassword ? new pulumi.Config(NAMESPACE).requireSecret("registryPassword") : envPassword ? pulumi.secret(envPassword) : undefined;
const artifacts = buildStack(config, statCache, password, undefined, readGitState(projectRoot));

export const registry = `${config.registry.host}${config.registry.namespace ? "/" + config.registry.namespace : ""}`;
export const outputs = Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, ciOutputs(a.artifact)]));

// Only a stack with warmrun:github registers the GitHub provider (and needs its plugin).
if (config.github) {
    const token = new pulumi.Config(NAMESPACE).requireSecretObject<{ token: string }>("github").apply((g) => g.token);
    publishGithubVariables(config.github, artifacts, token);
}

/** What this run downloaded, over all artifacts: 0 on a warm run (every artifact adopted or unchanged). */
export const downloads = pulumi.all(Object.values(outputs).map((o) => o.downloads)).apply((all) => ({
    count: all.reduce((s, d) => s + d.count, 0),
    bytes: all.reduce((s, d) => s + d.bytes, 0),
}));
