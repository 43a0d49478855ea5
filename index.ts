// warmrun: the stack's artifacts, keyed by content, built only on a miss. The stack's outputs:
// `registry`, `outputs` (per artifact: ref, digest, pinned, key, cacheHit, ...) and `downloads`.
import * as path from "path";
import { runProgram } from "./components/core/stack";

// Run by the `warmrun` command for a user's repository, the program is the installed package's and
// WARMRUN_PROJECT_ROOT names the repository: config paths, git state and the cache directory are its.
export = () => {
    const projectRoot = path.resolve(process.env.WARMRUN_PROJECT_ROOT || __dirname);
    process.chdir(projectRoot);
    return runProgram(projectRoot);
};
