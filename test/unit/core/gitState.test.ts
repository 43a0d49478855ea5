import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { aliasTagsFor, readGitState, repositoryOfRemote, stripCredentials } from "../../../components/core/gitState";
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

describe("git state for provenance", () => {
    after(removeTempDirs);

    it("strips what authenticates a remote", () => {
        assert.equal(stripCredentials("https://ci:ghp_token@github.com/acme/app.git"), "https://github.com/acme/app.git");
        assert.equal(stripCredentials("https://oauth2@gitlab.example.com/acme/app"), "https://gitlab.example.com/acme/app");
        assert.equal(stripCredentials("git@github.com:acme/app.git"), "ssh://github.com/acme/app.git");
        assert.equal(stripCredentials("ssh://git@host.example.com:2222/acme/app.git"), "ssh://host.example.com:2222/acme/app.git");
        assert.equal(stripCredentials("/srv/git/app.git"), "/srv/git/app.git");
    });

    it("reads the remote and the commit's time (not the wall clock) from a checkout", () => {
        const repo = tempDir();
        const env = { ...process.env, GIT_COMMITTER_DATE: "2026-11-30T10:00:00Z", GIT_AUTHOR_DATE: "2026-11-30T10:00:00Z" };
        const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...args], { cwd: repo, stdio: "ignore", env });
        g("init", "-q", "-b", "main");
        fs.writeFileSync(path.join(repo, "a"), "1");
        g("add", "a");
        g("commit", "-qm", "one");
        g("remote", "add", "upstream", "https://other.example.com/fork.git");
        g("remote", "add", "origin", "https://ci:s3cret@git.example.com/acme/app.git");
        const s = readGitState(repo, {});
        assert.equal(s.remote, "https://git.example.com/acme/app.git", "origin, without its credentials");
        assert.equal(s.commitTime, "2026-11-30T10:00:00Z");
        assert.ok(!JSON.stringify(s).includes("s3cret"));
    });

    it("a checkout without a remote on GitHub Actions names the repository the workflow runs for", () => {
        const repo = tempDir();
        const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...args], { cwd: repo, stdio: "ignore" });
        g("init", "-q");
        g("commit", "-q", "--allow-empty", "-m", "x");
        assert.equal(readGitState(repo, {}).remote, undefined);
        assert.equal(readGitState(repo, { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/app" }).remote, "https://github.com/acme/app");
    });

    it("one repository name for a remote's https and ssh forms, with no credentials in it", () => {
        const want = "git.example.com/acme/app";
        for (const remote of [
            "https://git.example.com/acme/app",
            "https://git.example.com/acme/app.git",
            "https://ci:s3cret@git.example.com/acme/app.git/",
            "git@git.example.com:acme/app.git",
            "ssh://git@Git.Example.com:22/acme/app",
        ]) {
            assert.equal(repositoryOfRemote(remote), want, remote);
        }
        assert.notEqual(repositoryOfRemote("https://git.example.com/acme/other"), want);
        assert.equal(repositoryOfRemote("/srv/git/app.git"), "/srv/git/app");
    });
});
