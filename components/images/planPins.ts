// Where an image kind's plan pins its external images: the kind's fields (pinExternalImages,
// target), its upstreams' build-argument names and the stack's resolver, handed to
// images/pinning.ts; the answer as a plan wants it (key material, text to build, base, log lines).
import * as path from "path";
import { PlanBase, PlanContext } from "../core/kind";
import { upstreamArgNames } from "./imagePlan";
import { pinContainerfile } from "./pinning";

export interface ImagePins {
    /** The Containerfile the build uses: each external image rewritten to name@digest. */
    text: string;
    /** Key material (`FROM debian:trixie` -> digest); absent when none was resolved, so such keys are what they were. */
    images?: Record<string, string>;
    /** What the target stage is built on. */
    base: PlanBase;
    /** One line per external image: what it was pinned to. */
    messages: string[];
}

/** A path for messages: relative to the project when it is inside it. */
function shown(file: string, projectRoot: string): string {
    const rel = path.relative(projectRoot, file);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Pins the external images of an image kind's Containerfile (unless its pinExternalImages is
 * false): the text to build, the digests for the key, the base for the provenance annotations.
 */
export async function pinImagesOf(
    fields: { target?: string; pinExternalImages?: boolean },
    ctx: Pick<PlanContext, "name" | "projectRoot" | "upstream" | "resolveImage">,
    containerfile: string,
    text: string,
    buildArgs: Record<string, string>,
): Promise<ImagePins> {
    const args = upstreamArgNames(Object.keys(ctx.upstream));
    const pin = await pinContainerfile({
        artifact: ctx.name,
        containerfile: shown(containerfile, ctx.projectRoot),
        text,
        buildArgs,
        upstreamArgs: Object.keys(args),
        target: fields.target,
        pin: fields.pinExternalImages !== false,
        resolve: ctx.resolveImage,
    });
    const base: PlanBase = pin.base && "upstreamArg" in pin.base ? { upstream: args[pin.base.upstreamArg] } : pin.base;
    const messages = pin.pinned.map(
        (i) => `${ctx.name}: ${i.use} ${i.ref} (line ${i.line}) ${i.givenDigest ? "is pinned as written" : `is ${i.digest}: the build uses ${i.pinned}`}`,
    );
    return { text: pin.text, ...(Object.keys(pin.images).length ? { images: pin.images } : {}), base, messages };
}
