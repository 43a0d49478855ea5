// The README's main command, exactly as written (`npm run up`), on a throwaway state backend:
// it brings the dev stack up against the local registry, and a second run changes nothing.
import { strict as assert } from "assert";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import YAML from "yaml";
import { PROJECT_ROOT, engineDir, EngineSession } from "../support/engine";
import { startRegistry, devRegistryServing } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { readJournal } from "../../components/core/journal";

function npmRun(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        execFile("npm", ["run", ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, output: stdout + stderr });
        });
    });
}

describe("the README's main command: npm run up", function () {
    this.timeout(600_000);
    let env: NodeJS.ProcessEnv;
    let journal: string;
    let startedRegistry = false;

    before(() => {
        engineDir();
        const work = tempDir("warmrun-main-");
        journal = path.join(work, "journal.jsonl");
        startedRegistry = !devRegistryServing();
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${work}`, WARMRUN_JOURNAL: journal };
        delete env.PULUMI_CONFIG_PASSPHRASE;
    });
    after(() => {
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "stop", "5000"]);
        removeTempDirs();
    });

    const DEV_ARTIFACTS = ["ci-scripts", "debian-disk", "debian-rootfs", "rust-base", "rust-deps", "toolchain-config", "vm-guest"];
    /** The tool whose downloads a real build of each dev artifact counts. */
    const DOWNLOADING_TOOL: Record<string, string> = { "debian-rootfs": "debootstrap", "rust-base": "apt", "rust-deps": "cargo", "vm-guest": "apt" };
    const stackOutputs = () =>
        JSON.parse(execFileSync("bash", ["-c", ". scripts/lib.sh && use_engine 2>/dev/null && pulumi stack output --json --stack dev"], { cwd: PROJECT_ROOT, env, encoding: "utf8" }));

    it("brings the dev stack up (rootfs -> base -> deps with buildah), then a second run has no changes", async () => {
        const first = await npmRun(["up", "--", "--skip-preview"], env);
        assert.equal(first.code, 0, first.output);
        const entries = readJournal(journal);
        assert.deepEqual(entries.map((e) => e.artifact).sort(), DEV_ARTIFACTS, "each dev artifact built or adopted once");
        // A fresh registry builds the chain; a warm one (its data outlives runs) adopts it.
        console.log(`      dev stack: ${entries.map((e) => `${e.artifact} ${e.action}${e.buildSeconds ? ` ${e.buildSeconds}s` : ""}`).join(", ")}`);
        // A real build reports what it downloaded (debootstrap's packages, apt-get's, cargo's crates); a hit 0.
        const firstOutputs = stackOutputs();
        for (const e of entries) {
            const d = firstOutputs.outputs[e.artifact].downloads;
            if (e.action === "adopt") assert.deepEqual(d, { count: 0, bytes: 0 }, `${e.artifact} adopted`);
            else if (DOWNLOADING_TOOL[e.artifact]) {
                assert.ok(d.byTool?.[DOWNLOADING_TOOL[e.artifact]]?.count > 0, `${e.artifact} built: ${JSON.stringify(d)}`);
                console.log(`      ${e.artifact} downloaded ${d.count} items, ${d.bytes} bytes`);
            }
        }

        const second = await npmRun(["up", "--", "--expect-no-changes"], env);
        assert.equal(second.code, 0, second.output);
        assert.equal(readJournal(journal).length, DEV_ARTIFACTS.length, "nothing built or adopted the second time");
        const again = stackOutputs();
        for (const name of DEV_ARTIFACTS) assert.deepEqual(again.outputs[name].downloads, { count: 0, bytes: 0 }, `${name} downloaded nothing`);
        assert.deepEqual(again.downloads, { count: 0, bytes: 0 });
    });

    it("inside the deps image, cargo build --offline of the example workspace compiles only its own crates", async () => {
        const outputs = JSON.parse(execFileSync("bash", ["-c", ". scripts/lib.sh && use_engine 2>/dev/null && pulumi stack output --json --stack dev"], { cwd: PROJECT_ROOT, env, encoding: "utf8" }));
        const pinned: string = outputs.outputs["rust-deps"].pinned;
        assert.match(pinned, /^127\.0\.0\.1:5000\/warmrun\/rust-deps@sha256:[0-9a-f]{64}$/);
        const script = [
            "set -e",
            `ctr=$(buildah --storage-driver vfs from --tls-verify=false -q "${pinned}")`,
            'trap \'buildah --storage-driver vfs rm "$ctr" >/dev/null\' EXIT',
            'buildah --storage-driver vfs copy "$ctr" examples/rust-workspace /app >/dev/null',
            'buildah --storage-driver vfs run --isolation chroot "$ctr" -- sh -c "cd /app && cargo build --offline 2>&1"',
        ].join("\n");
        const out = execFileSync("bash", ["-c", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
        const compiled = out.split("\n").filter((l) => /^\s*Compiling /.test(l)).map((l) => l.trim().split(/\s+/)[1]).sort();
        assert.deepEqual(compiled, ["textstats", "textstats-cli"], out);
    });

    it("an image built FROM the rootfs reports apt's downloads in its outputs; the second up reports 0 for every artifact", async () => {
        const rootfs: string = stackOutputs().outputs["debian-rootfs"].pinned;
        const registry = await startRegistry();
        try {
            const work = tempDir("warmrun-downloads-e2e-");
            writeTree(path.join(work, "inputs"), {
                "fetch/Containerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG NONCE\nRUN apt-get update && cd /tmp && apt-get download hello sl && rm -f /tmp/*.deb\n",
                "notes/README.md": "# notes\n",
            });
            const configFile = path.join(work, "Pulumi.dl.yaml");
            fs.writeFileSync(
                configFile,
                YAML.stringify({
                    config: {
                        "warmrun:registry": `${registry.host}/dl`,
                        "warmrun:builder": "buildah",
                        "warmrun:cacheDir": path.join(work, "cache"),
                        "warmrun:artifacts": {
                            // A fresh nonce: a new key, so this build is a real miss on every test run.
                            fetch: { kind: "BaseImage", containerfile: path.join(work, "inputs/fetch/Containerfile"), buildArgs: { BASE_IMAGE: rootfs, NONCE: `${Date.now()}` } },
                            notes: { kind: "FileBundle", root: path.join(work, "inputs/notes") },
                        },
                    },
                }),
            );
            const session = new EngineSession(work, "dl", configFile, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl") });
            await session.init();
            await session.run(["up", "--yes", "--skip-preview"]);
            const first = await session.outputs();
            const fetched = first.outputs.fetch.downloads;
            assert.equal(fetched.byTool.apt.count, 2, JSON.stringify(fetched));
            assert.ok(fetched.bytes > 10_000, JSON.stringify(fetched));
            assert.deepEqual(first.outputs.notes.downloads, { count: 0, bytes: 0 });
            assert.deepEqual(first.downloads, { count: fetched.count, bytes: fetched.bytes });
            console.log(`      fetch built: ${fetched.count} downloads, ${fetched.bytes} bytes`);

            await session.run(["up", "--yes", "--expect-no-changes"]);
            const second = await session.outputs();
            for (const name of ["fetch", "notes"]) assert.deepEqual(second.outputs[name].downloads, { count: 0, bytes: 0 }, `${name} on the second up`);
            assert.deepEqual(second.downloads, { count: 0, bytes: 0 });
            // What the build itself downloaded stays on record.
            assert.deepEqual(second.outputs.fetch.buildDownloads, fetched);
        } finally {
            await registry.stop();
        }
    });
});
