// External images pinned by digest: every image a Containerfile builds from that is not a stack
// upstream is resolved to its manifest (or index) digest at preview, the digest enters the key,
// and the build gets the Containerfile rewritten to `name@sha256:...`, so what is built is what
// is keyed. No @pulumi import: the wiring hands in the registry password as a function.
import { WarmrunError } from "../core/errors";
import type { ImageResolver } from "../core/kind";
import { defaultInsecure, RegistryClient, RegistryConnection } from "../oci/registry";
import { DOCKER_HUB, DOCKER_HUB_API, ImageName, parseImageName, pinnedReference } from "../oci/reference";
import { analyzeContainerfile, baseOf, ImageMention, rewriteImages } from "./containerfile";

/** `host/repository`, fully qualified. */
export function imageRepository(name: ImageName): string {
    return `${name.host}/${name.repository}`;
}

/** The reference a build uses: fully qualified, by digest (buildah takes no tag and digest together). */
function pinnedImage(name: ImageName, digest: string): string {
    return pinnedReference({ host: name.host, repository: name.repository, digest });
}

export interface ResolverOptions {
    /** The stack's registry: images there are asked with its credentials and its insecure setting. */
    stackRegistry: { host: string; insecure: boolean; username?: string };
    /** The stack registry's password, when there is one (read once, when first needed). */
    password?: () => Promise<string | undefined>;
    /** How to connect (tests count requests); default a RegistryClient. */
    connect?: (conn: RegistryConnection) => RegistryClient;
}

/**
 * One resolver for the whole program: a registry client per host (its bearer tokens reused) and
 * each image asked once. Hosts on loopback speak plain HTTP, as warmrun:registryInsecure defaults.
 */
export function registryResolver(opts: ResolverOptions): ImageResolver {
    const clients = new Map<string, Promise<RegistryClient>>();
    const connect = opts.connect ?? ((conn: RegistryConnection) => new RegistryClient(conn));
    const clientFor = (host: string): Promise<RegistryClient> => {
        if (!clients.has(host)) {
            clients.set(
                host,
                (async () => {
                    if (host === opts.stackRegistry.host) {
                        const password = opts.stackRegistry.username !== undefined && opts.password ? await opts.password() : undefined;
                        return connect({ host, insecure: opts.stackRegistry.insecure, username: opts.stackRegistry.username, password });
                    }
                    return connect({ host: host === DOCKER_HUB ? DOCKER_HUB_API : host, insecure: defaultInsecure(host) });
                })(),
            );
        }
        return clients.get(host)!;
    };
    return sharedResolver((name) =>
        clientFor(name.host)
            .then((c) => c.resolveTag(name.repository, name.tag ?? "latest"))
            .catch((e) => Promise.reject(resolutionError(name, opts.stackRegistry.host, e))),
    );
}

/** A resolver that asks `resolve` once per image (host/repository:tag), however many artifacts name it. */
export function sharedResolver(resolve: ImageResolver): ImageResolver {
    const answers = new Map<string, Promise<string | undefined>>();
    return (name) => {
        const ref = `${imageRepository(name)}:${name.tag ?? "latest"}`;
        if (!answers.has(ref)) answers.set(ref, resolve(name));
        return answers.get(ref)!;
    };
}

/** The registry client's messages speak of warmrun:registry; for an external image, say what applies to it. */
function resolutionError(name: ImageName, stackHost: string, e: any): WarmrunError {
    const message = String(e?.message ?? e);
    if (name.host === stackHost) return new WarmrunError(message);
    const unreachable = /is unreachable \(([^)]*)\)/.exec(message);
    if (unreachable) return new WarmrunError(`registry ${name.host} is unreachable (${unreachable[1]})`);
    if (/\b401\b|refused a token/.test(message)) {
        // The client asked the credentials docker/podman login keep for that host (oci/credentials.ts).
        const rejected = /the credentials from (.*) were rejected/.exec(message);
        return new WarmrunError(
            `registry ${name.host} wants credentials${rejected ? ` and rejected those from ${rejected[1]}` : ", and none were found for it"}: ` +
                `log in to it (\`docker login ${name.host}\` or \`podman login ${name.host}\`), copy the image into ${stackHost}, or write it with its digest`,
        );
    }
    return new WarmrunError(message);
}

/** One external image as it enters the key: `FROM debian:trixie` -> its digest. */
export function imageEntryName(m: ImageMention): string {
    return `${m.use} ${m.value}`;
}

export interface PinnedImage {
    use: ImageMention["use"];
    line: number;
    /** As written after substitution, e.g. debian:trixie. */
    ref: string;
    /** What the build uses, e.g. docker.io/library/debian@sha256:... */
    pinned: string;
    digest: string;
    /** Written with a digest already: used as it is. */
    givenDigest: boolean;
}

/**
 * What a build is based on, for the org.opencontainers.image.base.* annotations: a pinned image,
 * an upstream's build arg, or null: scratch, or an image left unpinned (not known).
 */
