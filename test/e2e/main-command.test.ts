// The README's main command, exactly as written (`npm run up`), on a throwaway state backend:
// it brings the dev stack up against the local registry, and a second run changes nothing.
import { strict as assert } from "assert";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import { PROJECT_ROOT, engineDir } from "../support/engine";
import { tempDir, removeTempDirs } from "../support/tmp";
import { readJournal } from "../../components/journal";

function npmRun(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        execFile("npm", ["run", ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? ((err as any).code as number) ?? 1 : 0, output: stdout + stderr });
        });
    });
}

function registryServing(): boolean {
    try {
        execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "status", "5000"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
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
        startedRegistry = !registryServing();
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${work}`, WARMRUN_JOURNAL: journal };
        delete env.PULUMI_CONFIG_PASSPHRASE;
    });
    after(() => {
        if (startedRegistry) execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/registry.sh"), "stop", "5000"]);
        removeTempDirs();
    });

    const DEV_ARTIFACTS = ["ci-scripts", "debian-disk", "debian-rootfs", "rust-base", "rust-deps", "toolchain-config"];

    it("brings the dev stack up (rootfs -> base -> deps with buildah), then a second run has no changes", async () => {
        const first = await npmRun(["up", "--", "--skip-preview"], env);
        assert.equal(first.code, 0, first.output);
        const entries = readJournal(journal);
        assert.deepEqual(entries.map((e) => e.artifact).sort(), DEV_ARTIFACTS, "each dev artifact built or adopted once");
        // A fresh registry builds the chain; a warm one (its data outlives runs) adopts it.
        console.log(`      dev stack: ${entries.map((e) => `${e.artifact} ${e.action}${e.buildSeconds ? ` ${e.buildSeconds}s` : ""}`).join(", ")}`);

        const second = await npmRun(["up", "--", "--expect-no-changes"], env);
        assert.equal(second.code, 0, second.output);
        assert.equal(readJournal(journal).length, DEV_ARTIFACTS.length, "nothing built or adopted the second time");
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
});
