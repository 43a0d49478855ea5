// The pure half of leases: the manifest, its parsing, expiry, back-off and the setting's check.
import { strict as assert } from "assert";
import {
    backoffSeconds,
    DEFAULT_LEASE_SECONDS,
    holderName,
    isLeaseTag,
    isLive,
    leaseManifest,
    leaseSecondsProblem,
    leaseTag,
    LEASE_ARTIFACT_TYPE,
    newLease,
    parseLease,
    renewRetrySeconds,
    renewSeconds,
    settleMsFor,
} from "../../../components/core/lease";
import { isValidTag } from "../../../components/oci/registry";
import { digestOf, MEDIA } from "../../../components/oci/manifest";
import { ConfigError, validateConfig } from "../../../components/core/config";
import { parseMarkdown, renderJson, renderMarkdown, renderTable, reportRows } from "../../../components/report/cacheReport";
import { cacheStatusMessage } from "../../../components/core/preview";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

describe("leases (pure)", () => {
    after(() => removeTempDirs());

    it("the lease tag is the key's tag behind lease-, a valid tag of at most 128 characters", () => {
        assert.equal(leaseTag("0123456789abcdef01234567"), "lease-0123456789abcdef01234567");
        assert.equal(leaseTag("base-qcow2-0123456789abcdef01234567"), "lease-base-qcow2-0123456789abcdef01234567");
        const long = leaseTag("a".repeat(128));
        assert.equal(long.length, 128);
        assert.ok(isValidTag(long));
        assert.ok(isLeaseTag(long));
        assert.ok(!isLeaseTag("0123456789abcdef01234567"));
    });

    it("a lease is an OCI manifest of an empty config and layer, the lease in its annotations, and parses back", () => {
        const now = new Date("2026-01-02T03:04:05.000Z");
        const lease = newLease("f".repeat(64), "runner-1 pid 42 run r1", 60, now);
        assert.equal(lease.expires.toISOString(), "2026-01-02T03:05:05.000Z");
        const json = JSON.parse(leaseManifest(lease).toString("utf8"));
        assert.equal(json.schemaVersion, 2);
        assert.equal(json.mediaType, MEDIA.ociManifest);
        assert.equal(json.artifactType, LEASE_ARTIFACT_TYPE);
        assert.deepEqual(json.config, { mediaType: MEDIA.ociEmpty, digest: digestOf("{}"), size: 2 });
        assert.deepEqual(json.layers, [json.config]);
        assert.equal(json.config.digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "the OCI empty descriptor's digest");
        assert.deepEqual(parseLease(json), lease);
    });

    it("two takes of the same key are told apart by their token", () => {
        const now = new Date();
        const a = newLease("k", "h", 60, now);
        const b = newLease("k", "h", 60, now);
        assert.notEqual(a.token, b.token);
        assert.notEqual(digestOf(leaseManifest(a)), digestOf(leaseManifest(b)));
    });

    it("anything else under a lease tag is no lease", () => {
        assert.equal(parseLease(undefined), undefined);
        assert.equal(parseLease({ schemaVersion: 2, annotations: { "dev.warmrun.lease.holder": "x" } }), undefined);
        const json = JSON.parse(leaseManifest(newLease("k", "h", 1, new Date())).toString("utf8"));
        json.annotations["dev.warmrun.lease.expires"] = "soon";
        assert.equal(parseLease(json), undefined);
    });

    it("a lease is live until its expiry, and no lease is not live", () => {
        const now = new Date("2026-01-01T00:00:00Z");
        const lease = newLease("k", "h", 10, now);
        assert.equal(isLive(lease, new Date("2026-01-01T00:00:09.999Z")), true);
        assert.equal(isLive(lease, new Date("2026-01-01T00:00:10Z")), false);
        assert.equal(isLive(undefined, now), false);
    });

    it("waiting backs off 1, 2, 4, 8 s up to 15 s, or a third of a short lease", () => {
        assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => backoffSeconds(n, 1800)), [1, 2, 4, 8, 15, 15, 15]);
        assert.deepEqual([0, 1, 2, 3].map((n) => backoffSeconds(n, 9)), [1, 2, 3, 3]);
        assert.equal(backoffSeconds(5, 1), 1);
        assert.equal(renewSeconds(1800), 600);
        assert.equal(renewSeconds(300), 100);
        assert.equal(renewSeconds(2), 1);
    });

    it("a written lease is read back after four times this runner's read-then-write time, between 200 ms and 1 s", () => {
        assert.deepEqual([0, 10, 60, 120, 400, 5000].map(settleMsFor), [200, 200, 240, 480, 1000, 1000]);
    });

    it("a failed renewal is tried again within 15 s, so a default lease rides out almost 300 s of registry trouble", () => {
        assert.equal(renewRetrySeconds(DEFAULT_LEASE_SECONDS), 15);
        assert.equal(renewRetrySeconds(1800), 15);
        assert.equal(renewRetrySeconds(9), 3);
        assert.equal(renewRetrySeconds(1), 1);
        // Renewed at a third, retried every 15 s after that: the last try before expiry is 15 s or less before it.
        const every = renewSeconds(DEFAULT_LEASE_SECONDS);
        const tries = Math.floor((DEFAULT_LEASE_SECONDS - every) / renewRetrySeconds(DEFAULT_LEASE_SECONDS));
        assert.ok(every + tries * renewRetrySeconds(DEFAULT_LEASE_SECONDS) >= DEFAULT_LEASE_SECONDS - 15);
    });

    it("the holder names host, pid and run", () => {
        assert.equal(holderName("run-7", "ci-runner-3", 4242), "ci-runner-3 pid 4242 run run-7");
        assert.equal(holderName(undefined, "h", 1), "h pid 1");
    });

    it("warmrun:leaseSeconds: a whole number of seconds, default 300, 0 turns leases off", () => {
        assert.equal(DEFAULT_LEASE_SECONDS, 300);
        for (const ok of [undefined, 0, 1, 1800]) assert.equal(leaseSecondsProblem(ok), undefined, String(ok));
        for (const bad of [-1, 1.5, "10", true]) assert.match(leaseSecondsProblem(bad) ?? "", /warmrun:leaseSeconds must be a whole number of seconds, 0 to turn leases off/, String(bad));

        const project = tempDir();
        writeTree(project, { "b/f": "x\n" });
        const raw = (extra: Record<string, string>) => ({ "warmrun:registry": "127.0.0.1:5000/w", "warmrun:artifacts": JSON.stringify({ b: { kind: "FileBundle", root: "b" } }), ...extra });
        const opts = { projectRoot: project, secretKeys: new Set<string>() };
        assert.equal(validateConfig(raw({}), opts).leaseSeconds, 300);
        assert.equal(validateConfig(raw({ "warmrun:leaseSeconds": "0" }), opts).leaseSeconds, 0);
        assert.equal(validateConfig(raw({ "warmrun:leaseSeconds": "45" }), opts).leaseSeconds, 45);
        for (const bad of ["-5", "ten"]) {
            assert.throws(() => validateConfig(raw({ "warmrun:leaseSeconds": bad }), opts), (e: any) => {
                assert.ok(e instanceof ConfigError);
                assert.equal(e.problems.length, 1, e.problems.join("\n"));
                assert.match(e.problems[0], /warmrun:leaseSeconds/);
                return true;
            });
        }
    });

    it("the cache report says whom an artifact's last create waited for, from the journal, and its Markdown table still reads back", () => {
        const k = "c".repeat(64);
        const type = "pulumi-nodejs:dynamic/warmrun:FileBundle";
        const urn = `urn:pulumi:ci::warmrun::warmrun:index:FileBundle$${type}::docs`;
        const st = { type, inputs: { name: "docs", kind: "FileBundle", key: k, inputs: {} }, outputs: { name: "docs", key: k, inputs: {}, cacheHit: true } };
        const preview = {
            steps: [{ op: "same", urn, oldState: st, newState: st }],
            diagnostics: [{ urn, severity: "info", message: cacheStatusMessage("docs", `127.0.0.1:5000/w/docs:${k.slice(0, 24)}`, `sha256:${"e".repeat(64)}`) }],
        };
        const journal = [
            { artifact: "docs", action: "build", key: "d".repeat(64), buildSeconds: 3 },
            { artifact: "docs", action: "adopt", key: k, waitedFor: "runner-7 pid 12 run r-1" },
        ];
        const rows = reportRows(preview, journal);
        assert.equal(rows.length, 1);
        assert.equal(rows[0].waitedFor, "runner-7 pid 12 run r-1");
        assert.match(renderTable(rows), /\ndocs: its last create waited for runner-7 pid 12 run r-1\n/);
        const md = renderMarkdown(rows);
        assert.match(md, /\n- docs: its last create waited for runner-7 pid 12 run r-1\n/);
        assert.deepEqual(parseMarkdown(md).map((r) => r.artifact), ["docs"]);
        assert.equal(JSON.parse(renderJson(rows)).rows[0].waitedFor, "runner-7 pid 12 run r-1");
        // A later create of the key that did not wait clears it; another key's wait never counts.
        assert.equal(reportRows(preview, [...journal, { artifact: "docs", action: "adopt", key: k }])[0].waitedFor, undefined);
        assert.equal(reportRows(preview, [{ artifact: "docs", action: "adopt", key: "d".repeat(64), waitedFor: "x" }])[0].waitedFor, undefined);
    });
});
