// End-to-end: an `up` killed in the middle of a create (the whole process group, as a CI job is
// killed) leaves a stale lock and a pending create; `npm run up` (scripts/up.sh) names both and the
// commands, `npm run up -- --recover` runs them and completes the up, and the next up changes nothing.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, spawn } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";

function upSh(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile("bash", [path.join(PROJECT_ROOT, "scripts/up.sh"), ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, stdout, stderr }));
    });
}

describe("npm run up after an interrupted up (real engine, killed mid-create)", function () {
    this.timeout(600_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let configFile: string;
    let env: NodeJS.ProcessEnv;
    /** The creates the killed run left pending, as its last checkpoint has them. */
    let pendingNames: string[] = [];

    before(async () => {
        engineDir();
        registry = await startRegistry();
        work = tempDir("warmrun-recover-");
        writeTree(work, { "inputs/docs/README.md": "# docs\n" });
        // A bundle whose create takes a while: 1 GiB (sparse, so cheap on disk) to tar and gzip.
        fs.mkdirSync(path.join(work, "inputs/big"), { recursive: true });
        fs.writeFileSync(path.join(work, "inputs/big/README"), "big\n");
        fs.truncateSync(path.join(work, "inputs/big/README"), 0);
        const fd = fs.openSync(path.join(work, "inputs/big/disk.img"), "w");
        fs.ftruncateSync(fd, 1 << 30);
        fs.closeSync(fd);
        configFile = path.join(work, "Pulumi.interrupted.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": `${registry.host}/recover`,
                    "warmrun:cacheDir": path.join(work, "cache"),
                    "warmrun:artifacts": { docs: { kind: "FileBundle", root: path.join(work, "inputs/docs") }, big: { kind: "FileBundle", root: path.join(work, "inputs/big") } },
                },
            }),
        );
        session = new EngineSession(work, "interrupted", configFile, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl") });
        await session.init();
        env = { ...session.env, WARMRUN_STACK: "interrupted" };
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("an up killed during the create of an artifact leaves a lock and a pending create", async () => {
        const checkpoint = path.join(work, "state", ".pulumi", "stacks", "warmrun", "interrupted.json");
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", "interrupted", "--cwd", PROJECT_ROOT, "--non-interactive", "--config-file", configFile], { env: session.env, detached: true, stdio: "ignore" });
        const started = Date.now();
        let pending = false;
        while (Date.now() - started < 240_000 && child.exitCode === null) {
            const text = fs.existsSync(checkpoint) ? fs.readFileSync(checkpoint, "utf8") : "";
            if (/"pending_operations"[\s\S]*"creating"/.test(text)) {
                pending = true;
                break;
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        process.kill(-child.pid!, "SIGKILL");
        await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r)));
        assert.ok(pending, "a create was under way when the run was killed");
        const last = JSON.parse(fs.readFileSync(checkpoint, "utf8"));
        pendingNames = (last.checkpoint.latest.pending_operations as any[]).filter((o) => o.type === "creating").map((o) => o.resource.urn.split("::").pop()).sort();
        assert.ok(pendingNames.length > 0);
        const locks = path.join(work, "state", ".pulumi", "locks");
        const lockFiles = (function walk(d: string): string[] {
            return fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : [];
        })(locks).filter((f) => f.endsWith(".json"));
        assert.equal(lockFiles.length, 1, `the killed run's lock is left behind: ${lockFiles}`);
        const plain = await session.run(["up", "--yes"], { allowFailure: true });
        assert.notEqual(plain.code, 0);
        assert.match(plain.stdout + plain.stderr, /currently locked/, "a plain pulumi up refuses");
    });

    it("npm run up names the stale lock, the pending create and the exact commands, and changes nothing", async () => {
        const r = await upSh(["--config-file", configFile], env);
        assert.equal(r.code, 5, r.stdout + r.stderr);
        assert.match(r.stderr, /the last `pulumi up` of stack interrupted was interrupted:/);
        assert.match(r.stderr, /its lock \S+\.json \(pid \d+, .*\) is stale: no such process runs on this machine/);
        assert.match(r.stderr, new RegExp(`creates? never finished: (${pendingNames.join("|")})(, (${pendingNames.join("|")}))* \\(a tag is pushed last`));
        assert.match(r.stderr, /\n  pulumi cancel --stack interrupted --yes\n  pulumi refresh --stack interrupted --clear-pending-creates --yes --skip-preview --config-file \S+\n/);
        assert.match(r.stderr, /npm run up -- --recover/);
    });

    it("npm run up -- --recover recovers and completes the up; the next up changes nothing", async () => {
        const r = await upSh(["--recover", "--config-file", configFile], env);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stderr, /recovering stack interrupted from an interrupted up \(stale lock; pending creates: /);
        const out = (await session.outputs()).outputs;
        const client = new RegistryClient({ host: registry.host, insecure: true });
        for (const name of ["docs", "big"]) assert.equal(await client.resolveTag(`recover/${name}`, out[name].ref.split(":").pop()), out[name].digest, `${name} published`);
        await session.run(["up", "--yes", "--expect-no-changes"]);
    });
});
