// Finds the pinned Pulumi engine and runs it on a throwaway stack of the real program.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import YAML from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const SETUP = "`npm run setup` (scripts/install-engine.sh builds the engine)";

export function pinnedVersion(): string {
    const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
    return lock.packages["node_modules/@pulumi/pulumi"].version;
}

/** The directory holding pulumi and its Node.js language host; fails naming the setup command. */
export function engineDir(): { dir: string; ownBuild: boolean } {
    const version = pinnedVersion();
    const cache = process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
    const built = path.join(cache, "engine", `v${version}`, "bin");
    if (fs.existsSync(path.join(built, ".complete"))) return { dir: built, ownBuild: true };
    try {
        const pulumi = execFileSync("sh", ["-c", "command -v pulumi && command -v pulumi-language-nodejs >/dev/null"], { encoding: "utf8" }).trim();
        const have = execFileSync(pulumi, ["version"], { encoding: "utf8" }).trim();
        if (have === `v${version}`) return { dir: path.dirname(pulumi), ownBuild: false };
        throw new Error(`pulumi on PATH is ${have}, the project pins v${version}: run ${SETUP}`);
    } catch (e: any) {
        if (e.message?.startsWith("pulumi on PATH")) throw e;
        throw new Error(`the Pulumi engine v${version} is not installed: run ${SETUP}`);
    }
}

export interface PulumiRun {
    code: number;
    stdout: string;
    stderr: string;
}

export class EngineSession {
    readonly env: NodeJS.ProcessEnv;

    /** projectDir: the checkout the engine runs (default this one; team tests use copies). */
    constructor(readonly workDir: string, readonly stack: string, readonly configFile: string, extraEnv: NodeJS.ProcessEnv = {}, readonly projectDir: string = PROJECT_ROOT) {
        const { dir, ownBuild } = engineDir();
        this.env = {
            ...process.env,
            PATH: `${dir}:${process.env.PATH}`,
            PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_HOME: path.join(workDir, "pulumi-home"),
            ...(ownBuild ? { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } : {}),
            ...extraEnv,
        };
        fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
    }

    /**
     * Runs pulumi on this stack. `env` adds to (or overrides) the session's environment for this run;
     * `wrap` runs pulumi through another command (e.g. setpriv with fewer capabilities).
     */
    run(args: string[], opts: { allowFailure?: boolean; withConfig?: boolean; env?: NodeJS.ProcessEnv; wrap?: string[] } = {}): Promise<PulumiRun> {
        const full = [...args, "--stack", this.stack, "--cwd", this.projectDir, "--non-interactive"];
        if (opts.withConfig !== false) full.push("--config-file", this.configFile);
        const [command, ...commandArgs] = [...(opts.wrap ?? []), "pulumi", ...full];
        return new Promise((resolve, reject) => {
            execFile(command, commandArgs, { env: { ...this.env, ...(opts.env ?? {}) }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
                const code = err ? ((err as any).code as number) ?? 1 : 0;
                const result = { code, stdout, stderr };
                if (code !== 0 && !opts.allowFailure) {
                    reject(new Error(`pulumi ${args.join(" ")} failed (${code}):\n${stdout}\n${stderr}`));
                } else resolve(result);
            });
        });
    }

    /**
     * Creates the stack. `stack init` writes the stack's secrets salt to Pulumi.<stack>.yaml in the
     * project; it is moved into this session's config file so the checkout stays untouched.
     */
    async init(): Promise<void> {
        const projectFile = path.join(this.projectDir, `Pulumi.${this.stack}.yaml`);
        const existed = fs.existsSync(projectFile);
        await this.run(["stack", "init"], { withConfig: false });
        if (!existed && fs.existsSync(projectFile)) {
            const created = YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {};
            const ours = fs.existsSync(this.configFile) ? YAML.parse(fs.readFileSync(this.configFile, "utf8")) ?? {} : {};
            fs.writeFileSync(this.configFile, YAML.stringify({ ...created, ...ours }));
            fs.rmSync(projectFile);
        }
    }

    async outputs(): Promise<any> {
        const r = await this.run(["stack", "output", "--json", "--show-secrets"], { withConfig: false });
        return JSON.parse(r.stdout);
    }
}
