// CloudInitIso's provider side: the seed as an ISO9660 image labelled `cidata`, with Joliet and Rock
// Ridge, byte-reproducible (fixed dates, owners and modes), written by xorriso, mode 0600. The ISO is
// a local file, so the kind has its own lifecycle: create writes it (and pushes it when asked), read
// checks it is still there with its digest, delete removes it (it carries keys).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { runTool } from "../../core/process";
import { WarmrunError } from "../../core/errors";
import { appendJournal, NO_DOWNLOADS } from "../../core/journal";
import { ArtifactInputs, ArtifactOutputs, KindLifecycle, pinnedOf, refOf, TAG_GONE_REASON } from "../../core/lifecycle";
import { describeInputChanges, diffInputs } from "../../core/keys";
import { RegistryClient } from "../../oci/registry";
import { EMPTY_CONFIG, pushArtifact } from "../../oci/push";
import { MEDIA } from "../../oci/manifest";
import { artifactAnnotations, TITLE_ANNOTATION } from "../../oci/annotations";
import { CLOUD_INIT_KIND } from "./fields";

export const ISO_VOLUME_LABEL = "cidata";
export const ISO_ARTIFACT_TYPE = "application/vnd.warmrun.cloud-init-iso.v1";
export const ISO_LAYER_MEDIA_TYPE = "application/vnd.warmrun.cloud-init-iso.v1.iso9660";

/** What the provider needs to write the ISO; secret as a whole (it carries keys). */
export interface IsoBuildSpec {
    userData: string;
    metaData: string;
    networkConfig: string;
    /** Extra files: path on the ISO (under config/) and where to read them. */
    extraFiles: { path: string; from: string }[];
}

/** xorriso's mkisofs mode: label cidata, Joliet, Rock Ridge with owner 0:0, every date fixed. */
export function xorrisoArgs(stage: string, out: string): string[] {
    return ["-as", "mkisofs", "-quiet", "-V", ISO_VOLUME_LABEL, "-J", "-R", "-uid", "0", "-gid", "0", "--modification-date=1970010100000000", "-o", out, stage];
}

