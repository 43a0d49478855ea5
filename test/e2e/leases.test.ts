// End-to-end: two stacks (two branches' runners) miss the same key at once, with a build made slow
// on purpose (a BaseImage whose RUN sleeps, built by buildah). Exactly one builds; the other waits
// on the lease and adopts the pushed digest. Then the holder's `pulumi` is killed mid-build
// (SIGKILL): its dynamic provider leaves by itself, its lease expires and the other runner takes
// over and builds.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ChildProcess, spawn } from "child_process";
import { randomUUID } from "crypto";
import YAML from "yaml";
import { EngineSession, engineDir } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { assertWhole, skopeoDigest } from "../support/team";
import { requireTools } from "../support/tools";
import { readJournal } from "../../components/core/journal";
import { RegistryClient } from "../../components/oci/registry";
import { isLeaseTag, leaseTag, readLease } from "../../components/core/lease";

/** Longer than the first test's lease, so that only renewals keep the other runner waiting. */
const SLEEP_SECONDS = 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** state, ppid and pgid of a process from /proc (comm may hold spaces: read after the last ')'). */
function procStat(pid: number | string): { state: string; ppid: number; pgid: number } | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { state, ppid: Number(ppid), pgid: Number(pgid) };
    } catch {
        return undefined; // gone
    }
}

/** The command line of a process ("" once it is gone). */
function cmdline(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
        return "";
    }
}

/** A process and all its descendants. */
function processTree(root: number): number[] {
    const parent = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
        const st = /^\d+$/.test(entry) ? procStat(entry) : undefined;
        if (st) parent.set(Number(entry), st.ppid);
    }
    const tree = [root];
    for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
    return tree;
}

const alive = (pid: number) => {
    const st = procStat(pid);
    return st !== undefined && st.state !== "Z";
};

interface Runner {
    name: string;
    session: EngineSession;
    journal: string;
}

