// The `warmrun` command's pure parts: stack and root discovery, argument handling, the engine's
// environment, the local registry's port and the unreachable-registry hint.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { chooseStack, discover, findRoot, stacksIn } from "../../cli/project";
import { takeStack } from "../../cli/commands";
import { backendUrl, engineEnv } from "../../cli/engine";
import { loopbackRegistryPort } from "../../cli/stack";
import { isRoutine } from "../../cli/script";
import { unreachableHint } from "../../components/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";

describe("warmrun command: project discovery", () => {
    after(removeTempDirs);

    it("finds the repository by its stack file from a subdirectory, and not above the git top level", () => {
        const outer = tempDir();
        writeTree(outer, { "Pulumi.ci.yaml": "config: {}\n", "repo/src/main.rs": "fn main() {}\n" });
        const repo = path.join(outer, "repo");
        execFileSync("git", ["init", "-q", repo]);
        // The outer stack file is not this repository's: the git top level is the root.
        assert.equal(findRoot(path.join(repo, "src"), "ci"), fs.realpathSync(repo));
        writeTree(repo, { "Pulumi.ci.yaml": "config: {}\n", "Pulumi.prod.yaml": "config: {}\n" });
        assert.equal(findRoot(path.join(repo, "src"), "ci"), path.join(repo));
        assert.deepEqual(stacksIn(repo), ["ci", "prod"]);
    });

    it("takes the named stack, else the only stack file, else says what to do", () => {
        const dir = tempDir();
        assert.throws(() => chooseStack(dir, undefined, false), /no Pulumi.<stack>.yaml in .*: write one .*`warmrun up --stack <stack>`/);
        writeTree(dir, { "Pulumi.ci.yaml": "" });
        assert.equal(chooseStack(dir, undefined, false), "ci");
        writeTree(dir, { "Pulumi.nightly.yaml": "" });
        assert.throws(() => chooseStack(dir, undefined, false), /has the stacks ci, nightly: pick one with --stack/);
        assert.equal(chooseStack(dir, "nightly", false), "nightly");
    });

    it("runs the engine in a generated project for a user's repository, in the checkout for warmrun's own", () => {
        const repo = tempDir();
        writeTree(repo, { "Pulumi.ci.yaml": "" });
        const user = discover({ cwd: repo, env: {}, packageRoot: path.resolve(__dirname, "..", "..") });
        assert.equal(user.own, false);
        assert.equal(user.pulumiDir, path.join(repo, ".warmrun", "project"));
        assert.equal(user.stackFile, path.join(repo, "Pulumi.ci.yaml"));
        const own = discover({ cwd: path.resolve(__dirname, ".."), env: {} });
        assert.equal(own.own, true);
        assert.equal(own.stack, "dev");
        assert.equal(own.pulumiDir, own.root);
    });
});

describe("warmrun command: arguments and environment", () => {
    it("takes --stack out of the arguments before --, in every spelling", () => {
        assert.deepEqual(takeStack(["--stack", "ci", "--diff"]), { stack: "ci", rest: ["--diff"] });
        assert.deepEqual(takeStack(["-s", "ci"]), { stack: "ci", rest: [] });
        assert.deepEqual(takeStack(["--stack=ci", "--", "--stack", "other"]), { stack: "ci", rest: ["--", "--stack", "other"] });
        assert.throws(() => takeStack(["--stack"]), /--stack needs a stack name/);
    });

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

    it("starts a local registry for a loopback registry on any port, never for a hosted one", () => {
        assert.equal(loopbackRegistryPort("127.0.0.1:5000/warmrun"), 5000);
        assert.equal(loopbackRegistryPort("localhost:6123"), 6123);
        assert.equal(loopbackRegistryPort("127.0.0.1/warmrun"), undefined);
        assert.equal(loopbackRegistryPort("ghcr.io/acme/cache"), undefined);
        assert.equal(loopbackRegistryPort(undefined), undefined);
    });

    it("keeps the scripts' news (a build, a registry started, an error) and drops what says nothing was needed", () => {
        assert.ok(isRoutine("install-engine: using pulumi v3.248.0 from PATH"));
        assert.ok(isRoutine("install-engine: pulumi v3.248.0 already built in /c/engine/v3.248.0/bin"));
        assert.ok(isRoutine("registry.sh: a registry already serves 127.0.0.1:5000"));
        assert.ok(!isRoutine("install-engine: building pulumi v3.248.0 (the first build takes several minutes)"));
        assert.ok(!isRoutine("registry.sh: registry on 127.0.0.1:5000 (pid 42)"));
        assert.ok(!isRoutine("registry.sh: docker-registry is not installed: install Debian's docker-registry package"));
    });

    it("an unreachable registry's hint names its own port, and nothing local for a hosted one", () => {
        assert.match(unreachableHint("127.0.0.1:6123"), /port 6123 .*warmrun registry start 6123/);
        assert.doesNotMatch(unreachableHint("127.0.0.1:6123"), /5000/);
        assert.match(unreachableHint("ghcr.io"), /check the host name and the network/);
    });
});
