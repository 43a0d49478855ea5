// Leases against a real registry (Debian's docker-registry on a free port): take, wait, adopt,
// expire and take over, renew, release, and two racing takers of one key; then createArtifact's
// hook: two concurrent creates of one key build once.
import { strict as assert } from "assert";
import * as path from "path";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { digestOf, MEDIA } from "../../components/oci/manifest";
import { EMPTY_CONFIG, pushArtifact } from "../../components/oci/push";
import { ArtifactInputs, Builder, createArtifact, LifecycleDeps } from "../../components/core/lifecycle";
import { build as buildBundle } from "../../components/kinds/fileBundle/build";
import { BUNDLE_KIND } from "../../components/kinds/fileBundle/fields";
import { bundleKeyMaterial } from "../../components/kinds/fileBundle/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";
import { readJournal } from "../../components/core/journal";
import { leaseOrWait, LeaseOptions, leaseTag, newLease, readLease, writeLease, LEASE_ARTIFACT_TYPE } from "../../components/core/lease";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every blob a manifest names is in the registry: no partial artifact. */
async function assertComplete(client: RegistryClient, repo: string, reference: string): Promise<void> {
    const m = await client.getManifest(repo, reference);
    assert.ok(m, `${repo}:${reference} has a manifest`);
    assert.equal(m.json.mediaType, MEDIA.ociManifest);
    for (const d of [m.json.config, ...m.json.layers]) assert.ok(await client.blobExists(repo, d.digest), `${repo}:${reference} blob ${d.digest} present`);
}

