// warmrun: the stack's artifacts, keyed by content, built only on a miss. The stack's outputs:
// `registry`, `outputs` (per artifact: ref, digest, pinned, key, cacheHit, ...) and `downloads`.
import { runProgram } from "./components/core/stack";

export = () => runProgram(__dirname);
