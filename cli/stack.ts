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

/** Selects the stack, creating it when the backend has none of that name. */
export function ensureStack(project: Project, env: NodeJS.ProcessEnv): { created: boolean } {
    if (pulumiOutput(project, env, ["stack", "select", project.stack, "--non-interactive"]).code === 0) return { created: false };
    const hadSalt = fs.existsSync(project.stackFile) && /^encryptionsalt:/m.test(fs.readFileSync(project.stackFile, "utf8"));
    const init = pulumiOutput(project, env, ["stack", "init", project.stack, "--non-interactive"]);
    if (init.code !== 0) {
        throw new WarmrunError(`could not create stack ${project.stack} (backend ${env.PULUMI_BACKEND_URL}):\n${(init.stderr || init.stdout).trim()}`);
    }
    const rel = path.relative(process.cwd(), project.stackFile) || project.stackFile;
    process.stderr.write(`warmrun: created stack ${project.stack} (state: ${env.PULUMI_BACKEND_URL})\n`);
    const salted = !hadSalt && fs.existsSync(project.stackFile) && /^encryptionsalt:/m.test(fs.readFileSync(project.stackFile, "utf8"));
    if (salted) process.stderr.write(`warmrun: ${rel} now holds the stack's encryptionsalt: commit it, so every checkout decrypts the same secrets and the tree stays clean\n`);
    return { created: true };
}

/** Starts the local registry (scripts/registry.sh) when the stack's registry is a loopback one. */
export async function ensureLocalRegistry(project: Project, env: NodeJS.ProcessEnv): Promise<void> {
    const port = loopbackRegistryPort(configuredRegistry(project.stackFile));
    if (port === undefined) return;
    if ((await runScript(path.join(project.packageRoot, "scripts", "registry.sh"), ["start", String(port)], env)).code !== 0) {
        throw new WarmrunError(`the local registry on 127.0.0.1:${port} (warmrun:registry in ${project.stackFile}) did not start; see the registry.sh line above`);
    }
}
