// End-to-end, real engine and real QEMU: the VM flow a CI job runs. `pulumi up` of the dev stack's
// bootable disk (debian-rootfs -> vm-guest -> debian-disk with kernelBoot; adopted from the local
// registry when it holds the key, built otherwise) and a cloud-init seed (a CA, a certificate, a
// key, agent config, a registry setting, a package from a local repository on the seed, a service
// to enable); then `npm run vm -- boot`, and the guest's disk read back with debugfs: the seed was
// applied, cloud-init reported no errors, and the cached disk is unchanged.
//
// The chain's entries are the dev stack's (Pulumi.dev.yaml), so their keys and tags are its own on
// the local registry (127.0.0.1:5000, started here when it is not serving, and stopped again).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { execFile, execFileSync } from "child_process";
import YAML from "yaml";
import { parse as parseToml } from "smol-toml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { devRegistryServing } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { requireTools } from "../support/tools";
import { readJournal } from "../../components/core/journal";
import { RegistryClient } from "../../components/oci/registry";

const REGISTRY = "127.0.0.1:5000";
const AGENT_CONFIG = { "enrollment-service": { service: { server: "https://api.example.com:7443" }, "enrollment-ui-endpoint": "https://ui.example.com" }, "spec-fetch-interval": "0m10s" };
const PROBE_UNIT = `[Unit]
Description=warmrun probe: the seed's package and service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'mkdir -p /var/lib/warmrun-probe && echo started >/var/lib/warmrun-probe/started'
[Install]
WantedBy=multi-user.target
`;

function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
        );
    });
}

/** A CA, and a certificate and key it signed, made by openssl. */
function makePki(dir: string): void {
    const ossl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    ossl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=warmrun e2e CA"]);
    ossl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "agent.key", "-out", "agent.csr", "-subj", "/CN=agent"]);
    ossl(["x509", "-req", "-in", "agent.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "agent.crt", "-days", "2"]);
}

/**
 * A one-package apt repository (a flat `./` repository: the .deb by dpkg-deb and its Packages
 * stanza): the package ships a oneshot unit that the seed enables.
 */
function makeRepo(dir: string, scratch: string): void {
    const root = path.join(scratch, "pkg");
    writeTree(root, {
        "DEBIAN/control": "Package: warmrun-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: warmrun tests <tests@warmrun.invalid>\nDescription: the seed's package and service\n",
        "usr/lib/systemd/system/warmrun-probe.service": PROBE_UNIT,
    });
    fs.mkdirSync(dir, { recursive: true });
    const deb = path.join(dir, "warmrun-probe_1.0_all.deb");
    execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb], { stdio: "ignore" });
    const control = fs.readFileSync(path.join(root, "DEBIAN/control"), "utf8");
    fs.writeFileSync(path.join(dir, "Packages"), `${control}Filename: ./${path.basename(deb)}\nSize: ${fs.statSync(deb).size}\nSHA256: ${sha256File(deb)}\n\n`);
}

