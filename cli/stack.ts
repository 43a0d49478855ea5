// Stack bootstrap: the stack exists (created on first use) and is selected, and a loopback
// registry the config names is serving, on whatever port it names.
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { WarmrunError } from "../components/core/errors";
import { parseRegistryPrefix } from "../components/oci/registry";
import { Project } from "./project";
import { pulumiOutput } from "./engine";
import { runScript } from "./script";
import { gitRemote, repositoryOfRemote } from "../components/core/gitState";

/** The port of a loopback `warmrun:registry` (127.x.x.x or localhost with a port), else undefined. */
export function loopbackRegistryPort(registry: unknown): number | undefined {
    if (typeof registry !== "string") return undefined;
    const prefix = parseRegistryPrefix(registry);
    const m = prefix && /^(?:127\.\d+\.\d+\.\d+|localhost):(\d+)$/.exec(prefix.host);
    return m ? parseInt(m[1], 10) : undefined;
}

/** `warmrun:registry` of the stack file, when the file sets it in plain text. */
export function configuredRegistry(stackFile: string): string | undefined {
    if (!fs.existsSync(stackFile)) return undefined;
    let doc: any;
    try {
        doc = YAML.parse(fs.readFileSync(stackFile, "utf8"));
    } catch (e: any) {
        throw new WarmrunError(`${stackFile} is not valid YAML: ${String(e.message).split("\n")[0]}`);
    }
    const value = doc?.config?.["warmrun:registry"];
    return typeof value === "string" ? value : undefined;
}

/** The stack tag naming the repository whose artifacts a stack holds. */
export const REPOSITORY_TAG = "warmrun:repository";

export type PulumiCall = (args: string[]) => { code: number; stdout: string; stderr: string };

/**
 * Every repository's generated project is named warmrun, so on a backend that several repositories
 * share, two repositories' stacks of one name are one stack: an `up` from the second would delete
 * the first one's artifacts from the state and replace its outputs. The stack's tag names the
 * repository that uses it (set on first use); another repository's use is refused before anything
 * runs, unless `claim` (the repository moved). A backend without stack tags is not checked.
 */
export function checkStackOwner(pulumi: PulumiCall, stack: string, repository: string, opts: { backend?: string; claim?: boolean } = {}): "tagged" | "same" | "claimed" | "unchecked" {
    const got = pulumi(["stack", "tag", "get", REPOSITORY_TAG, "--stack", stack]);
    const owner = got.code === 0 ? got.stdout.trim() : undefined;
    if (owner === repository) return "same";
    if (owner && !opts.claim) {
        throw new WarmrunError(
            `stack ${stack} (backend ${opts.backend ?? "?"}) holds the artifacts of ${owner}, not of this repository (${repository}): ` +
                `on a shared backend every repository needs its own stack names. Name this one's differently (rename Pulumi.${stack}.yaml and run with --stack <name>); ` +
                `if this is the same repository under a new remote, run once with WARMRUN_CLAIM_STACK=1`,
        );
    }
    if (!owner && !/not found/i.test(got.stderr)) return "unchecked";
    return pulumi(["stack", "tag", "set", REPOSITORY_TAG, repository, "--stack", stack]).code === 0 ? (owner ? "claimed" : "tagged") : "unchecked";
}

/**
 * Selects the stack, creating it when the backend has none of that name, and checks that it is
 * this repository's (checkStackOwner; a checkout without a remote is not checked).
 */
export function ensureStack(project: Project, env: NodeJS.ProcessEnv): { created: boolean } {
    const created = selectOrCreateStack(project, env);
    const remote = gitRemote(project.root, env);
    if (remote) {
        const repository = repositoryOfRemote(remote);
        const claimed = checkStackOwner((args) => pulumiOutput(project, env, args), project.stack, repository, {
            backend: env.PULUMI_BACKEND_URL?.split("?")[0],
            claim: env.WARMRUN_CLAIM_STACK === "1",
        });
        if (claimed === "claimed") process.stderr.write(`warmrun: stack ${project.stack} now names ${repository} as its repository\n`);
    }
    return { created };
}

function selectOrCreateStack(project: Project, env: NodeJS.ProcessEnv): boolean {
    if (pulumiOutput(project, env, ["stack", "select", project.stack, "--non-interactive"]).code === 0) return false;
    const hadSalt = fs.existsSync(project.stackFile) && /^encryptionsalt:/m.test(fs.readFileSync(project.stackFile, "utf8"));
    const init = pulumiOutput(project, env, ["stack", "init", project.stack, "--non-interactive"]);
    if (init.code !== 0) {
        throw new WarmrunError(`could not create stack ${project.stack} (backend ${env.PULUMI_BACKEND_URL}):\n${(init.stderr || init.stdout).trim()}`);
    }
    const rel = path.relative(process.cwd(), project.stackFile) || project.stackFile;
    process.stderr.write(`warmrun: created stack ${project.stack} (state: ${env.PULUMI_BACKEND_URL})\n`);
    const salted = !hadSalt && fs.existsSync(project.stackFile) && /^encryptionsalt:/m.test(fs.readFileSync(project.stackFile, "utf8"));
    if (salted) process.stderr.write(`warmrun: ${rel} now holds the stack's encryptionsalt: commit it, so every checkout decrypts the same secrets and the tree stays clean\n`);
    return true;
}

/** Starts the local registry (scripts/registry.sh) when the stack's registry is a loopback one. */
export async function ensureLocalRegistry(project: Project, env: NodeJS.ProcessEnv): Promise<void> {
    const port = loopbackRegistryPort(configuredRegistry(project.stackFile));
    if (port === undefined) return;
    if ((await runScript(path.join(project.packageRoot, "scripts", "registry.sh"), ["start", String(port)], env)).code !== 0) {
        throw new WarmrunError(`the local registry on 127.0.0.1:${port} (warmrun:registry in ${project.stackFile}) did not start; see the registry.sh line above`);
    }
}
