// Image builds without a daemon: buildah with chroot isolation (vfs storage unless STORAGE_DRIVER
// names another), from a context directory that holds exactly the files the key was computed from.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { execFile } from "child_process";
import { Builder, BuildContext, BuildResult, refOf } from "../core/lifecycle";
import { artifactAnnotations } from "../oci/annotations";
import { runTool, ToolError } from "../core/process";
import { summaryOf } from "../downloads/counter";
import { WarmrunError } from "../core/errors";
import { provenanceAnnotations } from "../oci/provenance";
import { buildahLayerCacheArgs } from "./layerCache";
import type { CookSpec } from "./warmStart";
import { DebPackage, debPackagesOfTree } from "../sbom/dpkg";
import { recordBuildImages, storageDriver } from "./storage";
import { withLabelInstruction } from "./containerfile";

export interface ImageBuildSpec {
    /** Files of the build context: copied from sourceRoot, or written from text. */
    contextFiles: { path: string; from?: string; text?: string; executable?: boolean }[];
    /** The Containerfile's text; written beside (not into) the context. */
    containerfileText: string;
    buildArgs: Record<string, string>;
    target?: string;
    /** The host's CA bundle, bind-mounted read-only into RUN steps (never into the image). */
    hostCaBundle?: string;
    /** Registry repository of cached steps (BaseImage step reuse, images/layerCache.ts). */
    layerCache?: string;
    /** CargoDepsImage with warmrun's own Dockerfile: its cook, and whether it may warm-start. */
    cook?: CookSpec;
}

export const BUILDAH_GLOBAL = ["--storage-driver", storageDriver()];
/** Debian's path of the system CA bundle, on the host and in Debian-based images. */
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Writes the context: only the listed files, so the build sees what the key saw. */
export function materializeContext(spec: ImageBuildSpec, dir: string): void {
    for (const f of spec.contextFiles) {
        const dest = path.join(dir, f.path);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        if (f.text !== undefined) fs.writeFileSync(dest, f.text);
        else fs.copyFileSync(f.from as string, dest);
        fs.chmodSync(dest, f.executable ? 0o755 : 0o644);
    }
}

export function budArgs(
    spec: ImageBuildSpec,
    opts: { contextDir: string; containerfile: string; image: string; insecure: boolean; labels: Record<string, string>; authfile?: string; annotations?: Record<string, string> },
): string[] {
    // --force-rm: a failed or interrupted build's working containers go too; left behind, each holds
    // the images it was made from, which the run's storage release could then never remove.
    const args = [...BUILDAH_GLOBAL, "bud", "--isolation", "chroot", "--format", "oci", "--force-rm", ...buildahLayerCacheArgs(spec.layerCache), "-f", opts.containerfile, "-t", opts.image];
    if (opts.insecure) args.push("--tls-verify=false");
    if (opts.authfile) args.push("--authfile", opts.authfile);
    if (spec.target) args.push("--target", spec.target);
    if (spec.hostCaBundle) args.push("--volume", `${spec.hostCaBundle}:${HOST_CA_BUNDLE}:ro`);
    for (const [k, v] of Object.entries(spec.buildArgs).sort()) args.push("--build-arg", `${k}=${v}`);
    // The labels themselves are a LABEL instruction in the Containerfile (withLabelInstruction).
    for (const [k, v] of Object.entries(opts.labels).sort()) args.push("--annotation", `${k}=${v}`);
    // Manifest-only annotations: provenance (org.opencontainers.image.*; buildah's own base.* give way to
    // these) and a deps image's warm-start facts.
    for (const [k, v] of Object.entries(opts.annotations ?? {}).sort()) args.push("--annotation", `${k}=${v}`);
    args.push(opts.contextDir);
    return args;
}

export function writeAuthFile(dir: string, host: string, username?: string, password?: string): string | undefined {
    if (username === undefined || password === undefined) return undefined;
    const file = path.join(dir, "auth.json");
    fs.writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString("base64") } } }), { mode: 0o600 });
    return file;
}

