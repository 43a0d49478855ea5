// Cargo recipes: the part of a Rust workspace that decides which external crates are compiled and how,
// normalized so that the key of a dependencies image ignores source edits, local version bumps and formatting.
/**
 * A recipe holds, per workspace, normalized text for:
 * - every manifest of the local packages the build needs (`package.version`, `[workspace.package].version`
 *   and the `version` of path dependencies masked to "0.0.1"; `[lints]` and `[workspace.lints]` dropped;
 *   keys sorted at every depth, so comments and formatting vanish);
 * - Cargo.lock, with local packages at version "0.0.1" and only the packages the kept local packages reach;
 * - `.cargo/config(.toml)`, `rust-toolchain(.toml)` and the caller's Dockerfile, as they are.
 *
 * Dependency-free members are left out. A local package whose transitive closure of path dependencies
 * (dev- and build-dependencies included) has no external dependency, and that no kept package depends on,
 * contributes nothing to the dependencies image: it is dropped with its manifest, its Cargo.lock entry,
 * its entry in a literal `[workspace].members` / `default-members` list and any `[workspace.dependencies]`
 * path entry naming it. Adding such a crate therefore keeps the key; it is kept (and changes the key) as
 * soon as it gains an external dependency or a kept package depends on it. The root package, when the
 * root manifest has `[package]`, is always kept, as are crates named by path in `[patch]`/`[replace]`
 * (the latter keep their versions, which the patch must match).
 *
 * Path dependencies must stay under the root (a build context cannot reach outside it); one that leaves
 * it is an error naming the manifest.
 *
 * With `bin`, only the package of that name (or holding a binary target of that name), the root package
 * and their local closure are kept, and Cargo.lock is cut down to what they reach.
 *
 * Targets are part of the recipe too (a build context needs one source file per target): declared
 * `[lib]`, `[[bin]]`, `[[example]]`, `[[test]]`, `[[bench]]`, the build script, and the auto-discovered
 * src/lib.rs and src/main.rs when the source has them.
 */
import * as path from "path";
import { WarmrunError } from "../core/errors";
import { byString, Context, inRoot, isTable, joinInside, LocalPackage, manifestPathOf, normalizeRel, parseTomlFile } from "./manifest";
import { RecipeSource, loadPackages, localClosure, memberDirs, needingExternal, patchDirs } from "./workspace";
import { CargoTarget, targetsOf } from "./targets";
import { Masking, normalizeManifest } from "./mask";
import { normalizeLock } from "./lock";

export interface CargoMember {
    name: string;
    /** Package directory relative to the workspace root; "" for the root package. */
    dir: string;
    targets: CargoTarget[];
}

export interface CargoRecipe {
    /** Normalized path -> normalized text. */
    files: Record<string, string>;
    /** The local packages kept in the recipe, by directory. */
    members: CargoMember[];
}

export interface CargoRecipeOptions {
    /** A Dockerfile, relative to the root, carried into the recipe as it is. */
    dockerfile?: string;
    /** Keep only the package of this name, or holding a binary of this name, and what it needs. */
    bin?: string;
}

const EXTRA_FILES = [".cargo/config.toml", ".cargo/config", "rust-toolchain", "rust-toolchain.toml"];

