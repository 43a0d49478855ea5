// One id per deployment, the same in the program and in its dynamic provider. Both are handed the
// address of the engine's host server for this deployment: the program as PULUMI_NODEJS_ENGINE
// (from the language host's --engine), the provider as its first argument. The id is not passed as
// an artifact input: an input that differs on every run makes the engine write the whole checkpoint
// after each unchanged artifact ("same" steps are written when their inputs changed), so a no-op up
// cost a checkpoint per artifact and grew with the square of the stack.
import * as os from "os";
import { createHash, randomUUID } from "crypto";
import { isDynamicProvider } from "./orphan";

/**
 * The id of the deployment served by the engine at `engineAddress` on `host`. A later deployment on
 * the same host that is given the same port gets the same id: an artifact that earlier deployment
 * created would then report its build's downloads as this run's, and its builder-storage ledger
 * would be released with this run's (it is over, so it would be anyway).
 */
export function deploymentRunId(engineAddress: string, host: string = os.hostname()): string {
    return createHash("sha256").update(`${host}\n${engineAddress}`).digest("hex").slice(0, 16);
}

/** The program's run id: its deployment's, or one of its own outside an engine (mocks, scripts). */
export function programRunId(env: NodeJS.ProcessEnv = process.env, host?: string): string {
    const engine = env.PULUMI_NODEJS_ENGINE;
    return engine ? deploymentRunId(engine, host) : randomUUID();
}

/** The dynamic provider's run id, from the engine address it was started with; undefined elsewhere. */
export function providerRunId(argv: readonly string[] = process.argv, host?: string): string | undefined {
    return isDynamicProvider(argv) && argv[2] ? deploymentRunId(argv[2], host) : undefined;
}
