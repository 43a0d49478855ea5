// CloudInitIso's seed, rendered and written by real xorriso: byte-reproducible across
// directories, read back with xorriso to the label and the documents that were configured.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { hashFileSet, StatCache } from "../../components/core/fileset";
import { seedInputs, seedKeyMaterial } from "../../components/kinds/cloudInitIso/plan";
import { CloudInitFields } from "../../components/kinds/cloudInitIso/fields";
import { renderSeed, REGISTRIES_CONF_PATH } from "../../components/kinds/cloudInitIso/seed";
import { lifecycle, writeIso } from "../../components/kinds/cloudInitIso/build";
import { plan } from "../../components/kinds/cloudInitIso/plan";
import { ArtifactInputs, TAG_GONE_REASON } from "../../components/core/lifecycle";
import { RegistryClient } from "../../components/oci/registry";
import { shortKey } from "../../components/core/keys";
import { startRegistry, TestRegistry } from "../support/registry";
import { computeKey } from "../../components/core/keys";
import { requireTools } from "../support/tools";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBCA-test-ca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBCA-agent\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIsecret-key-material\n-----END PRIVATE KEY-----\n";

export function seedProject(root: string): CloudInitFields {
    writeTree(root, {
        "pki/ca.crt": CA,
        "pki/agent.crt": CERT,
        "pki/agent.key": KEY,
        "seed/extra/config.d/10-test.yaml": "level: debug\n",
        "seed/extra/README": "carried on the ISO\n",
    });
    return {
        caCertificate: "pki/ca.crt",
        certificates: { "/etc/flightctl/certs/client-enrollment.crt": "pki/agent.crt" },
        keys: { "/etc/flightctl/certs/client-enrollment.key": "pki/agent.key" },
        agentConfig: { "enrollment-service": { service: { server: "https://api.example.com:7443" } }, "spec-fetch-interval": "0m10s" },
        registries: { "registry.example.com:5000": { insecure: true } },
        rpms: ["flightctl-agent"],
        service: "flightctl-agent.service",
        hostname: "device-1",
        extraDir: "seed/extra",
        userData: "packages: [jq]\nruncmd:\n  - [touch, /var/tmp/extra-ran]\n",
    };
}

async function isoOf(root: string, fields: CloudInitFields, out: string) {
    const seed = await seedInputs("seed", fields, root, (dir) => hashFileSet({ root: path.resolve(root, dir) }, new StatCache()));
    const r = renderSeed(seed);
    const key = computeKey(seedKeyMaterial(r, seed.extraFiles, {}));
    const sha = await writeIso(
        { userData: r.userData, metaData: r.metaData, networkConfig: r.networkConfig, extraFiles: seed.extraFiles.map((f) => ({ path: f.path, from: path.join(root, fields.extraDir!, f.path) })) },
        out,
        "seed",
    );
    return { sha, key, rendered: r };
}

export function readIso(iso: string, into: string): { label: string; files: Record<string, string> } {
    const info = execFileSync("xorriso", ["-indev", iso, "-pvd_info"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const label = /Volume Id\s*:\s*(\S+)/.exec(info)?.[1] ?? "";
    execFileSync("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/", into], { stdio: "ignore" });
    const files: Record<string, string> = {};
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const abs = path.join(d, e.name);
            if (e.isDirectory()) walk(abs);
            else files[path.relative(into, abs)] = fs.readFileSync(abs, "utf8");
        }
    };
    walk(into);
    return { label, files };
}

describe("CloudInitIso seed (real xorriso)", function () {
    this.timeout(60_000);
    before(() => requireTools(["xorriso"]));
    after(removeTempDirs);

    it("the same inputs in two directories give the same ISO sha256, key and instance-id; the file is 0600", async () => {
        const [a, b] = [tempDir("warmrun-seed-a-"), tempDir("warmrun-seed-b-")];
        const one = await isoOf(a, seedProject(a), path.join(a, "out", "seed.iso"));
        const two = await isoOf(b, seedProject(b), path.join(b, "elsewhere", "seed.iso"));
        assert.equal(one.sha, two.sha);
        assert.equal(one.key, two.key);
        assert.equal(fs.statSync(path.join(a, "out", "seed.iso")).mode & 0o777, 0o600);
        // A new config is a new instance.
        const fields = seedProject(b);
        fields.hostname = "device-2";
        const three = await isoOf(b, fields, path.join(b, "third.iso"));
        assert.notEqual(three.sha, one.sha);
        assert.notEqual(three.rendered.instanceId, one.rendered.instanceId);
    });

    it("reads back as label cidata, with user-data, meta-data and network-config that parse to what was configured", async () => {
        const root = tempDir("warmrun-seed-");
        const { rendered } = await isoOf(root, seedProject(root), path.join(root, "seed.iso"));
        const { label, files } = readIso(path.join(root, "seed.iso"), path.join(root, "x"));
        assert.equal(label, "cidata");
        assert.deepEqual(Object.keys(files).sort(), ["config/README", "config/config.d/10-test.yaml", "meta-data", "network-config", "user-data"]);
        assert.ok(files["user-data"].startsWith("#cloud-config\n"));
        const ud = YAML.parse(files["user-data"]);
        assert.deepEqual(ud.ca_certs, { trusted: [CA] });
        const byPath = Object.fromEntries(ud.write_files.map((f: any) => [f.path, f]));
        assert.equal(byPath["/etc/flightctl/certs/client-enrollment.key"].content, KEY);
        assert.equal(byPath["/etc/flightctl/certs/client-enrollment.key"].permissions, "0600");
        assert.equal(byPath["/etc/flightctl/certs/client-enrollment.crt"].content, CERT);
        assert.deepEqual(YAML.parse(byPath["/etc/flightctl/config.yaml"].content), seedProject(tempDir()).agentConfig);
        assert.match(byPath[REGISTRIES_CONF_PATH].content, /location = "registry\.example\.com:5000"\ninsecure = true/);
        assert.deepEqual(ud.runcmd, [["dnf", "install", "-y", "flightctl-agent"], ["systemctl", "enable", "--now", "flightctl-agent.service"], ["touch", "/var/tmp/extra-ran"]]);
        assert.deepEqual(ud.packages, ["jq"]);
        const md = YAML.parse(files["meta-data"]);
        assert.deepEqual(md, { "instance-id": rendered.instanceId, "local-hostname": "device-1" });
        assert.equal(YAML.parse(files["network-config"]).version, 2);
        assert.equal(files["config/config.d/10-test.yaml"], "level: debug\n");
    });

    it("bad input: a missing certificate file, or extra user-data that is not YAML, is a clear error naming the field", async () => {
        const root = tempDir("warmrun-seed-");
        const fields = seedProject(root);
        const hash = (dir: string) => hashFileSet({ root: path.resolve(root, dir) }, new StatCache());
        await assert.rejects(
            seedInputs("seed", { ...fields, certificates: { "/etc/x.crt": "pki/missing.crt" } }, root, hash),
            /warmrun:artifacts\.seed\.certificates\["\/etc\/x\.crt"\]: file pki\/missing\.crt does not exist/,
        );
        await assert.rejects(seedInputs("seed", { ...fields, userData: "runcmd: [unclosed\n  - x: : y" }, root, hash), /warmrun:artifacts\.seed\.userData is not valid YAML/);
        await assert.rejects(seedInputs("seed", { ...fields, userData: "- just\n- a list\n" }, root, hash), /userData must be a YAML map/);
        await assert.rejects(seedInputs("seed", { ...fields, networkConfig: { ethernets: {} } }, root, hash), /networkConfig must be network-config version 2/);
    });
});

