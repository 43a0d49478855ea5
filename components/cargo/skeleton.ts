// The skeleton of a recipe: the build context that compiles only the dependencies (the recipe's
// files plus a stub per target), and its entries in a key.
import { FileEntry, sha256Hex } from "../core/keys";
import { byString, joinInside } from "./manifest";
import { DUMMY_MAIN } from "./targets";
import { CargoRecipe } from "./recipe";

/** The build context that compiles only the dependencies: the recipe's files plus a stub per target. */
export function skeleton(recipe: CargoRecipe): Record<string, string> {
    const files: Record<string, string> = {};
    for (const member of recipe.members) {
        for (const t of member.targets) {
            const p = joinInside(member.dir, t.path);
            if (p !== undefined) files[p] = t.kind === "lib" ? "" : DUMMY_MAIN;
        }
    }
    return { ...files, ...recipe.files };
}

/**
 * The key entries of a recipe: one per file of its skeleton, so a target appearing or going away
 * changes the key along with every normalized file.
 */
export function recipeEntries(recipe: CargoRecipe): FileEntry[] {
    return Object.entries(skeleton(recipe))
        .map(([p, text]) => ({ path: p, sha256: sha256Hex(text), executable: false }))
        .sort((a, b) => byString(a.path, b.path));
}

/** The key material of a dependencies image built from a recipe. */
