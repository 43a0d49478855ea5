// What the dynamic provider runs: the lifecycle functions with the builders of every kind.
import { Adopter, ArtifactInputs, ArtifactOutputs, BuildContext, Builder, createArtifact, diffArtifact, readArtifact, updateArtifact, refOf, TAG_GONE_REASON } from "./lifecycle";
import { appendJournal } from "./journal";
import { buildBundle, BUNDLE_KIND } from "./builders/bundle";
import { buildRootfs, ROOTFS_KIND } from "./builders/rootfs";
import { buildWithBuildah } from "./builders/buildah";
import { buildQcow2, QCOW2_KIND } from "./builders/qcow2";
import { adoptAppliance, buildAppliance, PACKER_KIND } from "./builders/packer";
import { WarmrunError } from "./errors";

/** Image kinds build with buildah here; with Docker, @pulumi/docker built and pushed already. */
const buildImage: Builder = async (ctx) => {
    if (ctx.inputs.build?.builder === "docker") {
        throw new WarmrunError(`${ctx.inputs.name}: the Docker build did not push ${refOf(ctx.inputs)}; see the ${ctx.inputs.name}-docker resource's output`);
    }
    return buildWithBuildah(await withFoundCredentials(ctx));
};

/**
 * buildah gets the registry's credentials in a private auth file: the stack config's, else those
 * the ecosystem keeps (docker/podman login, credential helpers), found at run time, never stored.
 */
async function withFoundCredentials(ctx: BuildContext): Promise<BuildContext> {
    if (ctx.inputs.registry.username !== undefined) return ctx;
    // A broken credentials file matters only to a registry that asks: the client's own
    // look-up (which ran before the build) reported it already if this one does.
    const found = await ctx.client.credentials().catch(() => undefined);
    if (found?.username === undefined || found.password === undefined) return ctx;
    return { ...ctx, inputs: { ...ctx.inputs, registry: { ...ctx.inputs.registry, username: found.username, password: found.password } } };
}

export const BUILDERS: Record<string, Builder> = {
    [BUNDLE_KIND]: buildBundle,
    [ROOTFS_KIND]: buildRootfs,
    BaseImage: buildImage,
    CargoDepsImage: buildImage,
    [QCOW2_KIND]: buildQcow2,
    [PACKER_KIND]: buildAppliance,
};

/** Kinds that do more than record the digest on a hit. */
export const ADOPTERS: Record<string, Adopter> = {
    [PACKER_KIND]: adoptAppliance,
};

export async function diff(_id: string, olds: ArtifactOutputs, news: ArtifactInputs) {
    const d = diffArtifact(olds, news);
    // The engine shows a provider's stderr with the preview: say why this replace happens.
    if (d.reason === TAG_GONE_REASON) console.error(`${news.name}: ${refOf(news)}: ${TAG_GONE_REASON}: replaced, the up builds it again (or adopts it, if another run pushed it meanwhile)`);
    return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: false };
}

export async function create(inputs: ArtifactInputs) {
    const outs = await createArtifact(inputs, { builders: BUILDERS, adopters: ADOPTERS, log: (m) => console.error(m) });
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