export async function cargoRecipe(source: RecipeSource, opts: CargoRecipeOptions = {}): Promise<CargoRecipe> {
    const label = source.label ?? ".";
    const [fileList, rootText, lockText] = await Promise.all([source.list(), source.read("Cargo.toml"), source.read("Cargo.lock")]);
    if (rootText === undefined) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} is missing: point the root at the directory of the workspace's Cargo.toml`);
    }
    const rootDoc = parseTomlFile(rootText, inRoot(label, "Cargo.toml"));
    if (lockText === undefined) {
        throw new WarmrunError(`${inRoot(label, "Cargo.lock")} is missing: run \`cargo generate-lockfile\` and commit it`);
    }
    const lockDoc = parseTomlFile(lockText, inRoot(label, "Cargo.lock"));
    const workspace = isTable(rootDoc.workspace) ? rootDoc.workspace : undefined;
    const hasRootPackage = isTable(rootDoc.package) || isTable(rootDoc.project);
    if (!workspace && !hasRootPackage) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} has neither [package] nor [workspace]; point the root at a Cargo workspace`);
    }
    const ctx: Context = { label, workspaceDeps: workspace && isTable(workspace.dependencies) ? workspace.dependencies : {} };
    const files = new Set(fileList);

    const manifestDirs = fileList.filter((f) => f === "Cargo.toml" || f.endsWith("/Cargo.toml")).map((f) => normalizeRel(path.posix.dirname(f)));
    const members = [...(hasRootPackage ? [""] : []), ...(workspace ? memberDirs(ctx, workspace, manifestDirs) : [])];
    const patches = patchDirs(ctx, rootDoc);
    const packages = await loadPackages(source, ctx, rootDoc, [
        ...members.map((dir) => ({ dir, neededBy: "[workspace].members in Cargo.toml" })),
        ...patches.map((dir) => ({ dir, neededBy: "[patch] in Cargo.toml" })),
    ]);
    const targets = new Map([...packages.values()].map((p) => [p.dir, targetsOf(ctx, p, files)]));
    const memberClosure = localClosure(members, packages);

    let wanted: string[];
    if (opts.bin !== undefined) {
        const bin = opts.bin;
        const named = [...packages.values()].filter(
            (p) => memberClosure.has(p.dir) && (p.name === bin || (targets.get(p.dir) ?? []).some((t) => t.kind === "bin" && t.name === bin)),
        );
        if (named.length === 0) {
            const choices = [...memberClosure].flatMap((d) => [packages.get(d)?.name ?? "", ...(targets.get(d) ?? []).filter((t) => t.kind === "bin").map((t) => t.name)]);
            throw new WarmrunError(
                `no package or binary named "${bin}" in the workspace at ${label}; choose one of: ${[...new Set(choices)].filter(Boolean).sort(byString).join(", ")}`,
            );
        }
        wanted = named.map((p) => p.dir);
    } else {
        wanted = [...needingExternal(packages)];
    }
    const kept = localClosure([...wanted, ...(hasRootPackage ? [""] : []), ...patches], packages);
    // Patched crates keep their versions: the patch must still match the requirements on it.
    const patchOnly = new Set([...localClosure(patches, packages)].filter((d) => !memberClosure.has(d)));
    const masking: Masking = {
        maskedDirs: new Set([...kept].filter((d) => !patchOnly.has(d))),
        droppedDirs: new Set([...packages.keys()].filter((d) => !kept.has(d))),
    };

    const out: Record<string, string> = {};
    out["Cargo.toml"] = normalizeManifest(ctx, "", rootDoc, masking);
    for (const dir of kept) if (dir !== "") out[manifestPathOf(dir)] = normalizeManifest(ctx, dir, (packages.get(dir) as LocalPackage).doc, masking);
    const nameOf = (dirs: Iterable<string>): Set<string> => new Set([...dirs].map((d) => (packages.get(d) as LocalPackage).name));
    out["Cargo.lock"] = normalizeLock(lockDoc, nameOf(kept), nameOf(masking.maskedDirs));

    const extras = [...EXTRA_FILES];
    if (opts.dockerfile !== undefined) {
        const dockerfile = joinInside("", opts.dockerfile);
        if (dockerfile === undefined || !files.has(dockerfile)) {
            throw new WarmrunError(`${inRoot(label, opts.dockerfile)} is missing: give the path of the Dockerfile relative to the workspace root`);
        }
        extras.push(dockerfile);
    }
    const extraTexts = await Promise.all(extras.map((p) => (files.has(p) ? source.read(p) : Promise.resolve(undefined))));
    extras.forEach((p, i) => {
        const text = extraTexts[i];
        if (text !== undefined) out[p] = text;
    });

    const recipeMembers = [...kept]
        .sort(byString)
        .map((dir) => ({ name: (packages.get(dir) as LocalPackage).name, dir, targets: targets.get(dir) ?? [] }));
    return { files: out, members: recipeMembers };
}

/** The build context that compiles only the dependencies: the recipe's files plus a stub per target. */
