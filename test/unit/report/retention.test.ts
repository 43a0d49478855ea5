// Retention decisions: what `npm run gc` keeps (and why), deletes, and counts as reclaimable.
import { strict as assert } from "assert";
import {
    classifyTag,
    deleteRefusedMessage,
    manifestFacts,
    parseDuration,
    planRetention,
    referencesFromState,
    RepositoryInventory,
    ManifestFacts,
    RetentionPolicy,
    JournalRecord,
    forgetDeleted,
    NO_SIGHTINGS,
    recordSightings,
    sightingKey,
    Sightings,
    SIGHTING_TTL_MS,
} from "../../../components/report/retention";

const NOW = new Date("2026-12-01T12:00:00Z");
const DAY = 86_400_000;
const hex = (c: string) => c.repeat(64);
const digest = (c: string) => `sha256:${hex(c)}`;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const policy = (over: Partial<RetentionPolicy> = {}): RetentionPolicy => ({ keep: 2, keepAliases: 1, graceMs: DAY, now: NOW, ...over });

/** A manifest of key `k` (one hex digit), `days` old, with its own layer and a shared base layer. */
function manifest(k: string, days?: number, size = 100): ManifestFacts {
    return {
        digest: digest(k),
        key: hex(k),
        ...(days !== undefined ? { created: ago(days), createdFrom: "annotation" as const } : {}),
        blobs: [
            { digest: `sha256:layer-${k}`, size },
            { digest: "sha256:shared-base", size: 1000 },
        ],
    };
}

function repo(manifests: ManifestFacts[], extraTags: { tag: string; digest: string }[] = [], references: RepositoryInventory["references"] = []): RepositoryInventory {
    return {
        artifact: "deps",
        host: "127.0.0.1:5000",
        repository: "warmrun/deps",
        tags: [...manifests.map((m) => ({ tag: m.key!.slice(0, 24), digest: m.digest })), ...extraTags],
        manifests: Object.fromEntries(manifests.map((m) => [m.digest, m])),
        references,
    };
}

/** Sightings of every tag of `invs`, first seen `days` ago (default: long before any grace period). */
const seenAll = (invs: RepositoryInventory[], days = 60): Sightings => recordSightings(NO_SIGHTINGS, invs, new Date(NOW.getTime() - days * DAY));
/** Plans with every tag seen long ago: only the policy decides. */
const decided = (invs: RepositoryInventory[], journal: JournalRecord[], p: RetentionPolicy) => planRetention(invs, journal, p, seenAll(invs));

const ref = (stack: string, k: string, aliasTags: string[] = []) => ({ stack, artifact: "deps", host: "127.0.0.1:5000", repository: "warmrun/deps", tag: hex(k).slice(0, 24), aliasTags, digest: digest(k) });