describe("leases: one build per key across runners (real engine, real registry, buildah)", function () {
    this.timeout(900_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let context: string;
    const repository = "leases/slow";
    const runners: Runner[] = [];

    /** Both stacks' config: the same artifact (same key) with this nonce in its build args. */
    function configure(nonce: string, leaseSeconds: number): void {
        for (const r of runners) {
            const file = r.session.configFile;
            const current = fs.existsSync(file) ? YAML.parse(fs.readFileSync(file, "utf8")) : {};
            current.config = {
                "warmrun:registry": `${registry.host}/leases`,
                "warmrun:builder": "buildah",
                "warmrun:cacheDir": path.join(path.dirname(file), "cache"),
                "warmrun:leaseSeconds": leaseSeconds,
                "warmrun:artifacts": { slow: { kind: "BaseImage", containerfile: path.join(context, "Containerfile"), buildArgs: { NONCE: nonce } } },
            };
            fs.writeFileSync(file, YAML.stringify(current));
        }
    }
    const marker = (nonce: string) => `warmrun-slow-build-start ${nonce}`;
    /** Lines of a run's streamed log that end with the needle (the log before the engine repeats it under Diagnostics). */
    const count = (text: string, needle: string) => text.split("\nDiagnostics:")[0].split("\n").filter((l) => l.trimEnd().endsWith(needle)).length;
    const entriesOf = (r: Runner, nonce: string) => readJournal(r.journal).filter((e) => e.artifact === "slow" && e.key && seenKeys.get(nonce) === e.key);
    const seenKeys = new Map<string, string>();

    /** `pulumi up` in a process group of its own, its log readable while it runs. */
    function spawnUp(runner: Runner) {
        const { session } = runner;
        const proc: ChildProcess = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", session.stack, "--cwd", session.projectDir, "--non-interactive", "--config-file", session.configFile], {
            env: session.env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let text = "";
        proc.stdout!.on("data", (d) => (text += d));
        proc.stderr!.on("data", (d) => (text += d));
        const exited = new Promise<number | null>((resolve) => proc.on("exit", (code, signal) => resolve(signal ? null : code)));
        return { runner, proc, exited, log: () => text };
    }

    async function until<T>(probe: () => T | undefined, ms: number, context: () => string): Promise<T> {
        for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
            const v = probe();
            if (v !== undefined) return v;
        }
        throw new Error(`timed out; logs so far:\n${context()}`);
    }

    /** The key's tag holds a whole image, no lease is left, and skopeo agrees with the stack's digest. */
    async function assertPublished(tag: string, digest: string): Promise<void> {
        assert.equal(skopeoDigest(registry.host, repository, tag), digest);
        const tags = await client.listTags(repository);
        assert.deepEqual(tags.filter(isLeaseTag), [], "no lease tag left");
        for (const t of tags) await assertWhole(client, repository, t);
    }

    before(async () => {
        engineDir();
        requireTools(["buildah", "skopeo"]);
        if (!fs.existsSync("/bin/busybox")) throw new Error("busybox-static is not installed: run `npm run setup`");
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        context = tempDir("warmrun-slow-");
        writeTree(context, {
            Containerfile: [
                "FROM scratch",
                "COPY busybox /bin/busybox",
                "ARG NONCE",
                `RUN ["/bin/busybox", "sh", "-c", "echo warmrun-slow-build-start $NONCE; /bin/busybox sleep ${SLEEP_SECONDS}; echo warmrun-slow-build-done"]`,
                "",
            ].join("\n"),
            ".dockerignore": "Containerfile\n",
        });
        fs.copyFileSync("/bin/busybox", path.join(context, "busybox"));
        for (const name of ["main", "feature"]) {
            const work = tempDir(`warmrun-lease-${name}-`);
            const journal = path.join(work, "journal.jsonl");
            runners.push({ name, journal, session: new EngineSession(work, `lease-${name}`, path.join(work, `Pulumi.lease-${name}.yaml`), { WARMRUN_JOURNAL: journal }) });
        }
        configure("init", 60);
        await Promise.all(runners.map((r) => r.session.init()));
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("two stacks miss the same key at once: exactly one builds, the other waits for it and adopts the pushed digest", async () => {
        const nonce = randomUUID();
        // A lease shorter than the build: the holder's renewals are what keep the other waiting.
        configure(nonce, 4);
        const started = Date.now();
        const runs = await Promise.all(runners.map((r) => r.session.run(["up", "--yes", "--skip-preview"])));
        console.log(`      both ups done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const outs = await Promise.all(runners.map(async (r) => (await r.session.outputs()).outputs.slow));
        seenKeys.set(nonce, outs[0].key);
        assert.equal(outs[0].key, outs[1].key, "one key");
        assert.equal(outs[0].digest, outs[1].digest, "one digest");

        const builder = outs.findIndex((o) => o.cacheHit === false);
        const waiter = 1 - builder;
        assert.ok(builder >= 0 && outs[waiter].cacheHit === true, `one built, one adopted: ${outs.map((o) => o.cacheHit)}`);
        const built = entriesOf(runners[builder], nonce);
        const adopted = entriesOf(runners[waiter], nonce);
        assert.deepEqual(built.map((e) => e.action), ["build"]);
        assert.deepEqual(adopted.map((e) => e.action), ["adopt"]);
        assert.match(adopted[0].waitedFor ?? "", / pid \d+ run [0-9a-f]{16}$/, "the journal says whom it waited for");
        assert.equal(adopted[0].digest, built[0].digest);

        const logs = runs.map((r) => r.stdout + r.stderr);
        assert.equal(count(logs[builder], marker(nonce)), 1, "the builder's RUN step ran once in its log");
        assert.equal(count(logs[waiter], marker(nonce)), 0, "and never in the waiter's");
        assert.match(logs[waiter], /slow: waiting for \S+ pid \d+ run [0-9a-f-]+, which is building \S+\/leases\/slow:[0-9a-f]{24}/);
        assert.match(logs[waiter], /appeared after \d+ s of waiting for .*; adopting it/);
        await assertPublished(outs[0].ref.split(":").pop(), outs[0].digest);
    });

    it("a holder killed mid-build leaves a lease that expires; the other runner takes over and builds", async () => {
        const nonce = randomUUID();
        const leaseSeconds = 4;
        configure(nonce, leaseSeconds);
        const ups = runners.map(spawnUp);
        // Whoever takes the lease is the holder; once the other waits on it and the holder's RUN step
        // is under way, the holder dies.
        const took = /slow: took the lease on /;
        const waits = /slow: waiting for /;
        const ready = await until(() => {
            const h = ups.findIndex((u) => took.test(u.log()));
            return h >= 0 && waits.test(ups[1 - h].log()) && ups[h].log().includes(marker(nonce)) ? h : undefined;
        }, 300_000, () => ups.map((u) => u.log()).join("\n-----\n"));
        const [holder, other] = [ups[ready], ups[1 - ready]];
        const tag = /slow: took the lease on \S+:([0-9a-f]{24}) /.exec(holder.log())![1];
        const lease = (await readLease(client, repository, tag))!;
        assert.match(lease.holder, / pid \d+ run [0-9a-f]{16}$/);
        assert.equal(await client.resolveTag(repository, tag), undefined, "the holder had not pushed");
        // Only the engine dies (SIGKILL of the pulumi CLI): the dynamic provider it started, which holds
        // the lease and runs the build, must leave by itself instead of renewing (or spinning) on.
        const tree = processTree(holder.proc.pid!);
        const provider = tree.find((p) => /@pulumi\/pulumi\/cmd\/dynamic-provider/.test(cmdline(p)));
        assert.ok(provider, `the holder's dynamic provider is among ${tree.map((p) => `${p}: ${cmdline(p)}`).join("; ")}`);
        process.kill(holder.proc.pid!, "SIGKILL");
        assert.equal(await holder.exited, null, "killed");
        const killedAt = Date.now();
        await until(() => (alive(provider) ? undefined : true), 10_000, () => `the provider ${provider} still runs ${((Date.now() - killedAt) / 1000).toFixed(1)} s after its engine died`);
        console.log(`      the orphaned provider left ${Date.now() - killedAt} ms after the engine was killed`);
        // The rest of the holder's tree (language host, program, buildah) goes as a cancelled CI job's
        // would: each process group the engine started is killed.
        const groups = [...new Set(tree.filter(alive).map((p) => procStat(p)?.pgid).filter((g): g is number => g !== undefined))];
        for (const g of groups) {
            try {
                process.kill(-g, "SIGKILL");
            } catch {
                /* that group ended meanwhile */
            }
        }
        await sleep(500);
        assert.deepEqual(tree.filter(alive), [], "nothing of the holder survives");

        assert.equal(await other.exited, 0, `the other runner's up succeeds:\n${other.log()}`);
        const log = other.log();
        const out = (await other.runner.session.outputs()).outputs.slow;
        seenKeys.set(nonce, out.key);
        assert.equal(out.ref.split(":").pop(), tag);
        assert.equal(out.cacheHit, false, "it built");
        const entries = entriesOf(other.runner, nonce);
        assert.deepEqual(entries.map((e) => e.action), ["build"]);
        assert.equal(entries[0].waitedFor, lease.holder, "the journal names the dead holder");
        assert.ok(log.includes(`slow: waiting for ${lease.holder}, which is building`));
        assert.ok(log.includes(`slow: the lease of ${lease.holder} on ${out.ref} expired at `) && log.includes("; taking it over"), log);
        assert.equal(count(log, marker(nonce)), 1, "its own RUN step ran");
        assert.equal(entriesOf(holder.runner, nonce).length, 0, "the killed holder recorded nothing");
        console.log(`      took over and built in ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (lease ${leaseSeconds} s, build ${SLEEP_SECONDS} s)`);
        await assertPublished(tag, out.digest);
        assert.equal(await client.resolveTag(repository, leaseTag(tag)), undefined);
    });
});