describe("CloudInitIso lifecycle (real xorriso, real registry)", function () {
    this.timeout(120000);
    let registry: TestRegistry;
    before(async () => {
        requireTools(["xorriso", "docker-registry"]);
        registry = await startRegistry();
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    async function inputsOf(root: string, push: boolean): Promise<ArtifactInputs> {
        const fields = { ...seedProject(root), push };
        const p = await plan(fields, { name: "seed", where: "warmrun:artifacts.seed", upstream: {}, upstreamNames: [], statCache: new StatCache(), projectRoot: root, cacheDir: path.join(root, ".warmrun"), workDir: path.join(root, ".warmrun", "work"), aliasTags: [], git: { clean: false }, resolveImage: async () => undefined });
        const key = computeKey(p.material);
        return { name: "seed", kind: "CloudInitIso", key, registry: { host: registry.host, insecure: true }, repository: "test/seed", tag: shortKey(key), aliasTags: [], inputs: {}, build: p.build.iso, path: p.build.path };
    }

    for (const push of [false, true]) {
        it(`${push ? "pushed" : "a local file"}: an unchanged seed diffs to no change; a deleted ISO is replaced, and refresh drops it`, async () => {
            const root = tempDir("warmrun-seed-");
            const inputs = await inputsOf(root, push);
            const outs = await lifecycle.create(inputs, () => undefined);
            assert.equal(outs.ref, push ? `${registry.host}/test/seed:${inputs.tag}` : inputs.path);
            assert.ok(!JSON.stringify(outs).includes("secret-key-material"), "outputs never carry the seed");
            assert.deepEqual(lifecycle.diff(outs, inputs).replaces, []);
            assert.equal(lifecycle.diff(outs, inputs).changes, false);
            assert.deepEqual(lifecycle.diff(outs, { ...inputs, build: { ...inputs.build, push: !push } }).replaces, ["push"]);
            assert.deepEqual(await lifecycle.read(outs), outs);
            fs.rmSync(inputs.path!);
            assert.deepEqual(lifecycle.diff(outs, inputs).replaces, ["sha256"]);
            assert.equal(await lifecycle.read(outs), undefined);
        });
    }

    it("a pushed ISO whose tag is gone from the registry is replaced (written and pushed again); a local one ignores the registry", async () => {
        const root = tempDir("warmrun-seed-");
        const local = { ...(await inputsOf(root, false)), tagInRegistry: false };
        const localOuts = await lifecycle.create(local, () => undefined);
        assert.equal(lifecycle.diff(localOuts, local).changes, false, "a file that is not pushed has no tag to lose");

        const inputs = { ...(await inputsOf(root, true)), tagInRegistry: false };
        const outs = await lifecycle.create(inputs, () => undefined);
        assert.equal(outs.tagInRegistry, true, "pushed: its outputs say the tag is there");
        assert.equal(lifecycle.diff(outs, { ...inputs, tagInRegistry: true }).changes, false);
        const client = new RegistryClient({ host: registry.host, insecure: true });
        await client.deleteManifest("test/seed", outs.digest);
        assert.equal(await client.resolveTag("test/seed", inputs.tag), undefined);
        const d = lifecycle.diff(outs, inputs);
        assert.deepEqual([d.changes, d.replaces, d.reason, d.deleteBeforeReplace], [true, ["tagInRegistry"], TAG_GONE_REASON, true]);
        // The engine's replace: delete (same path), then create.
        await lifecycle.delete(outs);
        const again = await lifecycle.create(inputs, () => undefined);
        assert.equal(again.digest, outs.digest, "the same bytes, pushed again");
        assert.equal(await client.resolveTag("test/seed", inputs.tag), outs.digest);
    });
});
