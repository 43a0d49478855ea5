// End-to-end: a PackerAppliance built by a real `packer build` (QEMU builder, software emulation)
// from `pulumi up` on the real engine; a second up starts no packer; a changed provisioner script
// replaces the appliance only; a runner with an empty state adopts it by downloading it; bad input
// fails the preview before any build.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs } from "../support/tmp";
import { readJournal } from "../../components/core/journal";
import { hashFileStream } from "../../components/core/fileset";

const SETUP = "run `npm run setup`";

function requireTool(tool: string): void {
    try {
        execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
        throw new Error(`${tool} is not installed: ${SETUP}`);
    }
}

/** The example's source disk, made once and cached under the warmrun cache by its inputs. */
function sourceDisk(): string {
    return execFileSync("bash", [path.join(PROJECT_ROOT, "examples/appliance/source/make-source-disk.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 900_000 })
        .trim()
        .split("\n")
        .pop() as string; // the script's result is its last line
}

describe("PackerAppliance: packer build from pulumi up (real engine, real packer)", function () {
    this.timeout(900_000);
    let registry: TestRegistry;
    let work: string;
    let journal: string;
    let session: EngineSession;
    let source: string;
    let example: string;

    const seen = { n: 0 };
    const fresh = () => {
        const all = readJournal(journal);
        const out = all.slice(seen.n);
        seen.n = all.length;
        return out;
    };
    const acted = (entries: { action: string; artifact: string }[], action: string) => entries.filter((e) => e.action === action).map((e) => e.artifact).sort();

    function writeConfig(file: string, artifacts: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
        fs.writeFileSync(file, YAML.stringify({ config: { "warmrun:registry": `${registry.host}/e2e`, "warmrun:cacheDir": path.join(work, "cache"), "warmrun:artifacts": artifacts, ...extra } }));
    }

    function appliance(overrides: Record<string, unknown> = {}) {
        return {
            kind: "PackerAppliance",
            template: path.join(example, "appliance.pkr.hcl"),
            sourceFiles: { source_image: path.join(source, "disk.qcow2"), kernel: path.join(source, "vmlinuz"), initrd: path.join(source, "initrd.img") },
            sshKey: true,
            vars: { lab_name: "e2e-lab" },
            vmdk: true,
            ova: true,
            ...overrides,
        };
    }

    before(async () => {
        engineDir();
        for (const tool of ["packer", "qemu-system-x86_64", "qemu-img", "ssh-keygen", "debootstrap", "mke2fs"]) requireTool(tool);
        source = sourceDisk();
        registry = await startRegistry();
        work = tempDir("warmrun-packer-e2e-");
        journal = path.join(work, "journal.jsonl");
        example = path.join(work, "appliance");
        fs.cpSync(path.join(PROJECT_ROOT, "examples/appliance"), example, { recursive: true, filter: (src) => !src.includes(`${path.sep}source`) });
        fs.mkdirSync(path.join(work, "inputs"));
        fs.writeFileSync(path.join(work, "inputs/notes.txt"), "lab notes\n");
        const configFile = path.join(work, "Pulumi.pk.yaml");
        writeConfig(configFile, { lab: appliance(), notes: { kind: "FileBundle", root: path.join(work, "inputs") } });
        session = new EngineSession(work, "pk", configFile, { WARMRUN_JOURNAL: journal });
        await session.init();
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("bad input fails the preview with one clear message, before any build", async () => {
        const cases: { name: string; artifact: Record<string, unknown>; env?: NodeJS.ProcessEnv; expect: RegExp }[] = [];
        const broken = path.join(work, "broken");
        fs.cpSync(example, broken, { recursive: true });
        const brokenTemplate = path.join(broken, "appliance.pkr.hcl");
        fs.writeFileSync(brokenTemplate, fs.readFileSync(brokenTemplate, "utf8").replace(/^(\s*)headless\s*=\s*true$/m, "$1headless = true\n$1no_such_option = true"));
        cases.push({ name: "invalid", artifact: appliance({ template: path.join(broken, "appliance.pkr.hcl") }), expect: /warmrun:artifacts\.lab\.template: `packer validate` rejects appliance\.pkr\.hcl[\s\S]*no_such_option/ });
        cases.push({ name: "novarfile", artifact: appliance({ varFiles: ["does/not/exist.pkrvars.hcl"] }), expect: /warmrun:artifacts\.lab\.varFiles\[0\]: file does\/not\/exist\.pkrvars\.hcl does not exist/ });
        // A PATH with everything the program needs but packer.
        const bin = path.join(work, "nopacker-bin");
        fs.mkdirSync(bin);
        for (const tool of ["node", "sh", "git", "ssh-keygen"]) fs.symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), path.join(bin, tool));
        cases.push({ name: "nopacker", artifact: appliance(), env: { PATH: `${engineDir().dir}:${bin}` }, expect: /warmrun:artifacts\.lab: packer is not installed: run `npm run setup`/ });
        for (const c of cases) {
            const file = path.join(work, `Pulumi.${c.name}.yaml`);
            writeConfig(file, { lab: c.artifact });
            const s = new EngineSession(work, c.name, file, { WARMRUN_JOURNAL: journal });
            await s.init();
            if (c.env) Object.assign(s.env, c.env);
            const r = await s.run(["preview"], { allowFailure: true });
            assert.notEqual(r.code, 0, `${c.name}: preview must fail`);
            assert.match(r.stdout + r.stderr, c.expect, `${c.name}:\n${r.stdout}\n${r.stderr}`);
            assert.doesNotMatch(r.stdout + r.stderr, /at Object\.<anonymous>|\.ts:\d+:\d+/, `${c.name}: no stack trace:\n${r.stdout}\n${r.stderr}`);
        }
        assert.deepEqual(acted(fresh(), "build"), [], "nothing was built");
    });

    it("a. up runs a real packer build, streams its progress, and outputs files, sizes and sha256", async () => {
        const r = await session.run(["up", "--yes", "--skip-preview"]);
        assert.match(r.stdout + r.stderr, /Provisioning with shell script: scripts\/99-cleanup\.sh/, "packer's output reaches the user");
        assert.doesNotMatch(r.stdout + r.stderr, /BEGIN OPENSSH PRIVATE KEY/);
        assert.deepEqual(acted(fresh(), "build"), ["lab", "notes"]);
        const lab = (await session.outputs()).outputs.lab;
        assert.equal(lab.cacheHit, false);
        assert.ok(lab.buildSeconds > 0);
        assert.deepEqual([...lab.details.files].sort(), ["appliance.ova", "appliance.qcow2", "appliance.vmdk"]);
        for (const f of lab.details.files) {
            const abs = path.join(lab.details.outputDir, f);
            assert.equal(fs.statSync(abs).size, lab.details.sizes[f]);
            assert.equal(await hashFileStream(abs), lab.details.sha256[f]);
            assert.equal(fs.readFileSync(`${abs}.sha256`, "utf8"), `${lab.details.sha256[f]}  ${f}\n`);
        }
        const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", path.join(lab.details.outputDir, "appliance.vmdk")], { encoding: "utf8" }));
        assert.equal(info.format, "vmdk");
        assert.equal(info["format-specific"].data["create-type"], "streamOptimized");
        const listing = execFileSync("tar", ["-tf", path.join(lab.details.outputDir, "appliance.ova")], { encoding: "utf8" }).trim().split("\n");
        assert.deepEqual(listing, ["appliance.ovf", "appliance.mf", "appliance.vmdk"], "the OVF descriptor comes first");
        console.log(`      packer appliance: built in ${lab.buildSeconds} s; sizes ${JSON.stringify(lab.details.sizes)}`);
    });

    it("b. a second up has no changes and starts no packer", async () => {
        const r = await session.run(["up", "--yes", "--expect-no-changes"]);
        assert.doesNotMatch(r.stdout + r.stderr, /packer .*build|Provisioning with/);
        assert.deepEqual(fresh(), [], "no build, no adopt");
    });

    it("c. a changed provisioner script replaces the appliance only", async () => {
        fs.appendFileSync(path.join(example, "scripts/04-app.sh"), "echo e2e >/opt/lab/e2e-marker\n");
        const preview = await session.run(["preview", "--json"]);
        const steps = JSON.parse(preview.stdout).steps as any[];
        const replaced = steps.filter((s) => s.op === "replace").map((s) => s.urn.split("::").pop());
        assert.deepEqual(replaced, ["lab"]);
        assert.ok(steps.find((s) => s.op === "replace").replaceReasons.includes('inputs["file:scripts/04-app.sh"]'));
        await session.run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(acted(fresh(), "build"), ["lab"]);
    });

    it("d. a runner with an empty state adopts the appliance from the registry: a download, no build", async () => {
        const file = path.join(work, "Pulumi.other.yaml");
        const otherOut = path.join(work, "other-runner");
        writeConfig(file, { lab: appliance({ outputDir: otherOut }), notes: { kind: "FileBundle", root: path.join(work, "inputs") } });
        const other = new EngineSession(path.join(work, "other"), "other", file, { WARMRUN_JOURNAL: journal });
        await other.init();
        const r = await other.run(["up", "--yes", "--skip-preview"]);
        assert.doesNotMatch(r.stdout + r.stderr, /Provisioning with/);
        const entries = fresh();
        assert.deepEqual(acted(entries, "build"), []);
        assert.deepEqual(acted(entries, "adopt"), ["lab", "notes"]);
        const lab = (await other.outputs()).outputs.lab;
        assert.equal(lab.cacheHit, true);
        assert.equal(lab.downloads.count, 3);
        assert.ok(lab.downloads.bytes > 0);
        const built = (await session.outputs()).outputs.lab;
        assert.deepEqual(lab.details.sha256, built.details.sha256);
        for (const f of lab.details.files) assert.equal(await hashFileStream(path.join(otherOut, f)), lab.details.sha256[f]);
    });
});
