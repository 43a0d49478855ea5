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

    it("brings the dev stack up, then a second run has no changes", async () => {
        const first = await npmRun(["up", "--", "--skip-preview"], env);
        assert.equal(first.code, 0, first.output);
        const touched = readJournal(journal).map((e) => e.artifact).sort();
        assert.deepEqual(touched, ["ci-scripts", "toolchain-config"], "each dev artifact built or adopted once");

        const second = await npmRun(["up", "--", "--expect-no-changes"], env);
        assert.equal(second.code, 0, second.output);
        assert.equal(readJournal(journal).length, 2, "nothing built or adopted the second time");
    });
});