export type BaseRef = { name: string; digest: string } | { upstreamArg: string } | null;

export interface PinResult {
    /** The Containerfile the build uses: each external image rewritten to its pinned reference. */
    text: string;
    /** Key material: entry name (`FROM debian:trixie`) -> digest, for images resolved here. */
    images: Record<string, string>;
    pinned: PinnedImage[];
    /** The target stage's base: an external image, an upstream's build arg, or null (scratch). */
    base: BaseRef;
}

export interface PinRequest {
    /** The artifact, for messages. */
    artifact: string;
    /** The Containerfile as the user knows it (a path relative to the project), for messages. */
    containerfile: string;
    text: string;
    /** The user's build args. */
    buildArgs: Record<string, string>;
    /** Names of the stack's upstreams of this artifact (they arrive as BASE, UPSTREAM_<NAME>). */
    upstreamArgs: string[];
    target?: string;
    /** false: today's behaviour, nothing resolved, the text left as it is (unsafe). */
    pin: boolean;
    resolve: ImageResolver;
}

const UPSTREAM_PLACEHOLDER = "warmrun.invalid/upstream@sha256:" + "0".repeat(64);

function fixOf(artifact: string): string {
    return (
        "fix the image name or tag, push it, or write it with a digest (name@sha256:...); " +
        `warmrun:artifacts.${artifact}.pinExternalImages: false stops pinning (unsafe: the key then misses changes behind tags)`
    );
}

/**
 * Resolves every external image of a Containerfile (or, with pin false, none) and gives the text
 * to build, the key material and the base. Every image that cannot be resolved is reported in one
 * WarmrunError naming the artifact, the Containerfile and the line.
 */
export async function pinContainerfile(req: PinRequest): Promise<PinResult> {
    const upstreamArgs = req.upstreamArgs.filter((a) => !(a in req.buildArgs));
    const buildArgs = { ...Object.fromEntries(upstreamArgs.map((a) => [a, UPSTREAM_PLACEHOLDER])), ...req.buildArgs };
    const found = analyzeContainerfile(req.text, { buildArgs, upstreamArgs });
    const baseMention = baseOf(found.stages, req.target);
    const where = (m: ImageMention) => `${req.containerfile} line ${m.line}`;
    const problems: string[] = [];
    const pinned: PinnedImage[] = [];
    const replacements: { mention: ImageMention; with: string }[] = [];
    const images: Record<string, string> = {};
    const byMention = new Map<ImageMention, PinnedImage>();

    await Promise.all(
        found.images.map(async (m) => {
            if (m.upstreamArg) return;
            if (m.value === undefined) {
                if (req.pin) problems.push(`${m.use} ${m.written} (${where(m)}): ${m.unset.join(", ")} has no value: declare a default (ARG ${m.unset[0]}=...) or set warmrun:artifacts.${req.artifact}.buildArgs.${m.unset[0]}`);
                return;
            }
            const name = parseImageName(m.value);
            if (!name) {
                if (req.pin) problems.push(`${m.use} ${m.value} (${where(m)}) is not an image reference: write [host/]name[:tag][@sha256:...]`);
                return;
            }
            if (name.digest) {
                const p: PinnedImage = { use: m.use, line: m.line, ref: m.value, pinned: m.value, digest: name.digest, givenDigest: true };
                pinned.push(p);
                byMention.set(m, p);
                return;
            }
            if (!req.pin) return;
            let digest: string | undefined;
            try {
                digest = await req.resolve(name);
            } catch (e: any) {
                problems.push(`${m.use} ${m.value} (${where(m)}) cannot be resolved: ${e?.message ?? e}`);
                return;
            }
            if (!digest) {
                problems.push(`${m.use} ${m.value} (${where(m)}) cannot be resolved: ${imageRepository(name)} has no tag ${name.tag ?? "latest"}`);
                return;
            }
            const p: PinnedImage = { use: m.use, line: m.line, ref: m.value, pinned: pinnedImage(name, digest), digest, givenDigest: false };
            pinned.push(p);
            byMention.set(m, p);
            replacements.push({ mention: m, with: p.pinned });
            images[imageEntryName(m)] = digest;
        }),
    );
    if (problems.length) {
        problems.sort();
        throw new WarmrunError(
            `warmrun:artifacts.${req.artifact}: ${problems.length === 1 ? "an image" : `${problems.length} images`} of ${req.containerfile} cannot be pinned by digest:\n` +
                problems.map((p) => `  - ${p}`).join("\n") +
                `\n  ${fixOf(req.artifact)}`,
        );
    }
    pinned.sort((a, b) => a.line - b.line || a.use.localeCompare(b.use));
    let base: BaseRef = null;
    if (baseMention?.upstreamArg) base = { upstreamArg: baseMention.upstreamArg };
    else if (baseMention && byMention.has(baseMention)) {
        const p = byMention.get(baseMention)!;
        base = { name: p.pinned, digest: p.digest };
    }
    return { text: req.pin ? rewriteImages(req.text, replacements) : req.text, images, pinned, base };
}