/** Pushes a local image under the artifact's tag: every blob the registry lacks, then the manifest. */
export async function pushWithBuildah(inputs: BuildContext["inputs"], image: string, tmp: string, authfile: string | undefined): Promise<string> {
    const digestFile = path.join(tmp, "digest");
    const dest = `docker://${refOf(inputs)}`;
    const pushArgs = [...BUILDAH_GLOBAL, "push", "--format", "oci", "--digestfile", digestFile, ...(inputs.registry.insecure ? ["--tls-verify=false"] : []), ...(authfile ? ["--authfile", authfile] : []), image, dest];
    // buildah pushes every blob before the manifest, so the tag only ever names a whole image.
    await runTool(inputs.name, "buildah", pushArgs, { secrets: [inputs.registry.password ?? ""] }).catch((e) => {
        throw e instanceof ToolError
            ? new WarmrunError(`${inputs.name}: buildah push to ${refOf(inputs)} failed (exit ${e.exitCode}); the manifest goes last, so the tag was not set; last lines:\n${e.tail}`)
            : e;
    });
    const digest = fs.readFileSync(digestFile, "utf8").trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new WarmrunError(`${inputs.name}: buildah push wrote no digest`);
    return digest;
}

/**
 * opts.stream: where the build's output goes as it streams (default: the provider's stderr);
 * opts.annotations: manifest annotations beside the provenance (a deps image's warm-start facts).
 */
export async function buildWithBuildah(
    ctx: BuildContext,
    opts: { stream?: (text: string) => void; annotations?: Record<string, string> } = {},
): Promise<BuildResult & { output: string }> {
    const { inputs, log } = ctx;
    const spec = inputs.build as ImageBuildSpec;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-image-"));
    const image = `localhost/warmrun-build/${inputs.name}:${inputs.tag}`;
    // Builder storage: what this build makes or pulls is removed when the run ends (images/storage.ts).
    recordBuildImages(inputs, image);
    const secrets = [inputs.registry.password ?? ""];
    try {
        const contextDir = path.join(tmp, "context");
        materializeContext(spec, contextDir);
        const containerfile = path.join(tmp, "Containerfile");
        const labels = artifactAnnotations({ key: inputs.key, kind: inputs.kind, name: inputs.name });
        fs.writeFileSync(containerfile, withLabelInstruction(spec.containerfileText, labels, spec.target));
        const authfile = writeAuthFile(tmp, inputs.registry.host, inputs.registry.username, inputs.registry.password);
        log(`${inputs.name}: buildah bud (${spec.contextFiles.length} context files)`);
        const annotations = { ...provenanceAnnotations(inputs.provenance), ...(opts.annotations ?? {}) };
        const built = await runTool(inputs.name, "buildah", budArgs(spec, { contextDir, containerfile, image, insecure: inputs.registry.insecure, labels, authfile, annotations }), { secrets, stream: opts.stream }).catch((e) => {
            throw e instanceof ToolError
                ? new WarmrunError(
                      `${inputs.name}: the image build failed (buildah bud exited with ${e.exitCode}), so nothing was pushed: fix the ` +
                          `Containerfile or the build context of warmrun:artifacts.${inputs.name} and run again; last lines:\n${e.tail}`,
                  )
                : e;
        });
        const digest = await pushWithBuildah(inputs, image, tmp, authfile);
        // For the SBOM: the image's Debian packages.
        const debs = await debPackagesOfLocalImage(inputs.name, image);
        // What the build steps downloaded (apt-get, cargo, ...), counted as buildah streamed their output.
        return { digest, downloads: summaryOf(built.downloads), sbom: { debs }, output: built.output };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

const run = promisify(execFile);

/** The Debian packages of an image in buildah's local storage, read from a mount of it; undefined when it has no dpkg database. */
export async function debPackagesOfLocalImage(what: string, image: string): Promise<DebPackage[] | undefined> {
    let container: string | undefined;
    try {
        const lastLine = async (args: string[]) => (await run("buildah", [...BUILDAH_GLOBAL, ...args], { maxBuffer: 1 << 20 })).stdout.trim().split("\n").pop() ?? "";
        container = await lastLine(["from", "--pull=never", image]);
        return debPackagesOfTree(await lastLine(["mount", container]));
    } catch (e: any) {
        throw new WarmrunError(`${what}: reading the built image's dpkg database for its SBOM failed: ${String(e?.stderr || e?.message).trim().slice(0, 300)}`);
    } finally {
        if (container) await run("buildah", [...BUILDAH_GLOBAL, "rm", container]).catch(() => undefined);
    }
}

/**
 * An image kind's provider-side build: buildah here, with the registry's credentials found at run
 * time; with Docker, @pulumi/docker-build built and pushed already.
 */
export function imageBuilder(build: Builder): Builder {
    return async (ctx) => {
        if (ctx.inputs.build?.builder === "docker") {
            throw new WarmrunError(`${ctx.inputs.name}: the Docker build did not push ${refOf(ctx.inputs)}; see the ${ctx.inputs.name}-docker resource's output`);
        }
        return build(await withFoundCredentials(ctx));
    };
}

export const buildImage: Builder = imageBuilder((ctx) => buildWithBuildah(ctx));

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
