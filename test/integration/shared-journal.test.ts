// The journal in the registry (components/report/sharedJournal.ts) on a real docker-registry:
// two runners' appends merged without duplicates, a push replaced by a rival's between the write
// and the read-back retried, a foreign tag refused, and `npm run stats -- --shared --push`.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { RegistryClient } from "../../components/oci/registry";
import { appendShared, Entry, journalTag, readShared } from "../../components/report/sharedJournal";
import { startRegistry, TestRegistry } from "../support/registry";
import { removeTempDirs, tempDir } from "../support/tmp";

const ROOT = path.resolve(__dirname, "..", "..");
const entry = (time: string, artifact: string, action: string, run: string, buildSeconds?: number): Entry => ({ time: `2026-11-01T${time}Z`, run, artifact, kind: "FileBundle", key: `k-${artifact}`, action, ...(buildSeconds ? { buildSeconds } : {}) });

describe("the journal shared through the registry", function () {
    this.timeout(120_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    const repo = "app/warmrun-journal";

    before(async () => {
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    const A = [entry("08:00:00", "base", "build", "a", 30), entry("08:00:05", "app", "build", "a", 10)];
    const B = [entry("08:00:05", "app", "build", "a", 10), entry("09:00:00", "base", "adopt", "b")];

    it("two runners append; the entries they share are kept once, in time order", async () => {
        assert.deepEqual(await readShared(client, repo, "ci"), { entries: [] });
        assert.deepEqual(await appendShared(client, repo, "ci", A, { settleMs: 10 }), { added: 2, attempts: 1, total: 2 });
        assert.deepEqual(await appendShared(client, repo, "ci", B, { settleMs: 10 }), { added: 1, attempts: 1, total: 3 });
        const { entries } = await readShared(client, repo, "ci");
        assert.deepEqual(entries, [A[0], A[1], B[1]]);
        assert.deepEqual((await appendShared(client, repo, "ci", A, { settleMs: 10 })).added, 0, "nothing new: nothing pushed");
        // One artifact per stack: another stack's journal is another tag.
        assert.deepEqual((await readShared(client, repo, "other")).entries, []);
        assert.ok((await client.listTags(repo)).includes(journalTag("ci")));
    });

    it("a rival's push between the write and the read-back: read again, merge, push again", async () => {
        const rival = [entry("10:00:00", "app", "adopt", "r")];
        const mine = [entry("10:00:01", "base", "build", "m", 5)];
        const r = await appendShared(client, repo, "race", mine, {
            settleMs: 10,
            // The rival read the journal before our push and pushes after it: ours is gone.
            afterWrite: async (attempt) => {
                if (attempt !== 1) return;
                await client.deleteManifest(repo, (await client.resolveTag(repo, journalTag("race")))!);
                await appendShared(client, repo, "race", rival, { settleMs: 10 });
            },
        });
        assert.equal(r.attempts, 2, "the first push was lost and retried");
        const ids = (await readShared(client, repo, "race")).entries.map((e) => `${e.run}:${e.artifact}`);
        assert.deepEqual(ids, ["r:app", "m:base"]);
    });

    it("refuses a tag that holds something else", async () => {
        await client.pushBlob("app/other", { digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2, data: Buffer.from("{}") });
        const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 }, layers: [] }));
        await client.putManifest("app/other", journalTag("ci"), "application/vnd.oci.image.manifest.v1+json", manifest);
        await assert.rejects(readShared(client, "app/other", "ci"), /app\/other:journal-ci is not a warmrun journal .*remove that tag/);
    });

    it("npm run stats -- --shared --push: this runner's entries appended, the stats of everyone's", async () => {
        const dir = tempDir("warmrun-shared-stats-");
        const file = path.join(dir, "journal.jsonl");
        fs.writeFileSync(file, [entry("11:00:00", "app", "build", "c", 20)].map((e) => JSON.stringify(e) + "\n").join(""));
        const out = execFileSync("npm", ["run", "--silent", "stats", "--", "--journal", file, "--shared", `${registry.host}/${repo}`, "--push", "--stack", "ci", "--format", "json"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const stats = JSON.parse(out);
        // A's two builds, B's adoption, this runner's build: 3 builds, 1 adoption, in 3 runs.
        assert.deepEqual([stats.total.runs, stats.total.builds, stats.total.adoptions, stats.total.buildSeconds], [3, 3, 1, 60]);
        assert.equal((stats.artifacts as any[]).find((a) => a.artifact === "base").timeSavedSeconds, 30);
        assert.equal((await readShared(client, repo, "ci")).entries.length, 4);
    });
});
