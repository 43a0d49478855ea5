// Masking: local package versions (and path-dependency requirements on them) become MASKED_VERSION,
// lints go, dropped members leave the workspace lists, and the manifest is re-serialized canonically.
import fg from "fast-glob";
import { canonicalToml, Context, dependencyTables, isTable, localDirOf, manifestPathOf, normalizeRel, sortedCopy, Table } from "./manifest";

/** What local package versions (and path-dependency requirements on them) are masked to. */
export const MASKED_VERSION = "0.0.1";

export interface Masking {
    /** Local package directories whose versions are masked. */
    maskedDirs: Set<string>;
    /** Local package directories left out of the recipe. */
    droppedDirs: Set<string>;
}

/** Masks the `version` of path dependencies on masked packages, in place. */
function maskPathDependencies(ctx: Context, manifestPath: string, manifestDir: string, table: Table, masking: Masking): void {
    for (const [depName, entry] of Object.entries(table)) {
        if (!isTable(entry) || entry.workspace === true || entry.version === undefined) continue;
        const dir = localDirOf(ctx, manifestPath, manifestDir, depName, entry);
        if (dir !== undefined && masking.maskedDirs.has(dir)) entry.version = MASKED_VERSION;
    }
}

function withoutDropped(list: unknown, dropped: Set<string>): unknown {
    if (!Array.isArray(list)) return list;
    return list.filter((m) => typeof m !== "string" || fg.isDynamicPattern(m) || !dropped.has(normalizeRel(m)));
}

export function normalizeManifest(ctx: Context, dir: string, original: Table, masking: Masking): string {
    const doc = sortedCopy(original) as Table;
    const manifestPath = manifestPathOf(dir);
    delete doc.lints;
    for (const key of ["package", "project"]) {
        const pkg = doc[key];
        // `version.workspace = true` is kept: it inherits the masked [workspace.package].version.
        if (isTable(pkg) && masking.maskedDirs.has(dir) && !isTable(pkg.version)) pkg.version = MASKED_VERSION;
    }
    for (const table of dependencyTables(doc)) maskPathDependencies(ctx, manifestPath, dir, table, masking);

    const workspace = doc.workspace;
    if (isTable(workspace)) {
        delete workspace.lints;
        if (isTable(workspace.package) && typeof workspace.package.version === "string") workspace.package.version = MASKED_VERSION;
        if (isTable(workspace.dependencies)) {
            const deps = workspace.dependencies;
            for (const [depName, entry] of Object.entries(deps)) {
                const local = localDirOf(ctx, manifestPath, "", depName, entry);
                if (local !== undefined && masking.droppedDirs.has(local)) delete deps[depName];
            }
            maskPathDependencies(ctx, manifestPath, "", deps, masking);
        }
        for (const key of ["members", "default-members"]) {
            if (workspace[key] === undefined) continue;
            workspace[key] = withoutDropped(workspace[key], masking.droppedDirs);
            if (key === "default-members" && Array.isArray(workspace[key]) && (workspace[key] as unknown[]).length === 0) delete workspace[key];
        }
    }
    return canonicalToml(doc);
}
