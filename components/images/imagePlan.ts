// What the image kinds' plans share (pure): the build spec an image plan gives, the Containerfile's
// entry in the key, and the checks of build arguments.
import { FileEntry, sha256Hex } from "../core/keys";
import { Plan } from "../core/kind";
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
