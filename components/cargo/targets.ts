// The targets of a local package ([lib], [[bin]], examples, tests, benches, the build script, and the
// auto-discovered src/lib.rs and src/main.rs): a build context needs one source file each.
import * as path from "path";
import { WarmrunError } from "../core/errors";
import { byString, Context, inRoot, isTable, joinInside, LocalPackage, manifestPathOf, stringOf, tablesOf, Table } from "./manifest";

export type CargoTargetKind = "lib" | "bin" | "example" | "test" | "bench" | "build-script";

export interface CargoTarget {
    kind: CargoTargetKind;
    name: string;
    /** Relative to the package directory. */
    path: string;
}

export const DUMMY_MAIN = "fn main() {}\n";

export function targetsOf(ctx: Context, pkg: LocalPackage, files: Set<string>): CargoTarget[] {
    const has = (rel: string): boolean => files.has(pkg.dir ? `${pkg.dir}/${rel}` : rel);
    const pkgTable = (isTable(pkg.doc.package) ? pkg.doc.package : {}) as Table;
    const targets: CargoTarget[] = [];
    const firstExisting = (candidates: string[]): string => candidates.find(has) ?? candidates[0];

    if (isTable(pkg.doc.lib)) {
        targets.push({ kind: "lib", name: stringOf(pkg.doc.lib.name) ?? pkg.name.replace(/-/g, "_"), path: stringOf(pkg.doc.lib.path) ?? "src/lib.rs" });
    } else if (pkgTable.autolib !== false && has("src/lib.rs")) {
        targets.push({ kind: "lib", name: pkg.name.replace(/-/g, "_"), path: "src/lib.rs" });
    }

    for (const bin of tablesOf(pkg.doc.bin)) {
        const declaredPath = stringOf(bin.path);
        const name = stringOf(bin.name) ?? (declaredPath ? path.posix.basename(declaredPath, ".rs") : pkg.name);
        const candidates = [`src/bin/${name}.rs`, `src/bin/${name}/main.rs`];
        if (name === pkg.name) candidates.unshift("src/main.rs");
        targets.push({ kind: "bin", name, path: declaredPath ?? firstExisting(candidates) });
    }
    const declaredBin = (p: string, name: string): boolean => targets.some((t) => t.kind === "bin" && (t.path === p || t.name === name));
    if (pkgTable.autobins !== false && has("src/main.rs") && !declaredBin("src/main.rs", pkg.name)) {
        targets.push({ kind: "bin", name: pkg.name, path: "src/main.rs" });
    }

    for (const [kind, folder] of [["example", "examples"], ["test", "tests"], ["bench", "benches"]] as const) {
        for (const t of tablesOf(pkg.doc[kind])) {
            const name = stringOf(t.name) ?? path.posix.basename(stringOf(t.path) ?? kind, ".rs");
            targets.push({ kind, name, path: stringOf(t.path) ?? firstExisting([`${folder}/${name}.rs`, `${folder}/${name}/main.rs`]) });
        }
    }

    const build = pkgTable.build;
    if (typeof build === "string") targets.push({ kind: "build-script", name: "build-script-build", path: build });
    else if (build === true || (build === undefined && has("build.rs"))) targets.push({ kind: "build-script", name: "build-script-build", path: "build.rs" });

    // A crate with only src/bin/* binaries still needs a target in the skeleton, or Cargo refuses the manifest.
    if (!targets.some((t) => t.kind === "lib" || t.kind === "bin")) {
        const prefix = pkg.dir ? `${pkg.dir}/src/bin/` : "src/bin/";
        for (const f of [...files].filter((f) => f.startsWith(prefix)).sort(byString)) {
            const rest = f.slice(prefix.length);
            const m = /^([^/]+)\.rs$/.exec(rest) ?? /^([^/]+)\/main\.rs$/.exec(rest);
            if (m) targets.push({ kind: "bin", name: m[1], path: `src/bin/${rest}` });
        }
    }

    return targets.map((t) => {
        const inside = joinInside(pkg.dir, t.path);
        if (inside === undefined) {
            throw new WarmrunError(`${inRoot(ctx.label, manifestPathOf(pkg.dir))}: ${t.kind} target "${t.name}" has path "${t.path}", outside the workspace root; move it under the root`);
        }
        return { ...t, path: path.posix.relative(pkg.dir || ".", inside) };
    });
}
