// What the dynamic provider runs: the lifecycle functions, with each kind's build module taken from
// the list of kinds and loaded when an artifact of that kind first needs it.
import { ArtifactInputs, ArtifactOutputs, createArtifact, diffArtifact, KindBuildModule, LifecycleDeps, readArtifact, updateArtifact, refOf, TAG_GONE_REASON } from "./lifecycle";
import { appendJournal } from "./journal";
import { kindNamed } from "../kinds";
import { candidateSlot, WarmCandidate, warmCandidateOf } from "../images/warmStart";
import { exitWhenOrphaned, isDynamicProvider } from "./orphan";
import { providerRunId } from "./runId";
import { artifactMessage, userMessage, WarmrunError } from "./errors";

// Loaded by the provider process when it first has work: from then on it leaves when its engine is gone.
if (isDynamicProvider()) exitWhenOrphaned();

const loaded = new Map<string, KindBuildModule | undefined>();

/** A kind's build module (its folder's build.ts), loaded once. */
export function buildModuleOf(kind: string): KindBuildModule | undefined {
    if (!loaded.has(kind)) loaded.set(kind, kindNamed(kind)?.build());
    return loaded.get(kind);
}

const DEPS: LifecycleDeps = { kinds: buildModuleOf, log: (m) => console.error(m) };

// The dynamic provider's server returns a failed create or update to the engine as its message,
// but echoes a failed read, diff or delete to stderr first, stack trace and all, and the engine
// shows that echo too. The errors below are ours: their echo is dropped, so each reaches the user
// once, as the engine's error of the artifact.
const echoes = new Set<string>();
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "string" && echoes.delete(args[0])) return;
    consoleError(...args);
};

/** Runs one step of an artifact's lifecycle; any error becomes one message naming the artifact, without a stack. */
export async function reported<T>(name: string | undefined, step: () => Promise<T>): Promise<T> {
    try {
        return await step();
    } catch (e) {
        const err = new WarmrunError(name ? artifactMessage(name, e) : userMessage(e));
        err.stack = "";
        echoes.add(`${err}: ${err.stack}`);
        throw err;
    }
}

/** The serialized provider the state holds changed: an update records the current one. */
function providerChanged(olds: any, news: any): boolean {
    return olds.__provider !== undefined && news.__provider !== undefined && olds.__provider !== news.__provider;
}

/**
 * Warm-start candidates (CargoDepsImage), from the diff of a replaced artifact to the create that
 * follows in the same deployment (and so in this provider process): the diff sees the state's
 * outputs, the create only the new inputs. A create that finds none starts from the latest alias or
 * builds cold (images/warmBuild.ts).
 */
const warmCandidates = new Map<string, WarmCandidate>();

export function diff(_id: string, olds: ArtifactOutputs, news: ArtifactInputs) {
    return reported(news.name ?? olds.name, async () => {
        const own = buildModuleOf(news.kind)?.lifecycle;
        const d = own ? own.diff(olds, news) : diffArtifact(olds, news, kindNamed(news.kind)?.definition.inputs);
        const candidate = !own && d.replaces.length > 0 ? warmCandidateOf(olds, news) : undefined;
        if (candidate) warmCandidates.set(candidateSlot(news), candidate);
        // The engine shows a provider's stderr with the preview: say why this replace happens.
        if (d.reason === TAG_GONE_REASON) console.error(`${news.name}: ${refOf(news)}: ${TAG_GONE_REASON}: replaced, the up builds it again (or adopts it, if another run pushed it meanwhile)`);
        const changes = d.changes || providerChanged(olds, news);
        const deleteBeforeReplace = "deleteBeforeReplace" in d && d.deleteBeforeReplace === true;
        return { changes, replaces: d.replaces, deleteBeforeReplace };
    });
}

/** This deployment's run id, the program's too (core/runId.ts); a create given one (a test) keeps it. */
const RUN = providerRunId();

export function create(given: ArtifactInputs) {
    const inputs: ArtifactInputs = given.runId === undefined && RUN !== undefined ? { ...given, runId: RUN } : given;
    return reported(inputs.name, async () => {
        const own = buildModuleOf(inputs.kind)?.lifecycle;
        const outs = own ? await own.create(inputs, DEPS.log!) : await createArtifact(inputs, depsFor(inputs));
        return { id: inputs.path ?? refOf(inputs), outs };
    });
}

/** The lifecycle's deps for a create: a warm-start candidate reaches the builder only (the state keeps the inputs as given). */
function depsFor(inputs: ArtifactInputs): LifecycleDeps {
    const candidate = warmCandidates.get(candidateSlot(inputs));
    const own = buildModuleOf(inputs.kind);
    const build = own?.build;
    if (!candidate || !build) return DEPS;
    const warm: KindBuildModule = { ...own, build: (ctx) => build({ ...ctx, inputs: { ...ctx.inputs, build: { ...ctx.inputs.build, warmFrom: candidate } } }) };
    return { ...DEPS, kinds: (kind) => (kind === inputs.kind ? warm : buildModuleOf(kind)) };
}

export function read(id: string, props: ArtifactOutputs) {
    return reported(props.name, async () => {
        const own = buildModuleOf(props.kind)?.lifecycle;
        const current = own ? await own.read(props) : await readArtifact(props, DEPS);
        return current ? { id, props: current } : { id: "", props: {} };
    });
}

export function update(_id: string, olds: ArtifactOutputs, news: ArtifactInputs) {
    return reported(news.name, async () => {
        const own = buildModuleOf(news.kind)?.lifecycle;
        return { outs: own ? await own.update(olds, news) : await updateArtifact(olds, news, DEPS) };
    });
}

export function remove(_id: string, props: ArtifactOutputs) {
    return reported(props.name, async () => {
        const own = buildModuleOf(props.kind)?.lifecycle;
        if (own) return own.delete(props);
        // Registry content stays: other stacks and runners share it.
        appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "delete", digest: props.digest });
    });
}
