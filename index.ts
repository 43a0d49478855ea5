// warmrun: the stack's artifacts, keyed by content, built only on a miss. The stack's outputs:
// `registry`, `outputs` (per artifact: ref, digest, pinned, key, cacheHit, ...) and `downloads`.
import * as path from "path";
import { runProgram } from "./components/core/stack";
import { findPackageRoot } from "./components/core/packageRoot";

// Run by the `warmrun` command for a user's repository, the program is the installed package's and
// WARMRUN_PROJECT_ROOT names the repository: config paths, git state and the cache directory are its.
// Otherwise it is warmrun's own checkout, whose program runs as index.ts or compiled as dist/index.js.
export = () => {
    // @pulumi/pulumi's program runner installs source-map-support, which then maps every stack trace
    // the SDK takes (one per resource for its source position, one per promise it tracks) through
    // the source maps: in a profile of a preview of 80 artifacts, close to a second of the program's
    // CPU. Compiled, the program keeps V8's own stack format; warmrun's errors reach users without
    // stacks anyway. With WARMRUN_DEBUG (an unexpected error's stack shown), or through ts-node (a
    // checkout whose dist/ is stale), the mapping stays.
    if (__filename.endsWith(".js") && !process.env.WARMRUN_DEBUG) (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    const projectRoot = path.resolve(process.env.WARMRUN_PROJECT_ROOT || findPackageRoot(__dirname));
    process.chdir(projectRoot);
    return runProgram(projectRoot);
};