/** The guest's files, read from the powered-off overlay with debugfs (converted to a raw ext4 once). */
class Guest {
    constructor(readonly raw: string) {}
    stat(file: string): { type: string; mode: number } | undefined {
        try {
            const out = execFileSync("debugfs", ["-R", `stat ${file}`, this.raw], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
            const m = /Type:\s*(\S+)\s+Mode:\s*([0-7]+)/.exec(out);
            return m ? { type: m[1], mode: parseInt(m[2], 8) } : undefined;
        } catch {
            return undefined;
        }
    }
    cat(file: string): string {
        assert.ok(this.stat(file), `the guest has ${file}`);
        return execFileSync("debugfs", ["-R", `cat ${file}`, this.raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 });
    }
}

describe("the VM flow: the cached disk booted with its cloud-init seed (real engine, real QEMU)", function () {
    this.timeout(900_000);
    let session: EngineSession;
    let work: string;
    let journal: string;
    let startedRegistry = false;
    let vmCache: string;
    let outDir: string;
    let guest: Guest;
    // Set when the file's tests start: a describe body runs when mocha loads every file.
    let started = Date.now();

    before(async () => {
        started = Date.now();
        engineDir();
        requireTools(["qemu-system-x86_64", "qemu-img", "debugfs", "xorriso", "dpkg-deb", "openssl", "buildah", "debootstrap", "mke2fs"]);
        startedRegistry = !devRegistryServing();
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "start", "5000"], { stdio: "ignore" });
        work = tempDir("warmrun-vm-");
        journal = path.join(work, "journal.jsonl");
        vmCache = path.join(work, "warmrun-cache");
        outDir = path.join(work, "run");
        makePki(work);
        makeRepo(path.join(work, "seed-extra/repo"), work);
        const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config["warmrun:artifacts"];
        const configFile = path.join(work, "Pulumi.vm.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "warmrun:registry": `${REGISTRY}/warmrun`,
                    "warmrun:builder": "buildah",
                    "warmrun:cacheDir": path.join(work, "cache"),
                    "warmrun:artifacts": {
                        "debian-rootfs": dev["debian-rootfs"],
                        "vm-guest": dev["vm-guest"],
                        "debian-disk": dev["debian-disk"],
                        seed: {
                            kind: "CloudInitIso",
                            caCertificate: path.join(work, "ca.crt"),
                            certificates: { "/etc/flightctl/certs/client.crt": path.join(work, "agent.crt") },
                            keys: { "/etc/flightctl/certs/client.key": path.join(work, "agent.key") },
                            agentConfig: AGENT_CONFIG,
                            registries: { "registry.example.com:5000": { insecure: true } },
                            packages: ["warmrun-probe"],
                            service: "warmrun-probe.service",
                            extraDir: path.join(work, "seed-extra"),
                            // The guest reaches no mirror: its package comes from the repository on the seed
                            // (mounted by bootcmd, before apt is configured), and it powers off when done.
                            userData: YAML.stringify({
                                bootcmd: [["sh", "-c", "mountpoint -q /run/warmrun-seed || { mkdir -p /run/warmrun-seed && mount -o ro LABEL=cidata /run/warmrun-seed; }"]],
                                // No retries of the mirror it cannot reach (apt's default backs off for seconds).
                                apt: { conf: 'Acquire::Retries "0";\n', sources: { "warmrun-seed": { source: "deb [trusted=yes] file:/run/warmrun-seed/config/repo ./" } } },
                                power_state: { mode: "poweroff", condition: true },
                            }),
                        },
                    },
                },
            }),
        );
        session = new EngineSession(work, "vm", configFile, { WARMRUN_JOURNAL: journal, WARMRUN_CACHE: vmCache });
        await session.init();
    });
    after(() => {
        // The boot's console outlives the temporary directory: a failure is read there.
        const consoleLog = outDir && path.join(outDir, "console.log");
        if (consoleLog && fs.existsSync(consoleLog)) {
            const keep = path.join(PROJECT_ROOT, ".warmrun", "vm-boot-e2e-console.log");
            fs.mkdirSync(path.dirname(keep), { recursive: true });
            fs.copyFileSync(consoleLog, keep);
            console.log(`      the boot's console: ${path.relative(PROJECT_ROOT, keep)}`);
        }
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "stop", "5000"]);
        removeTempDirs();
        console.log(`      the whole file took ${Math.round((Date.now() - started) / 1000)} s`);
    });

    it("up: the bootable disk (kernel and initrd in its containerDisk, paths as annotations) and the seed", async () => {
        const t = Date.now();
        await session.run(["up", "--yes", "--skip-preview"]);
        const entries = readJournal(journal);
        console.log(`      up ${Math.round((Date.now() - t) / 1000)} s: ${entries.map((e) => `${e.artifact} ${e.action}${e.buildSeconds ? ` ${e.buildSeconds}s` : ""}`).join(", ")}`);
        assert.deepEqual(entries.map((e) => e.artifact).sort(), ["debian-disk", "debian-rootfs", "seed", "vm-guest"]);
        const disk = (await session.outputs()).outputs["debian-disk"];
        const client = new RegistryClient({ host: REGISTRY, insecure: true });
        const m = await client.getManifest("warmrun/debian-disk", disk.digest);
        const a = m!.json.annotations;
        assert.equal(a["dev.warmrun.kernel-path"], "/boot/vmlinuz");
        assert.equal(a["dev.warmrun.initrd-path"], "/boot/initrd.img");
        assert.equal(a["dev.warmrun.kernel-args"], "root=/dev/vda rw console=ttyS0");
        // The layer's own listing (GNU tar, not warmrun's reader): the disk, the kernel, the initrd.
        const layer = path.join(work, "layer.tar");
        await client.downloadBlob("warmrun/debian-disk", m!.json.layers[0].digest, layer);
        const names = execFileSync("tar", ["-tvf", layer], { encoding: "utf8" });
        for (const f of ["disk/disk.qcow2", "boot/vmlinuz", "boot/initrd.img"]) assert.match(names, new RegExp(`107/107 .* ${f}\\n`), names);
        fs.rmSync(layer);
    });

    it("npm run vm -- boot: restores the disk by key, boots an overlay with the seed, returns when cloud-init is done and the guest powered off", async () => {
        const r = await run("npm", ["run", "--silent", "vm", "--", "boot", "--stack", "vm", "--out", outDir, "--timeout", "480"], session.env);
        fs.writeFileSync(path.join(work, "boot.log"), r.stdout + r.stderr);
        const said = r.stderr.split("\n").filter((l) => l.startsWith("[vm]"));
        console.log(said.map((l) => `      ${l}`).join("\n"));
        assert.equal(r.code, 0, `${said.join("\n")}\n${r.stdout.split("\n").slice(-40).join("\n")}`);
        const done = /cloud-init finished ([\d.]+) s after QEMU started \((kvm|tcg)\); the guest powered off at ([\d.]+) s/.exec(r.stderr);
        assert.ok(done, r.stderr);
        console.log(`      boot: cloud-init done at ${done[1]} s, powered off at ${done[3]} s (${done[2]}); npm run vm -- boot took ${r.seconds.toFixed(1)} s`);
        if (done[2] === "tcg") assert.match(r.stderr, /\[vm\] note: .*software emulation \(TCG\)/, "software emulation is a note");
        assert.match(r.stderr, /cloud-init reported no errors/);
        assert.match(r.stdout, /Cloud-init v\. \S+ finished at .*DataSourceNoCloud/, "the console was streamed");
        assert.ok(fs.readFileSync(path.join(outDir, "console.log"), "utf8").includes("reboot: Power down"), "the guest powered itself off");
        // The overlay's backing file is the cached disk, which kept the sha256 its manifest records.
        const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", path.join(outDir, "overlay.qcow2")], { encoding: "utf8" }));
        const cached = info["backing-filename"] as string;
        assert.ok(cached.startsWith(path.join(vmCache, "vm", "disks")), cached);
        const disk = (await session.outputs()).outputs["debian-disk"];
        const m = await new RegistryClient({ host: REGISTRY, insecure: true }).getManifest("warmrun/debian-disk", disk.digest);
        assert.equal(`sha256:${sha256File(cached)}`, m!.json.annotations["dev.warmrun.disk-sha256"], "the cached disk is pristine");
        const raw = path.join(work, "guest.raw");
        execFileSync("qemu-img", ["convert", "-O", "raw", path.join(outDir, "overlay.qcow2"), raw]);
        guest = new Guest(raw);
    });

    it("the guest applied the seed: CA trusted, certificate 0644 and key 0600, agent config, registries.conf, the package installed and its unit enabled, no cloud-init errors", () => {
        assert.ok(guest, "the guest booted");
        const pem = (text: string) => text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
        const ca = fs.readFileSync(path.join(work, "ca.crt"), "utf8");
        assert.ok(pem(guest.cat("/etc/ssl/certs/ca-certificates.crt")).includes(pem(ca)), "the CA is in the guest's trust bundle");
        for (const [file, from, mode] of [["/etc/flightctl/certs/client.crt", "agent.crt", 0o644], ["/etc/flightctl/certs/client.key", "agent.key", 0o600]] as const) {
            assert.equal(guest.cat(file), fs.readFileSync(path.join(work, from), "utf8"), file);
            assert.equal(guest.stat(file)!.mode & 0o7777, mode, `${file} mode ${guest.stat(file)!.mode.toString(8)}`);
        }
        assert.deepEqual(YAML.parse(guest.cat("/etc/flightctl/config.yaml")), AGENT_CONFIG);
        const registries = parseToml(guest.cat("/etc/containers/registries.conf.d/50-warmrun.conf")) as any;
        assert.deepEqual(JSON.parse(JSON.stringify(registries.registry)), [{ location: "registry.example.com:5000", insecure: true }]);
        assert.match(guest.cat("/var/lib/dpkg/status"), /Package: warmrun-probe\nStatus: install ok installed\n/, "the package module installed it");
        assert.equal(guest.stat("/etc/systemd/system/multi-user.target.wants/warmrun-probe.service")?.type, "symlink", "the unit is enabled");
        assert.equal(guest.cat("/var/lib/warmrun-probe/started"), "started\n", "and it ran");
        const result = JSON.parse(guest.cat("/var/lib/cloud/data/result.json"));
        assert.deepEqual(result.v1.errors, [], JSON.stringify(result));
        assert.match(result.v1.datasource, /NoCloud/);
        const status = JSON.parse(guest.cat("/var/lib/cloud/data/status.json"));
        for (const stage of ["init-local", "init", "modules-config", "modules-final"]) assert.deepEqual(status.v1[stage]?.errors, [], `${stage}: ${JSON.stringify(status.v1[stage])}`);
    });

    it("a guest that does not get there in time: exit 1, the timeout and the console's last lines", async () => {
        const r = await run("npm", ["run", "--silent", "vm", "--", "boot", "--stack", "vm", "--out", path.join(work, "short"), "--timeout", "30", "--quiet"], session.env);
        assert.equal(r.code, 1, r.stderr);
        const m = /\[vm\] vm: the guest did not finish cloud-init within 30 s \((kvm|tcg); it got to: ([a-z -]+)\); (.*)/.exec(r.stderr);
        assert.ok(m, r.stderr);
        const logged = fs.readFileSync(path.join(work, "short", "console.log"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("# qemu"));
        if (logged.length) assert.match(m[3], /^the console's last lines \(all of it in .*console\.log\):$/, r.stderr);
        else assert.match(m[3], /^the console printed nothing/, r.stderr);
        const shown = r.stderr.split("\n").filter((l) => l.startsWith("  | ")).map((l) => l.slice(4));
        if (logged.length) {
            assert.ok(shown.length > 0 && shown.length <= 20, `1 to 20 console lines shown: ${shown.length}`);
            for (const l of shown) assert.ok(logged.some((x) => x.includes(l)), `shown line ${JSON.stringify(l)} is in console.log`);
        }
        assert.doesNotMatch(r.stderr, /\.ts:\d+:\d+/, "no stack trace");
    });
});
