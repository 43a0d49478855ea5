// `npm run gc` against a real docker-registry: five keys of one artifact, state exports of two
// stacks pinning two of them; dry run, grace (from gc's first sighting of a tag), --keep, --yes,
// then the registry's own blob garbage collection frees the reclaimable bytes on disk (du before and after).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { PROJECT_ROOT } from "../support/engine";
import { RegistryClient } from "../../components/oci/registry";
import { ArtifactInputs, ArtifactOutputs, createArtifact } from "../../components/core/lifecycle";
import { BUNDLE_KIND } from "../../components/kinds/fileBundle/fields";
import { bundleKeyMaterial } from "../../components/kinds/fileBundle/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";
import { buildModuleOf } from "../../components/core/providerImpl";
import { listReferrers, pushReferrer } from "../../components/oci/referrers";
import { leaseTag, newLease, readLease, writeLease } from "../../components/core/lease";

interface GcRun {
    code: number;
    stdout: string;
    stderr: string;
    json?: any;
}

function gc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<GcRun> {
    return new Promise((resolve) => {
        execFile("npm", ["run", "--silent", "gc", "--", ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            const code = err ? ((err as any).code as number) ?? 1 : 0;
            let json: any;
            try {
                json = args.includes("--json") ? JSON.parse(stdout) : undefined;
            } catch {
                json = undefined;
            }
            resolve({ code, stdout, stderr, json });
        });
    });
}

/** What `pulumi stack export` holds for one FileBundle artifact (the parts gc reads). */
function exportOf(stack: string, outs: ArtifactOutputs): unknown {
    return {
        version: 3,
        deployment: {
            resources: [
                { urn: `urn:pulumi:${stack}::warmrun::pulumi:pulumi:Stack::warmrun-${stack}`, type: "pulumi:pulumi:Stack" },
                { urn: `urn:pulumi:${stack}::warmrun::warmrun:index:FileBundle$pulumi-nodejs:dynamic/warmrun:FileBundle::${outs.name}`, type: "pulumi-nodejs:dynamic/warmrun:FileBundle", outputs: outs },
            ],
        },
    };
}

const du = (dir: string) => Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);

