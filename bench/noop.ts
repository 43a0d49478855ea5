// Warm no-op: `pulumi preview` of the dev stack after an up, against `pulumi preview` of a stack
// with as many trivial resources on the same runtime. The ratio is warmrun's own overhead
// (hashing through the stat cache, one registry look-up per tag, loading its code).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { engineDir, PROJECT_ROOT } from "../test/support/engine";
import { BenchOptions, Figure, figure, medianTime, run, secs } from "./lib";

export class BenchStack {
    readonly env: NodeJS.ProcessEnv;
    readonly configFile: string;

    constructor(readonly projectDir: string, readonly stack: string, readonly work: string) {
        const { dir, ownBuild } = engineDir();
        this.configFile = path.join(work, `${stack}.yaml`);
        this.env = {
            ...process.env,
            PATH: `${dir}:${process.env.PATH}`,
            PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "bench-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_HOME: path.join(work, "pulumi-home"),
            WARMRUN_JOURNAL: path.join(work, "journal.jsonl"),
            ...(ownBuild ? { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } : {}),
        };
        fs.mkdirSync(path.join(work, "state"), { recursive: true });
    }

    pulumi(args: string[], withConfig = true) {
        const full = [...args, "--stack", this.stack, "--cwd", this.projectDir, "--non-interactive"];
        if (withConfig) full.push("--config-file", this.configFile);
        return run("pulumi", full, { env: this.env });
    }

    /** Creates the stack with the given config; the secrets salt stack init writes goes with it. */
    async init(config: Record<string, unknown>): Promise<void> {
        await this.pulumi(["stack", "init"], false);
        const projectFile = path.join(this.projectDir, `Pulumi.${this.stack}.yaml`);
        const created = fs.existsSync(projectFile) ? YAML.parse(fs.readFileSync(projectFile, "utf8")) ?? {} : {};
        fs.rmSync(projectFile, { force: true });
        fs.writeFileSync(this.configFile, YAML.stringify({ ...created, config }));
    }

    /** Custom resources and components the stack holds, the stack and providers not counted. */
    async counts(): Promise<{ resources: number; components: number }> {
        const state = JSON.parse((await this.pulumi(["stack", "export"], false)).stdout);
        const own = (state.deployment.resources ?? []).filter((r: any) => !r.type.startsWith("pulumi:"));
        const resources = own.filter((r: any) => r.custom).length;
        return { resources, components: own.length - resources };
    }
}

export async function noopBench(opts: BenchOptions): Promise<Figure[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-noop-"));
    try {
        const devConfig = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config;
        const dev = new BenchStack(PROJECT_ROOT, `bench-noop-${process.pid}`, path.join(work, "dev"));
        await dev.init(devConfig);
        opts.log("no-op: pulumi up of the dev stack (adopts what the local registry holds)");
        await dev.pulumi(["up", "--yes", "--skip-preview"]);
        const counts = await dev.counts();

        // The trivial project runs from a copy beside a link to the project's node_modules, where
        // the engine's dynamic-provider shim looks for @pulumi/pulumi.
        const trivialDir = path.join(work, "trivial-project");
        fs.cpSync(path.join(PROJECT_ROOT, "bench", "trivial"), trivialDir, { recursive: true });
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(trivialDir, "node_modules"));
        const trivial = new BenchStack(trivialDir, `bench-trivial-${process.pid}`, path.join(work, "trivial"));
        await trivial.init({ "trivial:components": counts.components, "trivial:resources": counts.resources });
        await trivial.pulumi(["up", "--yes", "--skip-preview"]);

        // One preview each first: the runtime's own caches (ts-node, plugins) warm for both.
        await dev.pulumi(["preview", "--expect-no-changes"]);
        await trivial.pulumi(["preview", "--expect-no-changes"]);
        const ours = await medianTime(opts.runs, () => dev.pulumi(["preview", "--expect-no-changes"]));
        const theirs = await medianTime(opts.runs, () => trivial.pulumi(["preview", "--expect-no-changes"]));
        const ratio = ours.seconds / theirs.seconds;
        return [
            figure({
                section: "no-op",
                name: `pulumi preview after up, ${counts.resources} resources + ${counts.components} components`,
                warmrun: `dev stack ${secs(ours.seconds)}`,
                baseline: `trivial stack ${secs(theirs.seconds)}`,
                ratio,
                target: "<= 1.15",
                note: "time ratio",
            }),
        ];
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
