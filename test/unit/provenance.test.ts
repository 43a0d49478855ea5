// Provenance annotations: the OCI predefined keys from the checkout's git state (remote without
// credentials, commit, the commit's time) and the base; warmrun's own keys stay.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { readGitState, stripCredentials } from "../../components/gitState";
import { baseFromPinned, provenanceAnnotations, provenanceOf, withProvenance } from "../../components/oci/provenance";
import { tempDir, removeTempDirs } from "../support/tmp";

const D = `sha256:${"7".repeat(64)}`;

describe("provenance", () => {
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
        const p = provenanceOf(s, baseFromPinned(`127.0.0.1:5000/w/os@${D}`));
        assert.deepEqual(provenanceAnnotations(p), {
            "org.opencontainers.image.source": "https://git.example.com/acme/app.git",
            "org.opencontainers.image.revision": s.commit,
            "org.opencontainers.image.created": "2026-11-30T10:00:00Z",
            "org.opencontainers.image.base.name": `127.0.0.1:5000/w/os@${D}`,
            "org.opencontainers.image.base.digest": D,
        });
        assert.ok(!JSON.stringify(p).includes("s3cret"));
    });

    it("a checkout without a remote on GitHub Actions names the repository the workflow runs for", () => {
        const repo = tempDir();
        const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@e", ...args], { cwd: repo, stdio: "ignore" });
        g("init", "-q");
        g("commit", "-q", "--allow-empty", "-m", "x");
        assert.equal(readGitState(repo, {}).remote, undefined);
        assert.equal(readGitState(repo, { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/app" }).remote, "https://github.com/acme/app");
    });

    it("warmrun's own keys stay and win; no base without a pinned reference", () => {
        const merged = withProvenance({ "dev.warmrun.key": "k", "org.opencontainers.image.title": "mine" }, { revision: "r", created: "c" });
        assert.deepEqual(merged, { "org.opencontainers.image.revision": "r", "org.opencontainers.image.created": "c", "dev.warmrun.key": "k", "org.opencontainers.image.title": "mine" });
        assert.equal(baseFromPinned("127.0.0.1:5000/w/os:tag"), undefined);
        assert.deepEqual(provenanceAnnotations(provenanceOf(undefined, null)), {});
    });
});
