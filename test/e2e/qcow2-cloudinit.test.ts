// End-to-end on the real engine: a debootstrap base image becomes a qcow2 containerDisk in a real
// registry, `npm run qcow2 -- get` restores it byte for byte, a cloud-init ISO is written with its
// keys kept secret, a second up changes nothing, and bad input fails clearly with nothing pushed.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { execFile, execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { requireTools, ext4List, ext4Cat } from "../support/tools";
import { readJournal } from "../../components/core/journal";
import { RegistryClient } from "../../components/oci/registry";
import { computeKey, shortKey } from "../../components/core/keys";
import { rootfsBuildSpec, rootfsKeyMaterial } from "../../components/kinds/debianRootfs/plan";

const ROOTFS_FIELDS = { suite: "trixie", packages: ["ca-certificates"] };

/**
 * The dev stack's registry (127.0.0.1:5000, data under the warmrun cache) may hold this very
 * rootfs, by key: copy it in so a warm machine skips debootstrap; otherwise the up builds it.
 */
async function seedRootfsFromDevRegistry(dst: RegistryClient, repository: string, scratch: string): Promise<boolean> {
    const spec = rootfsBuildSpec(ROOTFS_FIELDS);
    const tag = shortKey(computeKey(rootfsKeyMaterial(spec, {})));
    const src = new RegistryClient({ host: "127.0.0.1:5000", insecure: true });
    const m = await src.getManifest("warmrun/debian-rootfs", tag).catch(() => undefined);
    if (!m) return false;
    for (const blob of [m.json.config, ...m.json.layers]) {
        const file = path.join(scratch, blob.digest.slice(7));
        await src.downloadBlob("warmrun/debian-rootfs", blob.digest, file);
        await dst.pushBlob(repository, { digest: blob.digest, size: blob.size, file });
        fs.rmSync(file);
    }
    await dst.putManifest(repository, tag, m.mediaType, m.body);
    return true;
}

const KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE2eTestOnlyPrivateKeyMaterialFromAFile\n-----END PRIVATE KEY-----\n";
const CONFIG_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIConfigGivenSecretKeyTextThatMustNeverLeak0123456789\n-----END EC PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBagentcert\n-----END CERTIFICATE-----\n";

function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = PROJECT_ROOT): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, output: stdout + stderr }));
    });
}

