// cli/project.ts: which repository and stack a `warmrun` command is about, and where the engine runs.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { chooseStack, discover, findRoot, stacksIn } from "../../../cli/project";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

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
        const user = discover({ cwd: repo, env: {}, packageRoot: path.resolve(__dirname, "..", "..", "..") });
        assert.equal(user.own, false);
        assert.equal(user.pulumiDir, path.join(repo, ".warmrun", "project"));
        assert.equal(user.stackFile, path.join(repo, "Pulumi.ci.yaml"));
        const own = discover({ cwd: path.resolve(__dirname, ".."), env: {} });
        assert.equal(own.own, true);
        assert.equal(own.stack, "dev");
        assert.equal(own.pulumiDir, own.root);
    });
});
