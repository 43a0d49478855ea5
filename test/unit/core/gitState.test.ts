import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { aliasTagsFor, readGitState } from "../../../components/core/gitState";
import { tempDir, removeTempDirs } from "../../support/tmp";

describe("alias tags from git state", () => {
    after(removeTempDirs);
    const policy = { latestBranch: "main", gitShaAlias: false };
    const sha = "0123456789abcdef0123456789abcdef01234567";

    it("latest only from the default branch with a clean tree", () => {
        assert.deepEqual(aliasTagsFor({ branch: "main", commit: sha, clean: true }, policy), ["latest"]);
        assert.deepEqual(aliasTagsFor({ branch: "main", commit: sha, clean: false }, policy), []);
        assert.deepEqual(aliasTagsFor({ branch: "feature", commit: sha, clean: true }, policy), []);
        assert.deepEqual(aliasTagsFor({ branch: "main", commit: sha, clean: true }, { latestBranch: "", gitShaAlias: false }), []);
    });

    it("a git-sha alias when asked for, with a prefix for kinds that need one", () => {
        assert.deepEqual(aliasTagsFor({ branch: "dev", commit: sha, clean: false }, { latestBranch: "main", gitShaAlias: true }, "base-qcow2-"), ["base-qcow2-git-0123456789ab"]);
    });

    it("reads branch, commit and cleanliness from a checkout; detached CI checkouts use GITHUB_REF_NAME", () => {
        const repo = tempDir();
        const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...args], { cwd: repo, stdio: "ignore" });
        g("init", "-q", "-b", "main");
        fs.writeFileSync(path.join(repo, "a"), "1");
        g("add", "a");
        g("commit", "-qm", "one");
        const clean = readGitState(repo, {});
        assert.equal(clean.branch, "main");
        assert.equal(clean.clean, true);
        assert.match(clean.commit!, /^[0-9a-f]{40}$/);
        fs.writeFileSync(path.join(repo, "a"), "2");
        assert.equal(readGitState(repo, {}).clean, false);
        g("checkout", "-q", "--detach");
        assert.equal(readGitState(repo, { GITHUB_REF_NAME: "main" }).branch, "main");
        assert.deepEqual(readGitState(tempDir(), {}), { clean: false }, "no repository: no aliases");
    });
});