describe("Qcow2Image and CloudInitIso on the real engine", function () {
    this.timeout(600_000);
    let registry: TestRegistry;
    let client: RegistryClient;
    let session: EngineSession;
    let work: string;
    let journal: string;
    const logs: string[] = [];

    const stackConfig = (artifacts: Record<string, unknown>) => ({
        config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:cacheDir": path.join(work, "cache"), "warmrun:artifacts": artifacts },
    });

    before(async () => {
        engineDir();
        requireTools(["debootstrap", "mke2fs", "qemu-img", "debugfs", "xorriso"]);
        registry = await startRegistry();
        client = new RegistryClient({ host: registry.host, insecure: true });
        work = tempDir("warmrun-e2e-qcow2-");
        journal = path.join(work, "journal.jsonl");
        writeTree(work, { "pki/agent.crt": CERT, "pki/agent.key": KEY, "pki/ca.crt": CERT, "extra/hello.txt": "hello\n" });
        const configFile = path.join(work, "Pulumi.qcow2.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify(
                stackConfig({
                    "debian-rootfs": { kind: "DebianRootfs", ...ROOTFS_FIELDS },
                    disk: { kind: "Qcow2Image", upstream: ["debian-rootfs"], size: "1G", diskPath: "/qcow2/disk.qcow2" },
                    seed: {
                        kind: "CloudInitIso",
                        caCertificate: path.join(work, "pki/ca.crt"),
                        certificates: { "/etc/flightctl/certs/client.crt": path.join(work, "pki/agent.crt") },
                        keys: { "/etc/flightctl/certs/client.key": path.join(work, "pki/agent.key") },
                        agentConfig: { "enrollment-service": { service: { server: "https://api.example.com:7443" } } },
                        rpms: ["flightctl-agent"],
                        service: "flightctl-agent.service",
                        extraDir: path.join(work, "extra"),
                        push: true,
                    },
                }),
            ),
        );
        const warm = await seedRootfsFromDevRegistry(client, "e2e/debian-rootfs", work);
        console.log(`      debian-rootfs: ${warm ? "copied from the dev registry's cache" : "not cached, the up runs debootstrap"}`);
        session = new EngineSession(work, "qcow2", configFile, { WARMRUN_JOURNAL: journal });
        await session.init();
        // A private key given as config, set the way the README says (--path --secret).
        const set = await run(
            "pulumi",
            ["config", "set", "--path", "--secret", "--stack", "qcow2", "--cwd", PROJECT_ROOT, "--config-file", configFile, 'warmrun:artifacts.seed.secretFiles["/etc/flightctl/certs/enrollment.key"]', "--", CONFIG_KEY],
            session.env,
        );
        assert.equal(set.code, 0, set.output);
        assert.ok(!fs.readFileSync(configFile, "utf8").includes("ConfigGivenSecretKeyText"), "the config file holds ciphertext");
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("up: base image -> qcow2 containerDisk (base-qcow2-<key>, alias base-qcow2-<git-sha>) and the cloud-init ISO", async () => {
        const r = await session.run(["up", "--yes", "--skip-preview", "--diff"]);
        logs.push(r.stdout, r.stderr);
        const entries = readJournal(journal);
        const built = entries.filter((e) => e.action === "build");
        console.log(`      ${entries.map((e) => `${e.artifact} ${e.action}${e.buildSeconds ? ` ${e.buildSeconds}s` : ""}`).join(", ")}`);
        assert.deepEqual(built.map((e) => e.artifact).filter((a) => a !== "debian-rootfs").sort(), ["disk", "seed"]);
        assert.equal(entries.filter((e) => e.artifact === "debian-rootfs").length, 1, "the base image built or adopted once");
        const out = (await session.outputs()).outputs;
        const tag = out.disk.ref.split(":").pop();
        assert.equal(tag, `base-qcow2-${out.disk.key.slice(0, 24)}`);
        const shortSha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: PROJECT_ROOT, encoding: "utf8" }).trim();
        assert.equal(await client.resolveTag("e2e/disk", `base-qcow2-${shortSha}`), out.disk.digest, "commit alias");
        const diskBuild = built.find((e) => e.artifact === "disk")!;
        assert.equal(diskBuild.downloads!.count, 1, "one layer of the base image fetched");
    });

    it("npm run qcow2 -- get restores the disk whose sha256 the build recorded; its ext4 holds the base image's files", async () => {
        const out = (await session.outputs()).outputs;
        const file = path.join(work, "bin/output/qcow2/disk.qcow2");
        const started = Date.now();
        const got = await run("npm", ["run", "--silent", "qcow2", "--", "get", "--stack", "qcow2"], { ...session.env, QCOW2_FILE: file });
        console.log(`      get: ${((Date.now() - started) / 1000).toFixed(1)}s, ${fs.statSync(file).size} bytes`);
        assert.equal(got.code, 0, got.output);
        const manifest = await client.getManifest("e2e/disk", out.disk.digest);
        assert.equal(`sha256:${sha256File(file)}`, manifest!.json.annotations["dev.warmrun.disk-sha256"]);
        assert.equal(manifest!.json.annotations["dev.warmrun.disk-path"], "/qcow2/disk.qcow2");

        const raw = path.join(work, "disk.raw");
        execFileSync("qemu-img", ["convert", "-O", "raw", file, raw]);
        // The base image's /etc, from its own layer, equals the ext4's /etc.
        const base = await client.getManifest("e2e/debian-rootfs", out["debian-rootfs"].digest);
        const layer = path.join(work, "base.tar.gz");
        await client.downloadBlob("e2e/debian-rootfs", base!.json.layers[0].digest, layer);
        const inLayer = execFileSync("tar", ["-tzf", layer], { encoding: "utf8", maxBuffer: 64 << 20 })
            .split("\n")
            .filter((n) => /^\.\/etc\/[^/]+\/?$/.test(n))
            .map((n) => n.replace(/^\.\/etc\//, "").replace(/\/$/, ""))
            .sort();
        assert.ok(inLayer.length > 20);
        assert.deepEqual(ext4List(raw, "/etc").sort(), inLayer);
        assert.match(ext4Cat(raw, "/usr/lib/os-release"), /VERSION_CODENAME=trixie/);
        fs.rmSync(raw);

        // A key the registry does not hold: exit 1, so `make` falls back to a build.
        const miss = await run("npm", ["run", "--silent", "qcow2", "--", "pull", "base-qcow2-0000000000000000000000ff", path.join(work, "miss.qcow2")], {
            ...session.env,
            QCOW2_CACHE_IMAGE: `${registry.host}/e2e/disk`,
        });
        assert.equal(miss.code, 1, miss.output);
        assert.ok(!fs.existsSync(path.join(work, "miss.qcow2")));
        const forced = await run("npm", ["run", "--silent", "qcow2", "--", "get", "force", "--stack", "qcow2"], session.env);
        assert.equal(forced.code, 1);
    });

    it("the ISO is a 0600 file (also pushed as an OCI artifact) whose outputs are path, sha256 and key; it reads back as cidata with the configured documents", async () => {
        const seed = (await session.outputs()).outputs.seed;
        assert.equal(fs.statSync(seed.path).mode & 0o777, 0o600);
        assert.equal(seed.sha256, sha256File(seed.path));
        // Pushed too (push: true): a one-layer OCI artifact whose layer is the ISO itself.
        assert.equal(seed.ref, `${registry.host}/e2e/seed:${seed.key.slice(0, 24)}`);
        const m = await client.getManifest("e2e/seed", seed.digest);
        assert.equal(m!.json.artifactType, "application/vnd.warmrun.cloud-init-iso.v1");
        assert.equal(m!.json.layers[0].digest, `sha256:${seed.sha256}`);
        const into = path.join(work, "iso");
        const info = execFileSync("xorriso", ["-indev", seed.path, "-pvd_info"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        assert.match(info, /Volume Id\s*:\s*cidata/);
        execFileSync("xorriso", ["-osirrox", "on", "-indev", seed.path, "-extract", "/", into], { stdio: "ignore" });
        const ud = YAML.parse(fs.readFileSync(path.join(into, "user-data"), "utf8"));
        const byPath = Object.fromEntries(ud.write_files.map((f: any) => [f.path, f]));
        assert.equal(byPath["/etc/flightctl/certs/enrollment.key"].content, CONFIG_KEY);
        assert.equal(byPath["/etc/flightctl/certs/client.key"].content, KEY);
        assert.deepEqual(ud.runcmd, [["dnf", "install", "-y", "flightctl-agent"], ["systemctl", "enable", "--now", "flightctl-agent.service"]]);
        assert.match(YAML.parse(fs.readFileSync(path.join(into, "meta-data"), "utf8"))["instance-id"], /^iid-warmrun-[0-9a-f]{20}$/);
        assert.equal(fs.readFileSync(path.join(into, "config/hello.txt"), "utf8"), "hello\n");
        fs.rmSync(into, { recursive: true, force: true });
    });

    it("a second up has no changes", async () => {
        const before = readJournal(journal).length;
        const r = await session.run(["up", "--yes", "--expect-no-changes", "--diff"]);
        logs.push(r.stdout, r.stderr);
        assert.equal(readJournal(journal).length, before, "nothing built or adopted");
    });

    it("the private keys appear in no state file, stack output or log", async () => {
        const stateFiles = execFileSync("find", [path.join(work, "state"), "-type", "f"], { encoding: "utf8" }).trim().split("\n");
        assert.ok(stateFiles.some((f) => f.endsWith("qcow2.json")), stateFiles.join(", "));
        const plainOutputs = await session.run(["stack", "output", "--json"], { withConfig: false });
        const texts: Record<string, string> = {
            ...Object.fromEntries(stateFiles.map((f) => [f, fs.readFileSync(f, "utf8")])),
            "stack output --json": plainOutputs.stdout,
            "engine output of up": logs.join("\n"),
            journal: fs.readFileSync(journal, "utf8"),
        };
        for (const [where, text] of Object.entries(texts)) {
            for (const secret of ["ConfigGivenSecretKeyTextThatMustNeverLeak", "TestOnlyPrivateKeyMaterialFromAFile", "MIIBagentcert"]) {
                assert.ok(!text.includes(secret), `${secret} found in ${where}`);
            }
        }
    });

    it("bad input fails clearly and pushes nothing: missing certificate, user-data that is not YAML (at preview), a disk too small (at up)", async () => {
        const cases: [string, Record<string, unknown>, RegExp][] = [
            ["nocert", { seed: { kind: "CloudInitIso", certificates: { "/etc/x.crt": path.join(work, "pki/missing.crt") } } }, /warmrun:artifacts\.seed\.certificates\["\/etc\/x\.crt"\]: file .*missing\.crt does not exist/],
            ["badyaml", { seed: { kind: "CloudInitIso", userData: "runcmd: [unclosed" } }, /warmrun:artifacts\.seed\.userData is not valid YAML/],
        ];
        for (const [stack, artifacts, message] of cases) {
            const cfg = path.join(work, `Pulumi.${stack}.yaml`);
            fs.writeFileSync(cfg, YAML.stringify(stackConfig(artifacts)));
            const other = new EngineSession(work, stack, cfg, { WARMRUN_JOURNAL: journal });
            await other.init();
            const r = await other.run(["preview"], { allowFailure: true });
            assert.notEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, message);
            assert.doesNotMatch(r.stdout + r.stderr, /\.ts:\d+:\d+/, "no stack trace");
        }
        const cfg = path.join(work, "Pulumi.small.yaml");
        fs.writeFileSync(cfg, YAML.stringify(stackConfig({ "debian-rootfs": { kind: "DebianRootfs", ...ROOTFS_FIELDS }, tiny: { kind: "Qcow2Image", upstream: ["debian-rootfs"], size: "64M" } })));
        const small = new EngineSession(work, "small", cfg, { WARMRUN_JOURNAL: journal });
        await small.init();
        const r = await small.run(["up", "--yes", "--skip-preview"], { allowFailure: true });
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /tiny: the image's root tree needs about \d+ MiB, more than the disk size 64M: raise warmrun:artifacts\.tiny\.size/);
        assert.deepEqual(await client.listTags("e2e/tiny"), []);
    });
});