describe("retention decisions", () => {
    it("keeps the newest N keys and deletes the older ones, by created time", () => {
        const [plan] = decided([repo([manifest("1", 50), manifest("2", 40), manifest("3", 30), manifest("4", 20), manifest("5", 10)])], [], policy());
        assert.deepEqual(plan.keep.map((d) => [d.digest, d.reasons]), [
            [digest("5"), ["one of the newest 2 keys"]],
            [digest("4"), ["one of the newest 2 keys"]],
        ]);
        assert.deepEqual(plan.delete.map((d) => d.digest).sort(), [digest("1"), digest("2"), digest("3")]);
        // The shared base layer stays (kept manifests use it); the three own layers go.
        assert.equal(plan.reclaimableBytes, 300);
    });

    it("keeps what any given stack's state references: its pinned digest and its tags", () => {
        const moved = { ...manifest("9", 45), key: hex("2") }; // the tag of key 2 was pushed again
        const inv = repo([manifest("1", 50), manifest("2", 40), manifest("3", 30), manifest("4", 20), manifest("5", 10)], [], [ref("ci", "2"), ref("dev", "5")]);
        inv.manifests[moved.digest] = moved;
        inv.tags = inv.tags.map((t) => (t.digest === digest("2") ? { ...t, digest: moved.digest } : t));
        inv.manifests[digest("2")] = manifest("2", 40); // untagged now, still pinned by stack ci
        const [plan] = decided([inv], [], policy({ keep: 1 }));
        const why = Object.fromEntries(plan.keep.map((d) => [d.digest, d.reasons]));
        assert.deepEqual(why[digest("2")], ["pinned by the state of stack ci"]);
        assert.deepEqual(why[moved.digest], [`tag ${hex("2").slice(0, 24)} is in the state of stack ci`]);
        assert.deepEqual(why[digest("5")], ["pinned by the state of stack dev", `tag ${hex("5").slice(0, 24)} is in the state of stack dev`, "one of the newest 1 keys"]);
        assert.deepEqual(plan.delete.map((d) => d.digest).sort(), [digest("1"), digest("3"), digest("4")]);
    });

    it("keeps latest always and the newest --keep-aliases git aliases; an old alias's manifest goes with it", () => {
        const inv = repo([manifest("1", 50), manifest("2", 40), manifest("3", 30)], [
            { tag: "latest", digest: digest("1") },
            { tag: "git-aaaaaaaaaaaa", digest: digest("2") },
            { tag: "git-bbbbbbbbbbbb", digest: digest("3") },
        ]);
        const [plan] = decided([inv], [], policy({ keep: 0, keepAliases: 1 }));
        assert.deepEqual(plan.keep.map((d) => [d.digest, d.reasons]), [
            [digest("3"), ["alias git-bbbbbbbbbbbb (one of the newest 1 aliases)"]],
            [digest("1"), ["alias latest"]],
        ]);
        assert.deepEqual(plan.delete.map((d) => [d.digest, d.tags]), [[digest("2"), [hex("2").slice(0, 24), "git-aaaaaaaaaaaa"]]]);
    });

    it("qcow2 tags: base-qcow2-<key>, base-qcow2-<git sha> aliases and base-qcow2-latest", () => {
        const m = manifest("a", 5);
        assert.deepEqual(classifyTag(`base-qcow2-${hex("a").slice(0, 24)}`, m), { kind: "key" });
        assert.deepEqual(classifyTag("base-qcow2-1a2b3c4", m), { kind: "sha-alias", family: "base-qcow2-" });
        assert.deepEqual(classifyTag("base-qcow2-latest", m), { kind: "latest" });
        assert.deepEqual(classifyTag("git-0123456789ab", m), { kind: "sha-alias", family: "git-" });
        assert.deepEqual(classifyTag("v1.2", m), { kind: "other" });
        assert.deepEqual(classifyTag("anything", { digest: "x", blobs: [] }), { kind: "other" }, "no warmrun key: not warmrun's");
    });

    it("the grace period runs from gc's first sighting of a tag, whatever the manifest's created time says", () => {
        // Built from an old commit (created 30 days ago), pushed just now: the tag is new to gc.
        const inv = repo([manifest("1", 30), manifest("2", 30), manifest("3", 30), manifest("4", 0.5)]);
        const seen = seenAll([inv]);
        const key = (k: string) => sightingKey(inv.host, inv.repository, hex(k).slice(0, 24), digest(k));
        seen.tags[key("2")] = { firstSeen: ago(0.5), lastSeen: NOW.toISOString() };
        delete seen.tags[key("3")];
        const [p] = planRetention([inv], [], policy({ keep: 0 }), seen);
        const why = Object.fromEntries(p.keep.map((d) => [d.digest, d.reasons]));
        assert.deepEqual(why[digest("2")], ["first seen by gc 12 h ago: within the grace period (24 h)"]);
        assert.deepEqual(why[digest("3")], ["first seen by this gc run: kept for the grace period (24 h)"]);
        // Its content's time is young too: the push came later still.
        assert.deepEqual(why[digest("4")], ["younger than the grace period (12 h old, by its annotation time)"]);
        assert.deepEqual(p.delete.map((d) => d.digest), [digest("1")]);
        // The first run on a machine (no sightings yet) deletes nothing; with --grace 0 it may.
        assert.deepEqual(planRetention([inv], [], policy({ keep: 0 }), recordSightings(NO_SIGHTINGS, [inv], NOW))[0].delete, []);
        assert.equal(planRetention([inv], [], policy({ keep: 0, graceMs: 0 }), recordSightings(NO_SIGHTINGS, [inv], NOW))[0].delete.length, 4);
    });

    it("a manifest is as young as its youngest tag: an alias gc has just seen keeps an old manifest", () => {
        const inv = repo([manifest("1", 30)], [{ tag: "git-0123456789ab", digest: digest("1") }]);
        const seen = seenAll([inv]);
        seen.tags[sightingKey(inv.host, inv.repository, "git-0123456789ab", digest("1"))] = { firstSeen: ago(0.1), lastSeen: NOW.toISOString() };
        const [p] = planRetention([inv], [], policy({ keep: 0, keepAliases: 0 }), seen);
        assert.deepEqual(p.delete, []);
        assert.match(p.keep[0].reasons.join(), /^first seen by gc \d+ h ago: within the grace period/);
    });

    it("builds of one commit share its created time: the journal, then the first sighting, order them", () => {
        const inv = repo([manifest("1", 30), manifest("2", 30), manifest("3", 30)]);
        const journal: JournalRecord[] = [
            { artifact: "deps", key: hex("1"), action: "build", time: ago(3) },
            { artifact: "deps", key: hex("2"), action: "build", time: ago(2) },
        ];
        assert.deepEqual(decided([inv], journal, policy({ keep: 1 }))[0].keep.map((d) => d.digest), [digest("2")]);
        const seen = seenAll([inv], 60);
        seen.tags[sightingKey(inv.host, inv.repository, hex("3").slice(0, 24), digest("3"))].firstSeen = ago(40);
        seen.tags[sightingKey(inv.host, inv.repository, hex("1").slice(0, 24), digest("1"))].firstSeen = ago(50);
        assert.deepEqual(planRetention([inv], [], policy({ keep: 1 }), seen)[0].keep.map((d) => d.digest), [digest("3")]);
    });

    it("without a created time or a journal entry, a manifest is dated by gc's first sighting", () => {
        const undated = (k: string) => ({ ...manifest(k), created: undefined });
        const inv = repo([undated("1"), undated("2")]);
        const seen = seenAll([inv], 60);
        seen.tags[sightingKey(inv.host, inv.repository, hex("2").slice(0, 24), digest("2"))].firstSeen = ago(10);
        const [p] = planRetention([inv], [], policy({ keep: 1 }), seen);
        assert.deepEqual(p.keep.map((d) => [d.digest, d.timeSource, d.time]), [[digest("2"), "seen", ago(10)]]);
        assert.deepEqual(p.delete.map((d) => [d.digest, d.timeSource]), [[digest("1"), "seen"]]);
    });

    it("sightings: new tags are first seen now, known ones keep their first sighting, gone or moved ones of an examined repository start over", () => {
        const inv = repo([manifest("1", 30), manifest("2", 30)]);
        const other = { ...repo([manifest("7", 30)]), repository: "warmrun/other" };
        const t = (k: string, d = k) => sightingKey(inv.host, inv.repository, hex(k).slice(0, 24), digest(d));
        const seven = sightingKey(other.host, other.repository, hex("7").slice(0, 24), digest("7"));
        const first = recordSightings(NO_SIGHTINGS, [inv], new Date(NOW.getTime() - 5 * DAY));
        const withOther = recordSightings(first, [other], new Date(NOW.getTime() - 4 * DAY));
        assert.deepEqual(Object.keys(withOther.tags).sort(), [t("1"), t("2"), seven].sort());
        const again = recordSightings(withOther, [inv], NOW);
        assert.deepEqual([again.tags[t("1")].firstSeen, again.tags[t("1")].lastSeen], [ago(5), NOW.toISOString()]);
        // Key 1's tag now points elsewhere, key 2's is gone, a new key 3 appeared.
        const later = { ...inv, tags: [{ tag: hex("1").slice(0, 24), digest: digest("9") }, { tag: hex("3").slice(0, 24), digest: digest("3") }] };
        const now = recordSightings(withOther, [later], NOW);
        assert.deepEqual(Object.keys(now.tags).sort(), [t("1", "9"), t("3"), seven].sort());
        assert.equal(now.tags[t("1", "9")].firstSeen, NOW.toISOString());
        assert.equal(now.tags[seven].firstSeen, ago(4), "a repository not examined this time keeps its sightings");
        // Not confirmed for longer than the TTL: forgotten.
        assert.deepEqual(recordSightings(withOther, [], new Date(NOW.getTime() - 4 * DAY + SIGHTING_TTL_MS + 1000)).tags, {});
        // A deleted manifest's tags are forgotten at once.
        const [p] = planRetention([inv], [], policy({ keep: 1 }), again);
        assert.equal(p.delete.length, 1);
        assert.deepEqual(Object.keys(forgetDeleted(again, [p]).tags).sort(), [seven, ...[t("1"), t("2")].filter((k) => !k.endsWith(p.delete[0].digest))].sort());
    });

    it("a manifest without a created time is dated by the journal (its first build or adoption of that key)", () => {
        const undated = (k: string) => ({ ...manifest(k), created: undefined });
        const journal: JournalRecord[] = [
            { artifact: "deps", key: hex("1"), action: "build", time: ago(30) },
            { artifact: "deps", key: hex("1"), action: "adopt", time: ago(2) },
            { artifact: "deps", key: hex("2"), action: "build", time: ago(20) },
            { artifact: "other", key: hex("3"), action: "build", time: ago(1) },
        ];
        const [plan] = decided([repo([undated("1"), undated("2")])], journal, policy({ keep: 1 }));
        assert.deepEqual(plan.keep.map((d) => [d.digest, d.timeSource, d.time]), [[digest("2"), "journal", ago(20)]]);
        assert.deepEqual(plan.delete.map((d) => [d.digest, d.timeSource, d.time]), [[digest("1"), "journal", ago(30)]]);
    });

    it("tags warmrun does not make are kept", () => {
        const foreign: ManifestFacts = { digest: digest("f"), created: ago(90), blobs: [] };
        const inv = repo([manifest("1", 90)], [{ tag: "release-2024", digest: digest("f") }]);
        inv.manifests[foreign.digest] = foreign;
        const [plan] = decided([inv], [], policy({ keep: 0 }));
        assert.deepEqual(plan.keep.map((d) => [d.digest, d.reasons]), [[digest("f"), ["tag release-2024 is not one warmrun makes"]]]);
    });

    it("reclaimable bytes count a blob once over all repositories, and never one a kept manifest anywhere uses", () => {
        const a = repo([manifest("1", 50, 10), manifest("2", 1, 20)]);
        const b = { ...repo([{ ...manifest("3", 50, 30), blobs: [{ digest: "sha256:layer-1", size: 10 }, { digest: "sha256:shared-base", size: 1000 }] }]), artifact: "app", repository: "warmrun/app" };
        const plans = decided([a, b], [], policy({ keep: 0, graceMs: 2 * DAY }));
        assert.deepEqual(plans.map((p) => p.delete.map((d) => d.digest)), [[digest("1")], [digest("3")]]);
        // layer-1 is counted once (by deps); shared-base is used by the kept manifest 2.
        assert.deepEqual(plans.map((p) => p.reclaimableBytes), [10, 0]);
    });

    it("an index is deleted with the manifests it lists, unless a kept index lists them too", () => {
        const child = (c: string): ManifestFacts => ({ digest: digest(c), blobs: [{ digest: `sha256:child-${c}`, size: 7 }] });
        const index = (k: string, days: number, children: string[]): ManifestFacts => ({ digest: digest(k), key: hex(k), created: ago(days), blobs: [], children: children.map(digest) });
        const inv = repo([index("1", 40, ["a", "b"]), index("2", 0.5, ["b"])]);
        for (const c of ["a", "b"]) inv.manifests[digest(c)] = child(c);
        const [plan] = decided([inv], [], policy({ keep: 0 }));
        assert.deepEqual(plan.delete.map((d) => d.digest), [digest("1"), digest("a")]);
        assert.equal(plan.reclaimableBytes, 7);
    });

    it("a manifest's referrers tag (sha256-<hex>: its SBOM's index) is kept with it and deleted with it, and goes once its subject is gone", () => {
        const sbom = (k: string): ManifestFacts => ({ digest: digest(k), key: hex("0"), blobs: [{ digest: `sha256:sbom-${k}`, size: 5 }] });
        const index = (k: string, child: string): ManifestFacts => ({ digest: digest(k), blobs: [], children: [digest(child)] });
        const referrersOf = (subject: string, idx: string) => ({ tag: `sha256-${hex(subject)}`, digest: digest(idx) });
        const inv = repo([manifest("1", 50), manifest("2", 40)], [referrersOf("1", "a"), referrersOf("2", "b"), referrersOf("9", "c")]);
        for (const [i, c] of [["a", "d"], ["b", "e"], ["c", "f"]]) {
            inv.manifests[digest(i)] = index(i, c);
            inv.manifests[digest(c)] = sbom(c);
        }
        assert.deepEqual(classifyTag(`sha256-${hex("1")}`, inv.manifests[digest("a")]), { kind: "referrers", subject: digest("1") });
        const [p] = decided([inv], [], policy({ keep: 1 }));
        const why = Object.fromEntries(p.keep.map((d) => [d.digest, d.reasons]));
        assert.deepEqual(why[digest("b")], [`referrers of ${hex("2").slice(0, 12)}, which is kept`]);
        // Key 1 goes, and with it its referrers index and the SBOM it lists; key 9 is gone already.
        assert.deepEqual(p.delete.map((d) => d.digest).sort(), [digest("1"), digest("a"), digest("c"), digest("d"), digest("f")].sort());
        assert.equal(p.reclaimableBytes, 100 + 5 + 5);
        // A referrers tag gc has only just seen stays for the grace period, even when its subject is gone.
        const fresh = seenAll([inv]);
        fresh.tags[sightingKey(inv.host, inv.repository, `sha256-${hex("9")}`, digest("c"))].firstSeen = NOW.toISOString();
        assert.ok(!planRetention([inv], [], policy({ keep: 1 }), fresh)[0].delete.some((d) => d.digest === digest("c")));
    });

    it("a live lease (a runner building that key) is kept; an expired one goes; a lease- tag that holds no lease is not warmrun's", () => {
        const lease = (c: string, expires: string): ManifestFacts => ({ digest: digest(c), blobs: [{ digest: "sha256:empty", size: 2 }], lease: { holder: "ci-7 pid 42", expires } });
        const inv = repo([manifest("1", 50)], [
            { tag: "lease-" + hex("2").slice(0, 24), digest: digest("a") },
            { tag: "lease-" + hex("3").slice(0, 24), digest: digest("b") },
            { tag: "lease-notes", digest: digest("c") },
        ]);
        inv.manifests[digest("a")] = lease("a", new Date(NOW.getTime() + 60_000).toISOString());
        inv.manifests[digest("b")] = lease("b", ago(3));
        inv.manifests[digest("c")] = { digest: digest("c"), blobs: [] };
        assert.deepEqual(classifyTag("lease-abc", inv.manifests[digest("a")]), { kind: "lease" });
        const [p] = decided([inv], [], policy({ keep: 1 }));
        const why = Object.fromEntries(p.keep.map((d) => [d.digest, d.reasons]));
        assert.deepEqual(why[digest("a")], [`a live lease: ci-7 pid 42 builds this key until ${new Date(NOW.getTime() + 60_000).toISOString()}`]);
        assert.deepEqual(why[digest("c")], ["tag lease-notes is not one warmrun makes"]);
        assert.deepEqual(p.delete.map((d) => d.digest), [digest("b")]);
        assert.deepEqual(manifestFacts(digest("z"), { artifactType: "application/vnd.warmrun.lease.v1", annotations: { "dev.warmrun.lease.holder": "h", "dev.warmrun.lease.expires": "2026-12-01T12:05:00.000Z", "dev.warmrun.lease.token": "t" } }).lease, { holder: "h", expires: "2026-12-01T12:05:00.000Z" });
    });

    it("reads the artifacts of a stack export: where they are published, their tags and pinned digest", () => {
        const exported = {
            deployment: {
                resources: [
                    { urn: "urn:pulumi:dev::warmrun::pulumi:pulumi:Stack::warmrun-dev", type: "pulumi:pulumi:Stack" },
                    {
                        urn: "urn:pulumi:dev::warmrun::warmrun:index:FileBundle$pulumi-nodejs:dynamic/warmrun:FileBundle::docs",
                        type: "pulumi-nodejs:dynamic/warmrun:FileBundle",
                        outputs: { name: "docs", ref: "127.0.0.1:5000/warmrun/docs:abc", pinned: `127.0.0.1:5000/warmrun/docs@${digest("d")}`, aliasTags: ["latest"], registry: { ciphertext: "x" } },
                    },
                    {
                        urn: "urn:pulumi:dev::warmrun::warmrun:index:CloudInitIso$pulumi-nodejs:dynamic/warmrun:CloudInitIso::seed",
                        type: "pulumi-nodejs:dynamic/warmrun:CloudInitIso",
                        outputs: { name: "seed", ref: "/cache/seed.iso", pinned: `/cache/seed.iso@${digest("e")}` },
                    },
                ],
            },
        };
        assert.deepEqual(referencesFromState("dev", exported), [
            { stack: "dev", artifact: "docs", host: "127.0.0.1:5000", repository: "warmrun/docs", tag: "abc", aliasTags: ["latest"], digest: digest("d") },
        ]);
    });

    it("reads a manifest's key, created annotation (else the config's time) and blobs", () => {
        const json = { config: { digest: "sha256:c", size: 5 }, layers: [{ digest: "sha256:l", size: 9 }], annotations: { "dev.warmrun.key": hex("1"), "org.opencontainers.image.created": "2026-11-30T10:00:00Z" } };
        assert.deepEqual(manifestFacts("sha256:m", json, "2020-01-01T00:00:00Z"), {
            digest: "sha256:m",
            key: hex("1"),
            created: "2026-11-30T10:00:00Z",
            createdFrom: "annotation",
            blobs: [{ digest: "sha256:c", size: 5 }, { digest: "sha256:l", size: 9 }],
        });
        const fromConfig = manifestFacts("sha256:m", { ...json, annotations: {} }, "2026-01-01T00:00:00Z");
        assert.deepEqual([fromConfig.created, fromConfig.createdFrom, fromConfig.key], ["2026-01-01T00:00:00Z", "config", undefined]);
    });

    it("durations", () => {
        assert.equal(parseDuration("24h"), DAY);
        assert.equal(parseDuration("90m"), 90 * 60_000);
        assert.equal(parseDuration("7d"), 7 * DAY);
        assert.equal(parseDuration("0"), 0);
        assert.equal(parseDuration("1.5h"), 5_400_000);
        assert.equal(parseDuration("12"), undefined, "a bare number needs a unit");
        assert.equal(parseDuration("soon"), undefined);
    });

    it("a registry that refuses deletes gets one message naming its own retention feature", () => {
        assert.match(deleteRefusedMessage("ghcr.io", 405), /^registry ghcr\.io refuses manifest deletes \(405\): nothing was deleted\. Use GitHub Packages: .*package versions/);
        assert.match(deleteRefusedMessage("123456789012.dkr.ecr.eu-west-1.amazonaws.com", 405), /Amazon ECR: lifecycle policies/);
        assert.match(deleteRefusedMessage("acme.azurecr.io", 405), /retention policies/);
        assert.match(deleteRefusedMessage("europe-docker.pkg.dev", 405), /cleanup policies/);
        assert.match(deleteRefusedMessage("quay.io", 405), /tag expiration/);
        assert.match(deleteRefusedMessage("registry.example.com", 405), /Harbor: tag retention rules.*REGISTRY_STORAGE_DELETE_ENABLED=true/);
    });
});
