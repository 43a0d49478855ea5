// Where an image kind's plan pins its external images: the kind's fields (pinExternalImages,
// target), its upstreams' build-arg names and the stack's resolver, handed to
// components/images/pinning.ts.
import * as path from "path";
import type { KindArgs } from "../kind";
import { upstreamBuildArgs } from "../imageBuild";
import { pinContainerfile, PinResult, registryResolver } from "./pinning";

/**
 * Pins the external images of an image kind's Containerfile (unless its pinExternalImages is
 * false): the text to build, the digests for the key, the base for the provenance annotations.
 */
export function pinImagesOf(fields: Record<string, any>, args: KindArgs, containerfile: string, text: string, buildArgs: Record<string, string>, upstream: Record<string, string>): Promise<PinResult> {
    return pinContainerfile({
        artifact: args.spec?.name ?? path.basename(path.dirname(containerfile)),
        containerfile: path.relative(process.cwd(), containerfile) || containerfile,
        text,
        buildArgs,
        upstreamArgs: Object.keys(upstreamBuildArgs(Object.fromEntries(Object.keys(upstream).map((n) => [n, ""])))),
        target: fields.target,
        pin: fields.pinExternalImages !== false,
        resolve: args.resolveImage ?? registryResolver({ stackRegistry: args.registry ?? { host: "", insecure: false } }),
    });
}
