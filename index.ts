// warmrun: the stack's artifacts, keyed by content, built only on a miss.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig, WarmrunConfig, NAMESPACE } from "./components/core/config";
import { StatCache } from "./components/core/fileset";
import { ciOutputs } from "./components/core/artifact";
import { buildStack } from "./components/core/stack";
import { readGitState } from "./components/core/gitState";
import { publishGithubVariables } from "./components/report/githubVariables";

function secretKeys(): Set<string> {
    const isSecret = (pulumi.runtime as any).isConfigSecret as ((k: string) => boolean) | undefined;
    const keys = Object.keys(pulumi.runtime.allConfig());
    return new Set(isSecret ? keys.filter((k) => isSecret(k)) : []);
}

const projectRoot = path.resolve(__dirname);
let config: WarmrunConfig;
try {
    config = validateConfig(pulumi.runtime.allConfig(), { projectRoot, secretKeys: secretKeys() });
} catch (e: any) {
    // One clear message, without a stack trace.
    throw new pulumi.RunError(e.message);
}

const statCache = new StatCache(path.join(config.cacheDir, "stat-cache.json"));
const password = config.registry.hasPassword ? new pulumi.Config(NAMESPACE).requireSecret("registryPassword") : undefined;
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
