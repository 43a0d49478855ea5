// The git facts that decide alias tags: branch, commit, and whether the tree is clean.
import { execFileSync } from "child_process";

export interface GitState {
    branch?: string;
    commit?: string;
    /** `git rev-parse --short HEAD`: the length git picks for this repository. */
    shortCommit?: string;
    clean: boolean;
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
    return { branch, commit, shortCommit: git(cwd, ["rev-parse", "--short", "HEAD"]), clean: status === "" };
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
