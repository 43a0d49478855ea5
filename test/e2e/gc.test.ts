// End-to-end retention: the real engine, two stacks sharing one artifact repository on the
// project's own local registry (scripts/registry.sh, data in a throwaway cache): five builds of
// an artifact, stack gca at the fifth key and gcb at the second; `npm run gc -- --keep 2` keeps
// exactly those and the newest two, deletes the rest; both stacks stay unchanged, every kept key
// still pulls, and `registry.sh gc` frees the deleted blobs on disk.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import { randomBytes } from "crypto";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { freePort } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(command, args, { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, stdout, stderr }));
    });
}

const du = (dir: string) => Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);

describe("npm run gc on two stacks (real engine, scripts/registry.sh registry)", function () {
    this.timeout(900_000);
    let work: string;
    let cache: string;
    let port: number;
    let host: string;
    let client: RegistryClient;
    const sessions: Record<string, EngineSession> = {};
    /** The key tag and digest of each build, in order. */
    const builds: { tag: string; digest: string }[] = [];
    let env: NodeJS.ProcessEnv;
    let reclaimable = 0;

    const registrySh = (args: string[]) => run("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), ...args, String(port)], env);
    const gc = (args: string[]) => run("npm", ["run", "--silent", "gc", "--", "--stack", "gca,gcb", "--journal", path.join(work, "journal.jsonl"), "--seen-file", path.join(work, "gc-seen.json"), ...args], env);

    function stack(name: string): EngineSession {
        const configFile = path.join(work, `Pulumi.${name}.yaml`);
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": `${host}/e2e`,
                    "warmrun:cacheDir": path.join(work, `cache-${name}`),
                    // No `latest` alias, whatever branch the checkout is on: the test counts key tags.
                    "warmrun:latestBranch": "",
                    "warmrun:artifacts": { notes: { kind: "FileBundle", root: path.join(work, `inputs-${name}`) } },
                },
            }),
        );
        return new EngineSession(work, name, configFile, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl") });
    }

    /** Build `n`'s inputs: a note and 256 KiB that do not compress, the same for every stack. */
    function inputs(name: string, n: number): void {
        const dir = path.join(work, `inputs-${name}`);
        fs.rmSync(dir, { recursive: true, force: true });
        writeTree(dir, { "notes.txt": `build ${n}\n` });
        const blob = path.join(work, `blob-${n}.bin`);
        if (!fs.existsSync(blob)) fs.writeFileSync(blob, randomBytes(256 << 10));
        fs.copyFileSync(blob, path.join(dir, "blob.bin"));
    }

    before(async () => {
        engineDir();
        work = tempDir("warmrun-gc-e2e-");
        cache = path.join(work, "warmrun-cache");
        port = await freePort();
        host = `127.0.0.1:${port}`;
        env = { ...process.env, WARMRUN_CACHE: cache };
        const started = await registrySh(["start"]);
        assert.equal(started.code, 0, started.stderr);
        client = new RegistryClient({ host, insecure: true });
        for (const name of ["gca", "gcb"]) {
            sessions[name] = stack(name);
            await sessions[name].init();
        }
        // The engine and backend of the sessions, for `npm run gc`'s own `pulumi stack export`.
        env = { ...sessions.gca.env, WARMRUN_CACHE: cache };
    });
    after(async () => {
        if (port) await registrySh(["stop"]);
        removeTempDirs();
    });

    it("five builds of the artifact on stack gca; stack gcb adopts the second key", async () => {
        for (let n = 1; n <= 5; n++) {
            inputs("gca", n);
            await sessions.gca.run(["up", "--yes", "--skip-preview"]);
            const out = (await sessions.gca.outputs()).outputs.notes;
            builds.push({ tag: out.ref.split(":").pop(), digest: out.digest });
            assert.equal(out.cacheHit, false, `build ${n} built`);
        }
        inputs("gcb", 2);
        await sessions.gcb.run(["up", "--yes", "--skip-preview"]);
        const b = (await sessions.gcb.outputs()).outputs.notes;
        assert.deepEqual([b.cacheHit, b.digest], [true, builds[1].digest], "gcb adopted the second key");
        assert.equal(new Set(builds.map((b) => b.tag)).size, 5);
        assert.equal((await client.listTags("e2e/notes")).length, 5);
    });

    it("the dry run with the default grace keeps everything: gc has seen every tag for less than 24 h", async () => {
        const r = await gc(["--keep", "2", "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const plan = JSON.parse(r.stdout).plans[0];
        assert.equal(plan.keep.length, 5);
        assert.ok(plan.keep.every((d: any) => d.reasons.includes("first seen by this gc run: kept for the grace period (24 h)")));
        assert.deepEqual(plan.delete, []);
    });

    it("gc --keep 2 --grace 0 dry run lists exactly the expected keeps and deletes", async () => {
        const r = await gc(["--keep", "2", "--grace", "0", "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.deepEqual(out.stacks, ["gca", "gcb"]);
        assert.equal(out.dryRun, true);
        const plan = out.plans[0];
        assert.equal(plan.repository, "e2e/notes");
        const why = Object.fromEntries(plan.keep.map((d: any) => [d.tags.join(","), d.reasons]));
        assert.deepEqual(why, {
            [builds[4].tag]: ["pinned by the state of stack gca", `tag ${builds[4].tag} is in the state of stack gca`, "one of the newest 2 keys"],
            [builds[3].tag]: ["one of the newest 2 keys"],
            [builds[1].tag]: ["pinned by the state of stack gcb", `tag ${builds[1].tag} is in the state of stack gcb`],
        });
        assert.deepEqual(plan.delete.map((d: any) => d.tags.join(",")).sort(), [builds[0].tag, builds[2].tag].sort());
        reclaimable = plan.reclaimableBytes;
        assert.ok(reclaimable > 2 * (256 << 10), `two 256 KiB layers and more: ${reclaimable}`);
        const text = await gc(["--keep", "2", "--grace", "0"]);
        console.log(text.stdout.replace(/^/gm, "      "));
        assert.equal((await client.listTags("e2e/notes")).length, 5, "nothing deleted by a dry run");
    });

    it("--yes deletes them; both stacks still `up --expect-no-changes`, and every kept key pulls", async () => {
        const r = await gc(["--keep", "2", "--grace", "0", "--yes"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /deleted 2 manifests/);
        assert.deepEqual((await client.listTags("e2e/notes")).sort(), [builds[1].tag, builds[3].tag, builds[4].tag].sort());
        for (const name of ["gca", "gcb"]) await sessions[name].run(["up", "--yes", "--expect-no-changes"]);
        for (const b of [builds[1], builds[3], builds[4]]) {
            const dir = path.join(work, `pulled-${b.tag}`);
            execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${host}/e2e/notes@${b.digest}`, `dir:${dir}`], { stdio: "ignore" });
            assert.ok(fs.readdirSync(dir).includes("manifest.json"), `${b.tag} pulls`);
        }
    });

    it("registry.sh gc frees the deleted blobs on disk (du before and after) and the registry serves again", async () => {
        const data = path.join(cache, "registry", "data");
        const before = du(data);
        const r = await registrySh(["gc"]);
        assert.equal(r.code, 0, r.stderr);
        const after = du(data);
        console.log(`      du -sb of the registry data: ${before} -> ${after} bytes (freed ${before - after}); gc said ${reclaimable} reclaimable; registry.sh: ${r.stdout.trim()}`);
        assert.match(r.stdout, new RegExp(`^freed ${before - after} bytes on disk \\(${before} -> ${after} bytes in `));
        assert.ok(before - after >= reclaimable, `freed ${before - after} of ${reclaimable} reclaimable bytes`);
        for (const b of [builds[1], builds[3], builds[4]]) assert.equal(await client.resolveTag("e2e/notes", b.tag), b.digest);
        for (const name of ["gca", "gcb"]) await sessions[name].run(["up", "--yes", "--expect-no-changes"]);
    });
});
