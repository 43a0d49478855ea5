// The deps image's key material has one source: the component's plan and `npm run replay` both
// take it from cargo/depsKey.ts, so replay's key for a commit is the key `up` would deploy.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { computeKey } from "../../../components/core/keys";
import { StatCache } from "../../../components/core/fileset";
import { plan } from "../../../components/kinds/cargoDepsImage/plan";
import { replay } from "../../../scripts/replay";
import { tempDir, removeTempDirs } from "../../support/tmp";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "examples", "rust-workspace");

describe("CargoDepsImage key material (cargo/depsKey.ts)", () => {
    after(removeTempDirs);

    for (const dockerfile of [undefined, "Dockerfile.deps"]) {
        it(`replay's key of a commit is the component's key of the same tree (${dockerfile ? "the workspace's own Dockerfile" : "the default Dockerfile"})`, async () => {
            const repo = tempDir("warmrun-depskey-");
            fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (p) => !p.includes(`${path.sep}target`) });
            if (dockerfile) fs.writeFileSync(path.join(repo, dockerfile), "FROM scratch\n");
            const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { stdio: "ignore" });
            git("init", "-q");
            git("add", "-A");
            git("commit", "-qm", "workspace");
            const fields = { workspace: repo, ...(dockerfile ? { dockerfile: path.join(repo, dockerfile) } : {}) };
            const component = computeKey((await plan(fields, { upstream: {}, statCache: new StatCache() })).material);
            const replayed = await replay(repo, "HEAD", dockerfile ? { dockerfile } : {});
            assert.equal(replayed.rows.length, 1);
            assert.equal(replayed.rows[0].key, component);
        });
    }
});
