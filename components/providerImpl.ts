// What the dynamic provider runs: the lifecycle functions with the builders of every kind.
import { Adopter, ArtifactInputs, ArtifactOutputs, Builder, createArtifact, diffArtifact, readArtifact, updateArtifact, refOf } from "./lifecycle";
import { appendJournal } from "./journal";
import { buildBundle, BUNDLE_KIND } from "./builders/bundle";
import { buildRootfs, ROOTFS_KIND } from "./builders/rootfs";
import { buildWithBuildah } from "./builders/buildah";
import { buildCargoDepsImage } from "./images/warmBuild";
import { candidateSlot, WarmCandidate, warmCandidateOf } from "./images/warmStart";
import { buildQcow2, QCOW2_KIND } from "./builders/qcow2";
import { adoptAppliance, buildAppliance, PACKER_KIND } from "./builders/packer";
import { WarmrunError } from "./errors";

/** Image kinds build with buildah here; with Docker, @pulumi/docker-build built and pushed already. */
const imageBuilder = (build: Builder): Builder => async (ctx) => {
    if (ctx.inputs.build?.builder === "docker") {
        throw new WarmrunError(`${ctx.inputs.name}: the Docker build did not push ${refOf(ctx.inputs)}; see the ${ctx.inputs.name}-docker resource's output`);
    }
    return build(ctx);
};

export const BUILDERS: Record<string, Builder> = {
    [BUNDLE_KIND]: buildBundle,
    [ROOTFS_KIND]: buildRootfs,
    BaseImage: imageBuilder(buildWithBuildah),
    // Warm starts from the closest earlier image of the artifact, else cold (images/warmBuild.ts).
    CargoDepsImage: imageBuilder(buildCargoDepsImage),
    [QCOW2_KIND]: buildQcow2,
    [PACKER_KIND]: buildAppliance,
};

/** Kinds that do more than record the digest on a hit. */
export const ADOPTERS: Record<string, Adopter> = {
    [PACKER_KIND]: adoptAppliance,
};

/**
 * Warm-start candidates, from the diff of a replaced CargoDepsImage to the create that follows in
 * the same deployment (and so in this provider process): the diff sees the state's outputs, the
 * create only the new inputs. A create that finds none starts from the latest alias or builds cold.
 */
const warmCandidates = new Map<string, WarmCandidate>();

export async function diff(_id: string, olds: ArtifactOutputs, news: ArtifactInputs) {
    const d = diffArtifact(olds, news);
    const candidate = d.replaces.length > 0 ? warmCandidateOf(olds, news) : undefined;
    if (candidate) warmCandidates.set(candidateSlot(news), candidate);
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
}

export async function create(inputs: ArtifactInputs) {
    const candidate = warmCandidates.get(candidateSlot(inputs));
    // The candidate reaches the builder only: the outputs (and so the state) keep the inputs as given.
    const builders = candidate ? { ...BUILDERS, [inputs.kind]: (ctx: Parameters<Builder>[0]) => BUILDERS[inputs.kind]({ ...ctx, inputs: { ...ctx.inputs, build: { ...ctx.inputs.build, warmFrom: candidate } } }) } : BUILDERS;
    const outs = await createArtifact(inputs, { builders, adopters: ADOPTERS, log: (m) => console.error(m) });
    return { id: refOf(inputs), outs };
}

export async function read(id: string, props: ArtifactOutputs) {
    const current = await readArtifact(props, { builders: BUILDERS });
    return current ? { id, props: current } : { id: "", props: {} };
}

export async function update(_id: string, olds: ArtifactOutputs, news: ArtifactInputs) {
    return { outs: await updateArtifact(olds, news, { builders: BUILDERS }) };
}

export async function remove(_id: string, props: ArtifactOutputs) {
    // Registry content stays: other stacks and runners share it.
    appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "delete", digest: props.digest });
}
