// CargoDepsImage's provider side: buildah (daemonless), or nothing when Docker built it. Its SBOM
// also lists the crates it compiles: the external packages of the context's Cargo.lock.
import * as fs from "fs";
import { Builder } from "../../core/lifecycle";
import { buildImage, ImageBuildSpec } from "../../images/buildah";
import { Crate, externalCrates } from "../../sbom/cargoLock";

/** The crates of a deps image: the external packages of the Cargo.lock at the root of its build context. */
export function cratesOfContext(files: ImageBuildSpec["contextFiles"]): Crate[] | undefined {
    const lock = files.find((f) => f.path === "Cargo.lock");
    const text = lock?.text ?? (lock?.from && fs.existsSync(lock.from) ? fs.readFileSync(lock.from, "utf8") : undefined);
    return text === undefined ? undefined : externalCrates(text);
}

export const build: Builder = async (ctx) => {
    const result = await buildImage(ctx);
    const crates = cratesOfContext((ctx.inputs.build as ImageBuildSpec).contextFiles);
    return crates ? { ...result, sbom: { ...result.sbom, crates } } : result;
};
