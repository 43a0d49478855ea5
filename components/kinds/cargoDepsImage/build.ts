// CargoDepsImage's provider side: buildah (daemonless, warm-started when it can), or nothing when Docker built it. Its SBOM
// also lists the crates it compiles: the external packages of the context's Cargo.lock.
import * as fs from "fs";
import { Builder } from "../../core/lifecycle";
import { imageBuilder, ImageBuildSpec } from "../../images/buildah";
import { buildCargoDepsImage } from "../../images/warmBuild";
import { Crate, externalCrates } from "../../sbom/cargoLock";

/** The crates of a deps image: the external packages of the Cargo.lock at the root of its build context. */
export function cratesOfContext(files: ImageBuildSpec["contextFiles"]): Crate[] | undefined {
    const lock = files.find((f) => f.path === "Cargo.lock");
    const text = lock?.text ?? (lock?.from && fs.existsSync(lock.from) ? fs.readFileSync(lock.from, "utf8") : undefined);
    return text === undefined ? undefined : externalCrates(text);
}

// Warm starts from the closest earlier image of the artifact, else cold (images/warmBuild.ts).
const buildDeps = imageBuilder(buildCargoDepsImage);

export const build: Builder = async (ctx) => {
    const result = await buildDeps(ctx);
    const crates = cratesOfContext((ctx.inputs.build as ImageBuildSpec).contextFiles);
    return crates ? { ...result, sbom: { ...result.sbom, crates } } : result;
};
