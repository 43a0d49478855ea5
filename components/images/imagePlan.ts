// What the image kinds' plans share (pure): the build spec an image plan gives, the Containerfile's
// entry in the key, the build arguments that carry the upstreams, and the checks of build arguments.
import { FileEntry, sha256Hex } from "../core/keys";
import { FieldSpec, Plan } from "../core/kind";
import { ImageBuildSpec } from "./buildah";

/** An image kind's build spec before the upstreams' references join its build arguments. */
export type ImageSpec = Omit<ImageBuildSpec, "buildArgs"> & { buildArgs: Record<string, string> };

export type ImagePlan = Plan<ImageSpec>;

/** The Containerfile enters the key as a file of its own, whatever its name or place. */
export function containerfileEntry(text: string): FileEntry {
    return { path: "@containerfile", sha256: sha256Hex(text), executable: false };
}

export function buildArgsProblems(buildArgs: Record<string, unknown> | undefined, where: string): string[] {
    if (buildArgs && Object.values(buildArgs).some((v) => typeof v !== "string")) {
        return [`${where}.buildArgs: every build argument must be a string (quote numbers)`];
    }
    return [];
}

/**
 * The build arguments that carry the upstreams' pinned references, each to its upstream's name:
 * UPSTREAM_<NAME> for each, then BASE when there is exactly one.
 */
export function upstreamArgNames(upstreams: string[]): Record<string, string> {
    const args: Record<string, string> = {};
    const names = [...upstreams].sort();
    for (const n of names) args[`UPSTREAM_${n.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`] = n;
    if (names.length === 1) args.BASE = names[0];
    return args;
}

/** The image kinds' opt-out of pinning (images/pinning.ts). */
export const PIN_EXTERNAL_IMAGES: FieldSpec = {
    type: "boolean",
    description: "resolve every external image (FROM, COPY --from) to a digest at preview, key and build by it (default true; false is unsafe)",
};
