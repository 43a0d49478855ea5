// Wires the validated config into components, upstreams first, so keys chain (Merkle).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { WarmrunConfig } from "./config";
import { StatCache } from "./fileset";
import { FileBundle } from "./fileBundle";
import { DebianRootfs } from "./debianRootfs";
import { BaseImage } from "./baseImage";
import { CargoDepsImage } from "./cargoDepsImage";
import { Qcow2Image } from "./qcow2Image";
import { CloudInitIso } from "./cloudInitIso";
import { PackerAppliance } from "./packerAppliance";
import { KindArgs } from "./kind";
import { Artifact } from "./artifact";
import { WarmrunError } from "./errors";
import { sharedLookup, TagLookup } from "./preview";
import { aliasTagsFor, GitState } from "./gitState";

export interface ArtifactComponent {
    key: Promise<string>;
    artifact: Artifact;
}

type KindConstructor = new (name: string, args: KindArgs, opts?: pulumi.ComponentResourceOptions) => ArtifactComponent & pulumi.ComponentResource;

export const KINDS: Record<string, KindConstructor> = {
    FileBundle,
    DebianRootfs,
    BaseImage,
    CargoDepsImage,
    Qcow2Image,
    CloudInitIso,
    PackerAppliance,
};

export function buildStack(
    config: WarmrunConfig,
    statCache: StatCache,
    password?: pulumi.Output<string>,
    lookup?: TagLookup,
    git: GitState = { clean: false },
): Record<string, ArtifactComponent> {
    const aliasTags = aliasTagsFor(git, config);
    const tagLookup = sharedLookup({ host: config.registry.host, namespace: config.registry.namespace, insecure: config.registry.insecure, username: config.registry.username, password }, lookup);
    const built: Record<string, ArtifactComponent> = {};
    const registry = { host: config.registry.host, namespace: config.registry.namespace, insecure: config.registry.insecure, username: config.registry.username, password };
    for (const spec of config.artifacts) {
        const Kind = KINDS[spec.kind];
        if (!Kind) throw new WarmrunError(`warmrun:artifacts.${spec.name}: kind ${spec.kind} has no component`);
        const upstreamKeys = Object.fromEntries(spec.upstream.map((u) => [u, built[u].key]));
        const upstreamRefs = Object.fromEntries(spec.upstream.map((u) => [u, built[u].artifact.pinned]));
        const dependsOn = spec.upstream.map((u) => built[u].artifact);
        built[spec.name] = new Kind(spec.name, { spec, registry, upstreamKeys, upstreamRefs, statCache, lookup: tagLookup, builder: config.builder, trustHostCertificates: config.trustHostCertificates, aliasTags, workDir: path.join(config.cacheDir, "work"), git, cacheDir: config.cacheDir, leaseSeconds: config.leaseSeconds }, { dependsOn });
    }
    Promise.all(Object.values(built).map((b) => b.key)).then(
        () => statCache.save(),
        () => undefined,
    );
    return built;
}
