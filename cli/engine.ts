// Engine lookup: the pinned Pulumi engine (found on PATH or built once, scripts/install-engine.sh)
// and the environment every pulumi command of a project runs with.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawn } from "child_process";
import { WarmrunError } from "../components/core/errors";
import { CACHE_DIR, Project } from "./project";
import { runScript } from "./script";

export function warmrunCache(env: NodeJS.ProcessEnv = process.env): string {
    return env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
}

/** The directory of `pulumi` and its Node.js language host; builds the engine on first use. */
export async function engineDir(packageRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
    // The script's progress goes to stderr (the terminal); its last line of stdout is the directory.
    const r = await runScript(path.join(packageRoot, "scripts", "install-engine.sh"), [], { ...env, WARMRUN_CACHE: warmrunCache(env) });
    if (r.code !== 0) throw new WarmrunError("the Pulumi engine could not be installed (see the install-engine lines above)");
    const dir = r.stdout.trim().split("\n").pop() ?? "";
    if (!fs.existsSync(path.join(dir, "pulumi"))) throw new WarmrunError(`install-engine.sh named ${JSON.stringify(dir)}, which holds no pulumi`);
    return dir;
}

/** The local file backend of a project unless PULUMI_BACKEND_URL names another (or `pulumi login` did). */
export function backendUrl(project: Project, env: NodeJS.ProcessEnv): string {
    if (env.PULUMI_BACKEND_URL) return env.PULUMI_BACKEND_URL;
    return `file://${project.own ? path.join(project.root, ".pulumi-state") : path.join(project.root, CACHE_DIR, "state")}`;
}

/**
 * The environment of the project's pulumi commands: the engine first on PATH, the backend, the
 * dev passphrase for the local backend only (as scripts/lib.sh), and the repository for the program.
 */
export function engineEnv(project: Project, dir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const backend = backendUrl(project, env);
    const out: NodeJS.ProcessEnv = {
        ...env,
        PATH: `${dir}${path.delimiter}${env.PATH ?? ""}`,
        PULUMI_BACKEND_URL: backend,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        WARMRUN_CACHE: warmrunCache(env),
        WARMRUN_PROJECT_ROOT: project.root,
        WARMRUN_PULUMI_PROJECT: project.pulumiDir,
        WARMRUN_JOURNAL: env.WARMRUN_JOURNAL || path.join(project.root, CACHE_DIR, "journal.jsonl"),
    };
    if (backend.startsWith("file://") && env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        out.PULUMI_CONFIG_PASSPHRASE = "warmrun-dev";
    }
    // The engine built here has no plugin downloads to offer; the providers in use load on demand.
    if (dir.startsWith(warmrunCache(env) + path.sep)) out.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
    return out;
}

/** Runs pulumi in the project with the terminal attached; resolves with its exit code. */
export function runPulumi(project: Project, env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: project.pulumiDir, env, stdio: "inherit" });
        child.on("error", reject);
        child.on("close", (code, signal) => resolve(signal ? 128 + (os.constants.signals[signal] ?? 1) : code ?? 1));
    });
}

/** Runs pulumi in the project and captures its output. */
export function pulumiOutput(project: Project, env: NodeJS.ProcessEnv, args: string[]): { code: number; stdout: string; stderr: string } {
    try {
        const stdout = execFileSync("pulumi", args, { cwd: project.pulumiDir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return { code: 0, stdout, stderr: "" };
    } catch (e: any) {
        return { code: typeof e.status === "number" ? e.status : 1, stdout: String(e.stdout ?? ""), stderr: String(e.stderr ?? e.message) };
    }
}
