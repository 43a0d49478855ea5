// cli/engine.ts: the environment every pulumi command of a project runs with.
import { strict as assert } from "assert";
import * as path from "path";
import { backendUrl, engineEnv } from "../../../cli/engine";
import { tempDir, removeTempDirs } from "../../support/tmp";

describe("warmrun command: the engine's environment", () => {
    after(removeTempDirs);

    it("uses the repository's local state and the dev passphrase only for a local backend", () => {
        const project = { root: "/r", stack: "ci", stackFile: "/r/Pulumi.ci.yaml", pulumiDir: "/r/.warmrun/project", own: false, packageRoot: "/p" };
        assert.equal(backendUrl(project, {}), "file:///r/.warmrun/state");
        assert.equal(backendUrl({ ...project, own: true }, {}), "file:///r/.pulumi-state");
        const cache = tempDir();
        const state = `file://${tempDir()}`;
        const local = engineEnv(project, "/engine", { PATH: "/usr/bin", WARMRUN_CACHE: cache, PULUMI_BACKEND_URL: state });
        assert.equal(local.PULUMI_CONFIG_PASSPHRASE, "warmrun-dev");
        assert.equal(local.PATH, "/engine:/usr/bin");
        assert.equal(local.WARMRUN_PROJECT_ROOT, "/r");
        assert.equal(local.WARMRUN_JOURNAL, "/r/.warmrun/journal.jsonl");
        const hosted = engineEnv(project, "/engine", { PATH: "/usr/bin", WARMRUN_CACHE: cache, PULUMI_BACKEND_URL: "s3://bucket/state" });
        assert.equal(hosted.PULUMI_CONFIG_PASSPHRASE, undefined, "no default passphrase for a shared backend");
        const own = engineEnv(project, "/engine", { PATH: "", WARMRUN_CACHE: cache, PULUMI_BACKEND_URL: state, PULUMI_CONFIG_PASSPHRASE: "mine" });
        assert.equal(own.PULUMI_CONFIG_PASSPHRASE, "mine");
        assert.equal(engineEnv(project, path.join(cache, "engine", "bin"), { PATH: "", WARMRUN_CACHE: cache, PULUMI_BACKEND_URL: state }).PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
    });
});