describe("leases against a real registry", function () {
    this.timeout(120_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let n = 0;
    const repo = "lease-test/thing";
    const fresh = () => {
        const key = `${String(++n).padStart(2, "0")}${"ab".repeat(31)}`;
        return { key, tag: shortKey(key) };
    };
    const options = (tag: string, key: string, holder: string, lines: string[], extra: Partial<LeaseOptions> = {}): LeaseOptions => ({
        client,
        name: "thing",
        repository: repo,
        tag,
        key,
        seconds: 30,
        holder,
        ref: `${repo}:${tag}`,
        log: (m) => lines.push(m),
        settleMs: 200,
        ...extra,
    });
    /** Pushes a small complete artifact under the tag, as a finished build would. */
    const pushThing = (tag: string): Promise<string> =>
        pushArtifact(client, { repository: repo, tag, artifactType: "application/vnd.example.thing", config: { mediaType: MEDIA.ociEmpty, data: EMPTY_CONFIG }, layers: [{ mediaType: MEDIA.ociEmpty, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length, data: EMPTY_CONFIG }], annotations: { built: tag } });
    /** The lifecycle's dependencies with one builder, for FileBundle. */
    const withBuilder = (build: Builder, log?: (m: string) => void): LifecycleDeps => ({ kinds: (kind) => (kind === BUNDLE_KIND ? { build } : undefined), ...(log ? { log } : {}) });

    before(async () => {
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("a lease is a valid manifest with its blobs under lease-<tag>, and release removes it", async () => {
        const { key, tag } = fresh();
        const lines: string[] = [];
        const out = await leaseOrWait(options(tag, key, "runner-a", lines));
        assert.ok(out.held && !out.adopted && !out.waitedFor);
        await assertComplete(client, repo, leaseTag(tag));
        const lease = await readLease(client, repo, tag);
        assert.equal(lease?.holder, "runner-a");
        assert.equal(lease?.key, key);
        assert.equal((await client.getManifest(repo, leaseTag(tag)))!.json.artifactType, LEASE_ARTIFACT_TYPE);
        assert.ok(lease!.expires.getTime() > Date.now() + 25_000);
        await out.held.release();
        assert.equal(await client.resolveTag(repo, leaseTag(tag)), undefined, "lease tag gone");
        assert.ok(!(await client.listTags(repo)).includes(leaseTag(tag)));
        assert.match(lines.join("\n"), /took the lease on/);
    });

    it("a second runner waits while the lease is live, then adopts the tag when it appears", async () => {
        const { key, tag } = fresh();
        const a = await leaseOrWait(options(tag, key, "runner-a", []));
        assert.ok(a.held);
        const lines: string[] = [];
        const waiting = leaseOrWait(options(tag, key, "runner-b", lines));
        await sleep(2500);
        const digest = await pushThing(tag);
        await a.held.release();
        const b = await waiting;
        assert.equal(b.adopted, digest);
        assert.equal(b.held, undefined);
        assert.equal(b.waitedFor, "runner-a");
        assert.match(lines[0], /thing: waiting for runner-a, which is building lease-test\/thing:\S+ \(its lease ends in \d+ s unless renewed\)/);
        assert.match(lines.join("\n"), /appeared after \d+ s of waiting for runner-a; adopting it/);
    });

    it("an expired lease is taken over; a holder that gives up without pushing hands over at once", async () => {
        const { key, tag } = fresh();
        await writeLease(client, repo, tag, newLease(key, "dead-runner", 1, new Date(Date.now() - 5000)));
        const lines: string[] = [];
        const b = await leaseOrWait(options(tag, key, "runner-b", lines));
        assert.ok(b.held);
        assert.match(lines[0], /the lease of dead-runner on \S+ expired at .*; taking it over/);
        assert.equal((await readLease(client, repo, tag))?.holder, "runner-b");

        const cLines: string[] = [];
        const c = leaseOrWait(options(tag, key, "runner-c", cLines));
        await sleep(1500);
        await b.held!.release(); // b's build failed: no tag, lease removed
        const got = await c;
        assert.ok(got.held, "c builds");
        assert.equal(got.waitedFor, "runner-b");
        assert.match(cLines.join("\n"), /runner-b gave up its lease on \S+ without pushing it/);
        await got.held!.release();
    });

    it("a holder renews its lease while it builds, so a build longer than the lease keeps it", async () => {
        const { key, tag } = fresh();
        const a = await leaseOrWait(options(tag, key, "runner-a", [], { seconds: 3 }));
        const first = (await readLease(client, repo, tag))!;
        await sleep(4500);
        const later = (await readLease(client, repo, tag))!;
        assert.equal(later.token, first.token, "the same take");
        assert.ok(later.expires.getTime() > Date.now(), "still live after longer than its lifetime");
        assert.ok(later.expires.getTime() > first.expires.getTime(), "expiry moved on");
        assert.equal(await client.getManifest(repo, first.digest), undefined, "the renewed-away manifest is deleted");
        const bLines: string[] = [];
        const b = leaseOrWait(options(tag, key, "runner-b", bLines, { seconds: 3 }));
        await sleep(4000);
        assert.ok(bLines.some((l) => /waiting for runner-a/.test(l)), "b still waits");
        await a.held!.release();
        const bOut = await b;
        assert.ok(bOut.held);
        await bOut.held!.release();
    });

    it("two runners racing for one key: exactly one holds it, the other waits for it", async () => {
        const { key, tag } = fresh();
        const linesA: string[] = [];
        const linesB: string[] = [];
        const a = leaseOrWait(options(tag, key, "runner-a", linesA));
        const b = leaseOrWait(options(tag, key, "runner-b", linesB));
        const first = await Promise.race([a.then((o) => ({ who: "a", o })), b.then((o) => ({ who: "b", o }))]);
        assert.ok(first.o.held, `${first.who} holds the lease`);
        await sleep(2000);
        const other = first.who === "a" ? linesB : linesA;
        assert.ok(other.some((l) => l.includes(`waiting for runner-${first.who}`)), `the other waits:\n${other.join("\n")}`);
        const digest = await pushThing(tag);
        await first.o.held!.release();
        const second = await (first.who === "a" ? b : a);
        assert.equal(second.adopted, digest);
        assert.equal(second.held, undefined);
    });

    it("leaseSeconds 0 takes no lease", async () => {
        const { key, tag } = fresh();
        assert.deepEqual(await leaseOrWait(options(tag, key, "runner-a", [], { seconds: 0 })), {});
        assert.equal(await client.resolveTag(repo, leaseTag(tag)), undefined);
    });

    it("a registry that refuses deletes gets an expired lease instead, which the next runner takes", async () => {
        const noDelete = await startRegistry({ deleteEnabled: false });
        try {
            const c = new RegistryClient({ host: noDelete.host, insecure: true });
            const { key, tag } = fresh();
            const a = await leaseOrWait({ ...options(tag, key, "runner-a", []), client: c });
            await a.held!.release();
            const left = await readLease(c, repo, tag);
            assert.equal(left?.holder, "runner-a");
            assert.ok(left!.expires.getTime() <= Date.now(), "released as expired");
            const b = await leaseOrWait({ ...options(tag, key, "runner-b", []), client: c });
            assert.ok(b.held);
            await b.held!.release();
        } finally {
            await noDelete.stop();
        }
    });

    describe("createArtifact's lease", () => {
        let journal: string;
        let root: string;
        before(() => {
            journal = path.join(tempDir(), "journal.jsonl");
            process.env.WARMRUN_JOURNAL = journal;
            root = tempDir();
            writeTree(root, { "a.txt": "a\n", "b/c.txt": "c\n" });
        });
        after(() => delete process.env.WARMRUN_JOURNAL);

        async function inputs(leaseSeconds: number, runId: string): Promise<ArtifactInputs> {
            const material = await bundleKeyMaterial("bundle", { root }, {}, new StatCache());
            const key = computeKey({ ...material, params: { leaseSeconds } });
            return {
                name: "bundle",
                kind: BUNDLE_KIND,
                key,
                registry: { host: registry.host, insecure: true },
                repository: "lease-test/bundle",
                tag: shortKey(key),
                aliasTags: [],
                inputs: inputSummary(material),
                build: { root, params: { leaseSeconds }, upstream: {} },
                runId,
                leaseSeconds,
            };
        }

        it("two concurrent creates of one key build once; the other waits, adopts the same digest and journals whom it waited for", async () => {
            let builds = 0;
            const slowBundle: Builder = async (ctx) => {
                builds++;
                await sleep(3000);
                return buildBundle(ctx);
            };
            const [a, b] = [await inputs(30, "run-a"), await inputs(30, "run-b")];
            const logs: string[] = [];
            const deps = withBuilder(slowBundle, (m) => logs.push(m));
            const [oa, ob] = await Promise.all([createArtifact(a, deps), createArtifact(b, deps)]);
            assert.equal(builds, 1, "one build");
            assert.equal(oa.digest, ob.digest);
            assert.deepEqual([oa.cacheHit, ob.cacheHit].sort(), [false, true]);
            await assertComplete(client, a.repository, a.tag);
            assert.equal(await client.resolveTag(a.repository, leaseTag(a.tag)), undefined, "no lease left");
            const entries = readJournal(journal).filter((e) => e.key === a.key);
            assert.deepEqual(entries.map((e) => e.action).sort(), ["adopt", "build"]);
            const adopt = entries.find((e) => e.action === "adopt")!;
            assert.match(adopt.waitedFor ?? "", / pid \d+ run run-[ab]$/);
            assert.equal(entries.find((e) => e.action === "build")!.waitedFor, undefined);
        });

        it("a failed build removes its lease", async () => {
            const i = await inputs(31, "run-c");
            const failing: Builder = async () => {
                assert.ok(await readLease(client, i.repository, i.tag), "the lease is held during the build");
                throw new Error("build broke");
            };
            await assert.rejects(createArtifact(i, withBuilder(failing)), /build broke/);
            assert.equal(await client.resolveTag(i.repository, leaseTag(i.tag)), undefined);
        });

        it("with leaseSeconds 0 a build takes no lease", async () => {
            const i = await inputs(0, "run-d");
            let seen: unknown = "not built";
            const probe: Builder = async (ctx) => {
                seen = await readLease(client, i.repository, i.tag);
                return buildBundle(ctx);
            };
            await createArtifact(i, withBuilder(probe));
            assert.equal(seen, undefined);
        });
    });
});
