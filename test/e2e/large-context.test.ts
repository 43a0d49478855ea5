// End-to-end: a FileBundle of 3,000 files on the real engine. The state keeps a bounded summary of its
// inputs (one entry per directory), and the preview still names the file that changed, from the file
// lists kept in the cache directory; without them it names the directory.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { EngineSession, engineDir } from "../support/engine";
import { startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs } from "../support/tmp";
import { reportRows } from "../../components/report/cacheReport";
import { DIRECTORY_ENTRY_LIMIT } from "../../components/core/fileSummary";

const FILES = 3_000;
const PER_DIR = 100;

describe("a 3,000-file context on the real engine: bounded state, files named in the preview", function () {
    this.timeout(300_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let root: string;
    let cacheDir: string;

    before(async () => {
        engineDir();
        registry = await startRegistry();
        work = tempDir("warmrun-e2e-large-");
        root = path.join(work, "inputs", "big");
        for (let i = 0; i < FILES; i++) {
            const dir = path.join(root, "src", `d${Math.floor(i / PER_DIR)}`);
            if (i % PER_DIR === 0) fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, `f${i}.txt`), `file ${i}\n`);
        }
        fs.writeFileSync(path.join(root, "README"), "a large context\n");
        cacheDir = path.join(work, "cache");
        const configFile = path.join(work, "Pulumi.large.yaml");
        fs.writeFileSync(
            configFile,
            YAML.stringify({ config: { "warmrun:registry": `${registry.host}/large`, "warmrun:cacheDir": cacheDir, "warmrun:artifacts": { big: { kind: "FileBundle", root } } } }),
        );
        session = new EngineSession(work, "large", configFile, { WARMRUN_JOURNAL: path.join(work, "journal.jsonl") });
        await session.init();
        await session.run(["up", "--yes", "--skip-preview"]);
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    const artifactState = async () => {
        const exported = JSON.parse((await session.run(["stack", "export"], { withConfig: false })).stdout);
        return exported.deployment.resources.find((r: any) => r.type === "pulumi-nodejs:dynamic/warmrun:FileBundle");
    };

    it("state holds one entry per directory, not per file, and the key's file list is in the cache directory", async () => {
        const big = await artifactState();
        const entries = Object.keys(big.outputs.inputs);
        assert.equal(entries.length, FILES / PER_DIR + 1, `entries: ${entries.slice(0, 5)}...`);
        assert.ok(entries.length <= DIRECTORY_ENTRY_LIMIT);
        assert.ok(entries.includes("files:src/d7/") && entries.includes("files:./"));
        assert.match(big.outputs.inputs["files:src/d7/"], new RegExp(`^sha256:[0-9a-f]{64};files=${PER_DIR}$`));
        assert.equal(big.outputs.fileList, path.join(cacheDir, "file-lists", "big", `${big.outputs.key}.json`));
        assert.equal(Object.keys(JSON.parse(fs.readFileSync(big.outputs.fileList, "utf8"))).length, FILES + 1);
        await session.run(["preview", "--expect-no-changes"]);
    });

    it("after one file changes, the preview's replace reasons and the cache report name it", async () => {
        fs.writeFileSync(path.join(root, "src", "d7", "f777.txt"), "changed\n");
        const preview = JSON.parse((await session.run(["preview", "--json"])).stdout);
        const step = preview.steps.find((s: any) => s.op === "replace" && s.urn.endsWith("::big"));
        assert.ok(step, `steps: ${preview.steps.map((s: any) => `${s.op} ${s.urn}`)}`);
        assert.ok(step.replaceReasons.includes('inputs["file:src/d7/f777.txt"]'), `reasons: ${step.replaceReasons}`);
        assert.ok(step.replaceReasons.includes('inputs["files:src/d7/"]'), `reasons: ${step.replaceReasons}`);
        const row = reportRows(preview).find((r) => r.artifact === "big")!;
        assert.deepEqual(row.reasons, ["src/d7/f777.txt changed"]);
    });

    it("without the kept lists, the preview names the directory and how many files it holds", async () => {
        fs.rmSync(path.join(cacheDir, "file-lists"), { recursive: true, force: true });
        // The program writes the new key's list again at preview; the state's key's list stays gone.
        const preview = JSON.parse((await session.run(["preview", "--json"])).stdout);
        const step = preview.steps.find((s: any) => s.op === "replace" && s.urn.endsWith("::big"));
        assert.deepEqual(step.replaceReasons.filter((r: string) => r.startsWith("inputs")), ['inputs["files:src/d7/"]']);
        const row = reportRows(preview).find((r) => r.artifact === "big")!;
        assert.deepEqual(row.reasons, [`files changed under src/d7/ (${PER_DIR} files)`]);
    });
});
