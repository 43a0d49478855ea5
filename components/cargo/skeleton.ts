// The skeleton of a recipe: the build context that compiles only the dependencies (the recipe's
// files plus a stub per target).
import { joinInside } from "./manifest";
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
