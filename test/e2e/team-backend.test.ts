// End-to-end: a team's setup on one machine. Two checkouts of the project in two directories, one
// Pulumi state in a bucket of a real S3-compatible server (versitygw), one registry. Both `pulumi
// up` the same stack at once: Pulumi's lock lets one update through and refuses the other, which a
// runner retries; both end on one consistent state, and that state matches the registry.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { EngineSession, engineDir, PulumiRun } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { assertWhole, copyProject, skopeoDigest, startS3, TestS3 } from "../support/team";
import { readJournal } from "../../components/core/journal";
import { RegistryClient } from "../../components/oci/registry";
import { ARTIFACT_TYPE_PREFIX } from "../../components/report/cacheReport";
import { isLeaseTag } from "../../components/core/lease";

/** Pulumi's own words when a diy (file, S3, ...) backend's stack is locked by another update. */
const LOCKED = /error: the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\.\n {2}s3:\/\/team-state\/\.pulumi\/locks\/organization\/warmrun\/team\/[0-9a-f-]+\.json\?\S+: created by \S+@\S+ \(pid \d+\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

interface Runner {
    name: string;
    session: EngineSession;
    journal: string;
    attempts: PulumiRun[];
}

describe("team setup: two checkouts, one S3 backend, one registry (real engine, real S3 server)", function () {
    this.timeout(600_000);
    let registry: TestRegistry;
    let s3: TestS3;
    let client: RegistryClient;
    const runners: Runner[] = [];

    before(async () => {
        engineDir();
        registry = await startRegistry();
        s3 = await startS3("team-state");
        client = new RegistryClient({ host: registry.host, insecure: true });
        const config = {
            config: {
                "warmrun:registry": `${registry.host}/team`,
                // Relative to each checkout: the keys must not depend on where a checkout lives.
                "warmrun:artifacts": {
                    base: { kind: "FileBundle", root: "inputs/base" },
                    app: { kind: "FileBundle", root: "inputs/app", upstream: ["base"] },
                    docs: { kind: "FileBundle", root: "inputs/docs" },
                },
            },
        };
        for (const [name, url] of [["a", s3.legacyUrl], ["b", s3.url]] as const) {
            const checkout = copyProject(`warmrun-checkout-${name}-`);
            writeTree(checkout, {
                "inputs/base/os-release": "ID=debian\nVERSION_ID=13\n",
                "inputs/app/run.sh": { content: "#!/bin/sh\nexec make test\n", mode: 0o755 },
                "inputs/docs/README.md": "# team docs\n",
            });
            const work = tempDir(`warmrun-runner-${name}-`);
            const configFile = path.join(work, "Pulumi.team.yaml");
            fs.writeFileSync(configFile, YAML.stringify(config));
            const journal = path.join(work, "journal.jsonl");
            // Runner a names the bucket in the older URL form, b in the current one: the same state.
            const session = new EngineSession(work, "team", configFile, { PULUMI_BACKEND_URL: url, ...s3.env, WARMRUN_JOURNAL: journal }, checkout);
            runners.push({ name, session, journal, attempts: [] });
        }
        await runners[0].session.init();
        // The stack's secrets salt lives in its config file, which a team commits: b gets a's.
        fs.copyFileSync(runners[0].session.configFile, runners[1].session.configFile);
    });
    after(async () => {
        await s3?.stop();
        await registry?.stop();
        removeTempDirs();
    });

    /** What a CI job does with a diy backend: run the update, and when the stack is locked, wait and try again. */
    async function upUntilUnlocked(r: Runner): Promise<PulumiRun> {
        for (let i = 0; i < 10; i++) {
            const run = await r.session.run(["up", "--yes", "--skip-preview"], { allowFailure: true });
            r.attempts.push(run);
            if (run.code === 0) return run;
            assert.match(run.stdout + run.stderr, LOCKED, `runner ${r.name} failed for another reason than the lock:\n${run.stdout}\n${run.stderr}`);
            await new Promise((res) => setTimeout(res, 1000 + Math.random() * 3000));
        }
        throw new Error(`runner ${r.name} never got the lock`);
    }

    it("both up the same stack at once: one update at a time, the other is refused with Pulumi's lock message and succeeds on retry", async () => {
        const started = Date.now();
        const settled = await Promise.allSettled(runners.map(upUntilUnlocked));
        for (const s of settled) if (s.status === "rejected") throw s.reason;
        const refused = runners.flatMap((r) => r.attempts.filter((a) => a.code !== 0));
        assert.ok(refused.length >= 1, "at least one up met the other's lock");
        console.log(`      both ups done in ${((Date.now() - started) / 1000).toFixed(1)} s; refused attempts: ${refused.length}; first refusal:\n${(refused[0].stdout + refused[0].stderr).split("\n").filter((l) => /locked|created by/.test(l)).map((l) => "        " + l.trim()).join("\n")}`);

        const history = JSON.parse((await runners[0].session.run(["stack", "history", "--json"], { withConfig: false })).stdout) as any[];
        const updates = history.filter((h) => h.kind === "update").sort((x, y) => Date.parse(x.startTime) - Date.parse(y.startTime));
        assert.equal(updates.length, 2, "two updates recorded; a refused up records none");
        assert.ok(updates.every((u) => u.result === "succeeded"));
        assert.ok(Date.parse(updates[0].endTime) <= Date.parse(updates[1].startTime), `updates do not overlap: ${JSON.stringify(updates.map((u) => [u.startTime, u.endTime]))}`);

        // Each artifact built exactly once over both runners: the second update found the first's state.
        const builds = runners.flatMap((r) => readJournal(r.journal)).filter((e) => e.action === "build").map((e) => e.artifact).sort();
        assert.deepEqual(builds, ["app", "base", "docs"]);
        const locks = path.join(s3.bucketDir, ".pulumi", "locks");
        const left = fs.existsSync(locks) ? fs.readdirSync(locks, { recursive: true }).map(String).filter((f) => f.endsWith(".json")) : [];
        assert.deepEqual(left, [], "no lock left in the bucket");
        assert.ok(fs.existsSync(path.join(s3.bucketDir, ".pulumi", "stacks", "warmrun", "team.json")), "the state is an object in the bucket");
    });

    it("both checkouts see one consistent state: stack export is the same from either, and neither has changes left", async () => {
        const exports = await Promise.all(runners.map(async (r) => JSON.parse((await r.session.run(["stack", "export"], { withConfig: false })).stdout)));
        assert.deepEqual(exports[0].deployment.resources, exports[1].deployment.resources);
        // A preview takes no lock, so both checkouts ask at once.
        await Promise.all(runners.map((r) => r.session.run(["preview", "--expect-no-changes"])));
    });

    it("the exported state matches the registry: each artifact's tag resolves, through skopeo, to the recorded digest, and every manifest is whole", async () => {
        const exported = JSON.parse((await runners[1].session.run(["stack", "export"], { withConfig: false })).stdout);
        const artifacts = (exported.deployment.resources as any[]).filter((r) => String(r.type).startsWith(ARTIFACT_TYPE_PREFIX));
        assert.deepEqual(artifacts.map((a) => a.outputs.name).sort(), ["app", "base", "docs"]);
        for (const a of artifacts) {
            const { repository, tag, digest } = a.outputs;
            assert.match(digest, /^sha256:[0-9a-f]{64}$/);
            assert.equal(skopeoDigest(registry.host, repository, tag), digest, `${repository}:${tag}`);
            const tags = await client.listTags(repository);
            assert.deepEqual(tags.filter(isLeaseTag), [], `no lease left in ${repository}`);
            for (const t of tags) await assertWhole(client, repository, t);
        }
    });
});