/** Writes the seed into a fresh staging tree with fixed modes and times, then the ISO. */
export async function writeIso(spec: IsoBuildSpec, out: string, what: string): Promise<string> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-iso-"));
    try {
        const stage = path.join(tmp, "seed");
        fs.mkdirSync(stage, { mode: 0o700 });
        const put = (rel: string, data: string | Buffer) => {
            const abs = path.join(stage, rel);
            fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
            fs.writeFileSync(abs, data, { mode: 0o600 });
        };
        put("user-data", spec.userData);
        put("meta-data", spec.metaData);
        put("network-config", spec.networkConfig);
        for (const f of spec.extraFiles) {
            if (!fs.existsSync(f.from)) throw new WarmrunError(`${what}: ${f.from} vanished before the ISO was written; run again`);
            put(path.join("config", f.path), fs.readFileSync(f.from));
        }
        const epoch = new Date(0);
        const fix = (abs: string) => {
            const st = fs.lstatSync(abs);
            if (st.isDirectory()) for (const e of fs.readdirSync(abs)) fix(path.join(abs, e));
            fs.chmodSync(abs, st.isDirectory() ? 0o555 : 0o444);
            fs.utimesSync(abs, epoch, epoch);
        };
        fix(stage);
        const iso = path.join(tmp, "seed.iso");
        await runTool(what, "xorriso", xorrisoArgs(stage, iso), { env: { ...process.env, SOURCE_DATE_EPOCH: "0" }, stream: () => undefined });
        const sha256 = createHash("sha256").update(fs.readFileSync(iso)).digest("hex");
        fs.mkdirSync(path.dirname(out), { recursive: true });
        const partial = `${out}.partial`;
        fs.copyFileSync(iso, partial);
        fs.chmodSync(partial, 0o600);
        fs.renameSync(partial, out);
        return sha256;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

function fileSha256(file: string): string | undefined {
    return fs.existsSync(file) ? createHash("sha256").update(fs.readFileSync(file)).digest("hex") : undefined;
}

/** The Artifact's build input: the seed (a secret as a whole), and whether to push the ISO. */
export interface IsoBuild extends IsoBuildSpec {
    push: boolean;
}

/** The ISO's sha256 as outputs record it (a state written before the ISO was an Artifact kept it at the top). */
function shaOf(o: any): string | undefined {
    return o.details?.sha256 ?? o.sha256;
}

/** Where the ISO is pushed to, if anywhere (a state written before the ISO was an Artifact kept a push block). */
function pushTarget(o: any): string | null {
    if (o.push?.repository) return `${o.push.registry?.host}/${o.push.repository}`;
    return o.build?.push === true ? `${o.registry?.host}/${o.repository}` : null;
}

/** Outputs never carry the seed (it holds keys), only whether the ISO was pushed. */
function withoutSeed<T extends { build?: any }>(o: T): Omit<T, "build"> & { build: { push: boolean } } {
    const { build, ...rest } = o;
    return { ...rest, build: { push: build?.push === true } };
}

/** Pushes the ISO as a one-layer OCI artifact (blobs first, manifest last) under its key tag. */
export async function pushIso(inputs: ArtifactInputs, sha256: string): Promise<string> {
    return pushArtifact(new RegistryClient(inputs.registry), {
        repository: inputs.repository,
        tag: inputs.tag,
        artifactType: ISO_ARTIFACT_TYPE,
        config: { mediaType: MEDIA.ociEmpty, data: EMPTY_CONFIG },
        layers: [{ mediaType: ISO_LAYER_MEDIA_TYPE, digest: `sha256:${sha256}`, size: fs.statSync(inputs.path!).size, file: inputs.path, annotations: { [TITLE_ANNOTATION]: `${inputs.name}.iso` } }],
        annotations: artifactAnnotations({ key: inputs.key, kind: CLOUD_INIT_KIND, name: inputs.name }),
        provenance: inputs.provenance,
    });
}

export const lifecycle: KindLifecycle = {
    async create(inputs, log) {
        const file = inputs.path!;
        const build = inputs.build as IsoBuild;
        const started = Date.now();
        const before = fileSha256(file);
        const sha256 = await writeIso(build, file, inputs.name);
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        const cacheHit = before === sha256;
        const pushed = build.push ? await pushIso(inputs, sha256) : undefined;
        appendJournal({ artifact: inputs.name, kind: inputs.kind, key: inputs.key, action: cacheHit ? "adopt" : "build", digest: `sha256:${sha256}`, buildSeconds: seconds, downloads: NO_DOWNLOADS });
        log(`${inputs.name}: wrote ${file} (sha256 ${sha256}, mode 0600)${pushed ? `, pushed ${refOf(inputs)}@${pushed}` : ""}`);
        const published = pushed
            ? { ref: refOf(inputs), digest: pushed, pinned: pinnedOf(inputs, pushed) }
            : { ref: file, digest: `sha256:${sha256}`, pinned: `${file}@sha256:${sha256}` };
        return {
            ...(withoutSeed(inputs) as ArtifactInputs),
            ...published,
            cacheHit,
            buildSeconds: cacheHit ? 0 : seconds,
            downloads: NO_DOWNLOADS,
            details: { path: file, sha256 },
            ...(inputs.runId !== undefined ? { createdInRun: inputs.runId } : {}),
            // Pushed: the tag is there now.
            ...(inputs.tagInRegistry !== undefined ? { tagInRegistry: pushed !== undefined } : {}),
        };
    },

    async read(props) {
        if (fileSha256(props.path!) !== shaOf(props)) {
            appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "gone", digest: props.digest });
            return undefined;
        }
        return props;
    },

    diff(olds, news) {
        const replaces: string[] = [];
        if (olds.key !== news.key) replaces.push("key");
        if (olds.path !== news.path) replaces.push("path");
        if (pushTarget(olds) !== pushTarget(news)) replaces.push("push");
        if (replaces.length === 0 && fileSha256(olds.path!) !== shaOf(olds)) replaces.push("sha256");
        // A pushed ISO whose tag is gone from the registry: written and pushed again by a plain up.
        if (replaces.length === 0 && news.build?.push === true && news.tagInRegistry === false) {
            return { changes: true, replaces: ["tagInRegistry"], reason: TAG_GONE_REASON, deleteBeforeReplace: olds.path === news.path };
        }
        const changes = diffInputs(olds.inputs ?? {}, news.inputs);
        if (replaces.length && olds.key !== news.key) {
            for (const name of [...changes.changed, ...changes.added]) replaces.push(`inputs[${JSON.stringify(name)}]`);
        }
        // Same path (the file was altered or deleted): the old one must go before the new is written.
        return { changes: replaces.length > 0, replaces, reason: describeInputChanges(changes, olds.inputs ?? {}, news.inputs), deleteBeforeReplace: olds.path === news.path };
    },

    async update(olds, news) {
        const { push: _legacy, sha256: _sha, ...current } = olds as any;
        return { ...current, ...(withoutSeed(news) as ArtifactInputs), ref: olds.ref, digest: olds.digest, pinned: olds.pinned, details: { path: olds.path, sha256: shaOf(olds) } } as ArtifactOutputs;
    },

    async delete(props) {
        if (fileSha256(props.path!) === shaOf(props)) fs.rmSync(props.path!, { force: true });
        appendJournal({ artifact: props.name, kind: props.kind, key: props.key, action: "delete", digest: props.digest });
    },
};
