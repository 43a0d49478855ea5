// The git facts that decide alias tags (branch, commit, whether the tree is clean) and that
// provenance annotations carry (the remote, without credentials, and the commit's time).
import { execFileSync } from "child_process";

export interface GitState {
    branch?: string;
    commit?: string;
    /** `git rev-parse --short HEAD`: the length git picks for this repository. */
    shortCommit?: string;
    clean: boolean;
    /** The remote's URL (origin, else the first remote), user and password stripped. */
    remote?: string;
    /** The commit's committer time, ISO 8601 in UTC (e.g. 2026-12-01T15:03:00Z). */
    commitTime?: string;
}

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/** Reads the checkout's state; CI checkouts are often detached, so GITHUB_REF_NAME counts too. */
export function readGitState(cwd: string, env: NodeJS.ProcessEnv = process.env): GitState {
    const commit = git(cwd, ["rev-parse", "HEAD"]);
    if (!commit) return { clean: false };
    let branch = git(cwd, ["rev-parse", "--abbrev-ref", "HEAD"]);
    if (!branch || branch === "HEAD") branch = env.GITHUB_REF_NAME || env.CI_COMMIT_BRANCH || undefined;
    const status = git(cwd, ["status", "--porcelain", "--untracked-files=normal"]);
    const remote = gitRemote(cwd, env);
    const seconds = Number(git(cwd, ["show", "-s", "--format=%ct", "HEAD"]));
    return {
        branch,
        commit,
        shortCommit: git(cwd, ["rev-parse", "--short", "HEAD"]),
        clean: status === "",
        ...(remote ? { remote } : {}),
        ...(Number.isFinite(seconds) && seconds > 0 ? { commitTime: new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z") } : {}),
    };
}

/** The checkout's remote (origin, else the first; else GitHub's variables), credentials stripped. */
export function gitRemote(cwd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const remoteName = git(cwd, ["remote"])?.split("\n").filter(Boolean).sort((a, b) => (a === "origin" ? -1 : b === "origin" ? 1 : 0))[0];
    const raw = remoteName ? git(cwd, ["remote", "get-url", remoteName]) : env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : undefined;
    return raw ? stripCredentials(raw) : undefined;
}

/**
 * A remote without what authenticates it: `https://user:token@host/x` -> `https://host/x`,
 * `git@host:org/repo.git` -> `ssh://host/org/repo.git`; a local path stays as it is.
 */
export function stripCredentials(remote: string): string {
    const scp = /^(?:[^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(remote);
    if (scp && !/^[a-zA-Z]:[\\/]/.test(remote) && remote.includes(":") && !remote.includes("://")) return `ssh://${scp[1]}/${scp[2]}`;
    try {
        const u = new URL(remote);
        if (!u.host) return remote;
        u.username = "";
        u.password = "";
        return u.toString();
    } catch {
        return remote;
    }
}

export interface AliasPolicy {
    /** Branch whose clean builds move `<prefix>latest`; empty: never. */
    latestBranch: string;
    gitShaAlias: boolean;
}

/** `latest` only from the default branch with a clean tree; `git-<sha>` when asked for. */
export function aliasTagsFor(state: GitState, policy: AliasPolicy, prefix = ""): string[] {
    const tags: string[] = [];
    if (policy.latestBranch && state.clean && state.branch === policy.latestBranch) tags.push(`${prefix}latest`);
    if (policy.gitShaAlias && state.commit) tags.push(`${prefix}git-${state.commit.slice(0, 12)}`);
    return tags;
}

/**
 * The repository a remote names, one string for its https and ssh forms alike:
 * `https://host/org/repo`, `git@host:org/repo.git` and `ssh://git@host:22/org/repo` are all
 * `host/org/repo`. A local path stays a path (without a trailing `.git` or slash).
 */
export function repositoryOfRemote(remote: string): string {
    const bare = (p: string) => p.replace(/\/+$/, "").replace(/\.git$/, "").replace(/\/+$/, "");
    const stripped = stripCredentials(remote);
    try {
        const u = new URL(stripped);
        if (u.hostname) return `${u.hostname.toLowerCase()}${bare(decodeURIComponent(u.pathname))}`;
    } catch {
        // not a URL: a local path
    }
    return bare(stripped);
}