describe("npm run gc against a real registry", function () {
    this.timeout(180_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let work: string;
    const keys: ArtifactOutputs[] = [];
    let states: string;
    let reclaimable = 0;
    /** gc with this test's journal and gc state file. */
    const gcHere = (args: string[]) => gc([...args, "--journal", path.join(work, "journal.jsonl"), "--seen-file", path.join(work, "gc-seen.json")]);

    before(async () => {
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        work = tempDir("warmrun-gc-");
        process.env.WARMRUN_JOURNAL = path.join(work, "journal.jsonl");
        // Five builds of one artifact, each with a new input (and its own 64 KiB of content).
        for (let i = 1; i <= 5; i++) {
            const root = path.join(work, `input-${i}`);
            writeTree(root, { "notes.txt": `build ${i}\n` });
            fs.writeFileSync(path.join(root, "blob.bin"), randomBytes(256 << 10));
            const material = await bundleKeyMaterial("notes", { root }, {}, new StatCache());
            const key = computeKey(material);
            const inputs: ArtifactInputs = { name: "notes", kind: BUNDLE_KIND, key, registry: { host: registry.host, insecure: true }, repository: "gc/notes", tag: shortKey(key), aliasTags: i === 5 ? ["latest"] : [], inputs: inputSummary(material), build: { root, params: {}, upstream: {} } };
            keys.push(await createArtifact(inputs, { kinds: buildModuleOf }));
            await new Promise((r) => setTimeout(r, 20));
        }
        // Stack dev is at the newest key, stack ci still at the second.
        fs.writeFileSync(path.join(work, "dev.json"), JSON.stringify(exportOf("dev", keys[4])));
        fs.writeFileSync(path.join(work, "ci.json"), JSON.stringify(exportOf("ci", keys[1])));
        states = `${path.join(work, "dev.json")},${path.join(work, "ci.json")}`;
    });
    after(async () => {
        delete process.env.WARMRUN_JOURNAL;
        await registry?.stop();
        removeTempDirs();
    });

    const plan = (r: GcRun) => {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.json.plans.length, 1);
        return r.json.plans[0];
    };
    const digests = (list: any[]) => list.map((d) => d.digest).sort();

    it("a first dry run with the default 24 h grace keeps everything (gc has just seen every tag), deletes nothing, and records the sightings", async () => {
        const r = await gcHere(["--state-file", states, "--json"]);
        const p = plan(r);
        assert.equal(r.json.dryRun, true);
        assert.deepEqual(digests(p.keep), digests(keys));
        assert.ok(p.keep.every((d: any) => d.reasons.includes("first seen by this gc run: kept for the grace period (24 h)")), JSON.stringify(p.keep));
        assert.deepEqual(p.delete, []);
        assert.equal((await client.listTags("gc/notes")).length, 6);
        const seen = JSON.parse(fs.readFileSync(path.join(work, "gc-seen.json"), "utf8"));
        assert.equal(Object.keys(seen.tags).length, 6, "one sighting per tag (5 keys and latest)");
        await new Promise((r) => setTimeout(r, 1100));
        const again = plan(await gcHere(["--state-file", states, "--json"]));
        assert.ok(again.keep.every((d: any) => d.reasons.some((x: string) => /^first seen by gc \d+ s ago: within the grace period \(24 h\)$/.test(x))), JSON.stringify(again.keep));
    });

    it("--keep 2 --grace 0 dry run: the two newest, what the stacks pin, and latest are kept; the rest listed with their reclaimable bytes", async () => {
        const r = await gcHere(["--state-file", states, "--keep", "2", "--grace", "0", "--json"]);
        const p = plan(r);
        const why = Object.fromEntries(p.keep.map((d: any) => [d.digest, d.reasons]));
        assert.deepEqual(Object.keys(why).sort(), digests([keys[1], keys[3], keys[4]]));
        assert.deepEqual(why[keys[1].digest], ["pinned by the state of stack ci", `tag ${keys[1].tag} is in the state of stack ci`]);
        assert.deepEqual(why[keys[3].digest], ["one of the newest 2 keys"]);
        assert.deepEqual(why[keys[4].digest], ["pinned by the state of stack dev", `tag ${keys[4].tag} is in the state of stack dev`, "tag latest is in the state of stack dev", "alias latest", "one of the newest 2 keys"]);
        assert.deepEqual(digests(p.delete), digests([keys[0], keys[2]]));
        // Oracle: the registry's own manifests of the deleted keys, blobs no kept manifest lists.
        const blobs = async (d: string) => ((await client.getManifest("gc/notes", d))!.json.layers as any[]).concat([(await client.getManifest("gc/notes", d))!.json.config]);
        const kept = new Set((await Promise.all([keys[1], keys[3], keys[4]].map((k) => blobs(k.digest)))).flat().map((b) => b.digest));
        const gone = new Map((await Promise.all([keys[0], keys[2]].map((k) => blobs(k.digest)))).flat().filter((b) => !kept.has(b.digest)).map((b) => [b.digest, b.size]));
        const expected = [...gone.values()].reduce((s, n) => s + n, 0);
        assert.ok(expected > 0);
        assert.equal(p.reclaimableBytes, expected);
        reclaimable = expected;
        // The text report says the same, per artifact.
        const text = await gcHere(["--state-file", states, "--keep", "2", "--grace", "0"]);
        assert.match(text.stdout, new RegExp(`notes \\(${registry.host.replace(/\./g, "\\.")}/gc/notes\\): keep 3, delete 2, .* reclaimable`));
        assert.match(text.stdout, /keep +\w{12} +(latest, \w{24}|\w{24}, latest) +\S+ \S+ \(journal, \d+ s old\): pinned by the state of stack dev/);
        assert.match(text.stdout, new RegExp(`delete +\\w{12} +${keys[0].tag}`));
        assert.match(text.stdout, new RegExp(`total: keep 3, would delete 2 manifests; .* \\(${expected} bytes\\) of blobs become reclaimable`));
        assert.equal((await client.listTags("gc/notes")).length, 6, "a dry run deletes nothing");
    });

    it("--yes deletes exactly those manifests by digest; what is kept still resolves", async () => {
        const r = await gcHere(["--state-file", states, "--keep", "2", "--grace", "0", "--json", "--yes"]);
        assert.equal(plan(r).delete.length, 2);
        assert.equal(r.json.deleted, 2);
        for (const k of [keys[0], keys[2]]) {
            assert.equal(await client.getManifest("gc/notes", k.digest), undefined, `${k.tag} deleted`);
            assert.equal(await client.resolveTag("gc/notes", k.tag), undefined);
        }
        for (const k of [keys[1], keys[3], keys[4]]) assert.equal(await client.resolveTag("gc/notes", k.tag), k.digest, `${k.tag} kept`);
        assert.equal(await client.resolveTag("gc/notes", "latest"), keys[4].digest);
        // A pull of a kept key, by an oracle that is not warmrun.
        const copy = path.join(work, "pulled");
        execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${registry.host}/gc/notes:${keys[1].tag}`, `dir:${copy}`], { stdio: "ignore" });
        assert.ok(fs.readdirSync(copy).includes("manifest.json"));
        const again = plan(await gcHere(["--state-file", states, "--keep", "2", "--grace", "0", "--json"]));
        assert.deepEqual(again.delete, [], "a second run finds nothing more to delete");
    });

    it("the registry's blob garbage collection (stopped) frees at least the reclaimable bytes on disk", async () => {
        const before = du(registry.dataDir);
        await registry.stop();
        execFileSync("docker-registry", ["garbage-collect", registry.configFile], { stdio: "ignore" });
        const after = du(registry.dataDir);
        console.log(`      registry data (du -sb): ${before} -> ${after} bytes, freed ${before - after}; the dry run said ${reclaimable} reclaimable`);
        assert.ok(reclaimable > 2 * (256 << 10), "two random 256 KiB layers");
        assert.ok(before - after >= reclaimable, `freed ${before - after} bytes, ${reclaimable} reclaimable`);
        registry = await startRegistryOn(registry);
        client = new RegistryClient({ host: registry.host, insecure: true });
        for (const k of [keys[1], keys[3], keys[4]]) {
            const m = await client.getManifest("gc/notes", k.digest);
            for (const l of m!.json.layers) assert.ok(await client.blobExists("gc/notes", l.digest), "kept blobs survive the collection");
        }
    });

    it("a registry that refuses deletes: one message naming its retention feature, exit 4, nothing deleted", async () => {
        const strict = await startRegistry({ deleteEnabled: false });
        try {
            const c = new RegistryClient({ host: strict.host, insecure: true });
            const root = path.join(work, "input-strict");
            writeTree(root, { "a.txt": "old\n" });
            const material = await bundleKeyMaterial("notes", { root }, {}, new StatCache());
            const key = computeKey(material);
            const outs = await createArtifact({ name: "notes", kind: BUNDLE_KIND, key, registry: { host: strict.host, insecure: true }, repository: "gc/notes", tag: shortKey(key), aliasTags: [], inputs: inputSummary(material), build: { root, params: {}, upstream: {} } }, { kinds: buildModuleOf, journal: false });
            const other = { ...outs, ref: `${strict.host}/gc/notes:unused`, pinned: `${strict.host}/gc/notes@sha256:${"0".repeat(64)}` };
            fs.writeFileSync(path.join(work, "strict.json"), JSON.stringify(exportOf("strict", other)));
            const r = await gcHere(["--state-file", path.join(work, "strict.json"), "--keep", "0", "--grace", "0", "--yes"]);
            assert.equal(r.code, 4, r.stderr);
            assert.equal(r.stderr.trim().split("\n").length, 1, "one message");
            assert.match(r.stderr, /^gc: registry 127\.0\.0\.1:\d+ refuses manifest deletes \(405\): nothing was deleted\. Use the registry's own retention feature .*REGISTRY_STORAGE_DELETE_ENABLED=true/);
            assert.equal(await c.resolveTag("gc/notes", outs.tag), outs.digest);
        } finally {
            await strict.stop();
        }
    });

    it("an SBOM attached through the referrers tag schema is kept with its manifest and deleted with it", async () => {
        const outs: ArtifactOutputs[] = [];
        const sboms: string[] = [];
        for (const i of [1, 2]) {
            const root = path.join(work, `sbom-input-${i}`);
            writeTree(root, { "a.txt": `sbom ${i}\n` });
            const material = await bundleKeyMaterial("described", { root }, {}, new StatCache());
            const key = computeKey(material);
            const o = await createArtifact({ name: "described", kind: BUNDLE_KIND, key, registry: { host: registry.host, insecure: true }, repository: "gc/described", tag: shortKey(key), aliasTags: [], inputs: inputSummary(material), build: { root, params: {}, upstream: {} } }, { kinds: buildModuleOf });
            const m = (await client.getManifest("gc/described", o.digest))!;
            const attached = await pushReferrer(client, "gc/described", { mediaType: m.mediaType, digest: o.digest, size: m.body.length }, { artifactType: "application/spdx+json", mediaType: "application/spdx+json", data: Buffer.from(`{"spdxVersion":"SPDX-2.3","n":${i}}`), title: "sbom.spdx.json", annotations: {} });
            assert.equal(attached.referrersApi, false, "the distribution registry has no referrers API: the tag schema is used");
            outs.push(o);
            sboms.push(attached.digest);
        }
        fs.writeFileSync(path.join(work, "described.json"), JSON.stringify(exportOf("dev", outs[1])));
        const r = await gcHere(["--state-file", path.join(work, "described.json"), "--keep", "0", "--grace", "0", "--json", "--yes"]);
        const p = plan(r);
        const tagOf = (o: ArtifactOutputs) => `sha256-${o.digest.slice(7)}`;
        assert.deepEqual(p.keep.find((d: any) => d.tags.includes(tagOf(outs[1])))?.reasons, [`referrers of ${outs[1].digest.slice(7, 19)}, which is kept`]);
        assert.equal(r.json.deleted, 3, "the first key, its referrers index and the SBOM it lists");
        // The registry's own answers.
        assert.equal(await client.getManifest("gc/described", outs[0].digest), undefined);
        assert.equal(await client.resolveTag("gc/described", tagOf(outs[0])), undefined);
        assert.equal(await client.getManifest("gc/described", sboms[0]), undefined);
        assert.equal((await listReferrers(client, "gc/described", outs[1].digest)).map((d) => d.digest).join(), sboms[1], "the kept key's SBOM is still found");
    });

    it("a live lease is kept while its runner builds; an expired one is deleted", async () => {
        const now = new Date();
        const live = newLease("c".repeat(64), "runner-a pid 1", 600, now);
        const dead = newLease("d".repeat(64), "runner-b pid 2", 300, new Date(now.getTime() - 3600_000));
        await writeLease(client, "gc/notes", "c".repeat(24), live);
        await writeLease(client, "gc/notes", "d".repeat(24), dead);
        const r = await gcHere(["--state-file", states, "--keep", "2", "--grace", "0", "--json", "--yes"]);
        const p = plan(r);
        assert.deepEqual(p.keep.find((d: any) => d.tags.includes(leaseTag("c".repeat(24))))?.reasons, [`a live lease: runner-a pid 1 builds this key until ${live.expires.toISOString()}`]);
        assert.deepEqual(p.delete.map((d: any) => d.tags), [[leaseTag("d".repeat(24))]]);
        assert.equal((await readLease(client, "gc/notes", "c".repeat(24)))?.token, live.token, "the live lease is still there");
        assert.equal(await readLease(client, "gc/notes", "d".repeat(24)), undefined, "the expired one is gone");
    });

    it("bad arguments are one usage error", async () => {
        const r = await gcHere(["--grace", "soon", "--state-file", states]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--grace soon is not a duration: write e\.g\. 24h, 90m, 7d or 0/);
    });
});

/** The same registry (data and port) started again after a stop. */
async function startRegistryOn(old: TestRegistry): Promise<TestRegistry> {
    const { spawn } = await import("child_process");
    const proc = spawn("docker-registry", ["serve", old.configFile], { stdio: "ignore", env: { ...process.env, REGISTRY_STORAGE_DELETE_ENABLED: "true" } });
    for (let i = 0; i < 100; i++) {
        try {
            if ((await fetch(`http://${old.host}/v2/`)).ok) break;
        } catch {
            /* starting */
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return { ...old, stop: () => new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : (proc.once("exit", () => resolve()), proc.kill("SIGTERM")))) };
}
