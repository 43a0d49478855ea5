// The local packages of a Cargo workspace as the feature resolver sees them: members (listed, globbed,
// or path dependencies under the root), other path packages (patches, path dependencies outside the
// member list), each with its declared dependencies (workspace inheritance applied), features, edition,
// proc-macro flag, build script and binaries.
import * as path from "path";
import fg from "fast-glob";
import { WarmrunError } from "../core/errors";
import { inRoot, isTable, manifestPathOf, memberGlobToRegExp, normalizeRel, parseTomlFile, Table } from "./manifest";
import { RecipeSource } from "./workspace";
import { DepDecl, DepKind } from "./features";

function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

const parsedTexts = new Map<string, Table>();
const PARSED_TEXTS_MAX = 8192;

/**
 * Parses TOML; the same text is parsed once per process (replays and repeated previews read the same
 * manifests again and again). The result is shared: callers must not modify it.
 */
export function parseTomlText(text: string, where: string): Table {
    const cached = parsedTexts.get(text);
    if (cached) return cached;
    const doc = parseTomlFile(text, where);
    if (parsedTexts.size >= PARSED_TEXTS_MAX) parsedTexts.delete(parsedTexts.keys().next().value as string);
    parsedTexts.set(text, doc);
    return doc;
}

/** Forgets the parsed texts (benchmarks measure a cold computation this way). */
export function clearParsedTexts(): void {
    parsedTexts.clear();
}

/** A declared dependency of a local package, with where it points. */
export interface LocalDep extends DepDecl {
    /** Directory (relative to the root, may start with "../") of a path dependency. */
    localDir?: string;
    git?: string;
    registry?: string;
}

export interface LocalPackage {
    dir: string;
    manifestPath: string;
    name: string;
    version: string;
    edition: string;
    features: Record<string, string[]>;
    deps: LocalDep[];
    procMacro: boolean;
    hasBuildScript: boolean;
    hasLib: boolean;
    bins: string[];
    hasTests: boolean;
    member: boolean;
}

export interface LoadedWorkspace {
    label: string;
    rootDoc: Table;
    /** Member directories, in a stable order. */
    members: string[];
    /** `[workspace].default-members`, when set. */
    defaultMembers?: string[];
    /** The root manifest's package, if it has one. */
    rootPackage: boolean;
    packages: Map<string, LocalPackage>;
    resolver: 1 | 2;
    files: Set<string>;
}

const DEP_TABLES: Array<[string, DepKind]> = [
    ["dependencies", "normal"],
    ["dev-dependencies", "dev"],
    ["dev_dependencies", "dev"],
    ["build-dependencies", "build"],
    ["build_dependencies", "build"],
];

function joinRel(dir: string, rel: string): string {
    return normalizeRel(path.posix.join(dir || ".", rel.replace(/\\/g, "/")));
}

function declsOf(label: string, manifestPath: string, dir: string, doc: Table, workspaceDeps: Table): LocalDep[] {
    const out: LocalDep[] = [];
    const collect = (t: Table, target: string | null): void => {
        for (const [tableName, kind] of DEP_TABLES) {
            const table = t[tableName];
            if (!isTable(table)) continue;
            for (const [name, raw] of Object.entries(table)) out.push(declOf(label, manifestPath, dir, name, raw, kind, target, workspaceDeps));
        }
    };
    collect(doc, null);
    if (isTable(doc.target)) for (const [spec, t] of Object.entries(doc.target)) if (isTable(t)) collect(t, spec);
    return out;
}

function declOf(label: string, manifestPath: string, dir: string, name: string, raw: unknown, kind: DepKind, target: string | null, workspaceDeps: Table): LocalDep {
    let entry: Table = typeof raw === "string" ? { version: raw } : isTable(raw) ? raw : {};
    let baseDir = dir;
    let features = strings(entry.features);
    let defaultFeatures = entry["default-features"] !== false && entry.default_features !== false;
    if (entry.workspace === true) {
        const inherited = workspaceDeps[name];
        if (inherited === undefined) {
            throw new WarmrunError(
                `${inRoot(label, manifestPath)}: dependency "${name}" has workspace = true but the root Cargo.toml has no [workspace.dependencies] entry "${name}"; add it there`,
            );
        }
        const base: Table = typeof inherited === "string" ? { version: inherited } : isTable(inherited) ? inherited : {};
        const baseDefault = base["default-features"] !== false && base.default_features !== false;
        const own = entry["default-features"] ?? entry.default_features;
        defaultFeatures = baseDefault ? true : own === true;
        features = [...strings(base.features), ...features];
        entry = { ...base, optional: entry.optional };
        baseDir = "";
    }
    const p = str(entry.path);
    return {
        name,
        package: str(entry.package) ?? name,
        req: str(entry.version),
        kind,
        optional: entry.optional === true,
        defaultFeatures,
        features,
        target,
        localDir: p === undefined ? undefined : joinRel(baseDir, p),
        git: str(entry.git),
        registry: str(entry.registry) ?? str(entry["registry-index"]),
    };
}

function featuresOf(doc: Table): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (isTable(doc.features)) for (const [k, v] of Object.entries(doc.features)) out[k] = strings(v);
    return out;
}

function packageTable(doc: Table): Table | undefined {
    return isTable(doc.package) ? doc.package : isTable(doc.project) ? doc.project : undefined;
}

function inheritedString(value: unknown, workspacePackage: Table, key: string): string | undefined {
    if (isTable(value) && value.workspace === true) return str(workspacePackage[key]);
    return str(value);
}

/** The files of a workspace, and the `src/bin/` files of each package directory (found once per workspace). */
interface FileIndex {
    all: Set<string>;
    /** Package directory -> paths under its `src/bin/`, relative to it. */
    bins: Map<string, string[]>;
}

function indexFiles(files: Set<string>): FileIndex {
    const bins = new Map<string, string[]>();
    for (const f of files) {
        // Every directory whose `src/bin/` holds f (as `<dir>/src/bin/...` or, for the root, `src/bin/...`).
        for (let i = f.indexOf("src/bin/"); i >= 0; i = f.indexOf("src/bin/", i + 1)) {
            if (i > 0 && f[i - 1] !== "/") continue;
            const dir = i === 0 ? "" : f.slice(0, i - 1);
            const list = bins.get(dir);
            if (list) list.push(f.slice(i + "src/bin/".length));
            else bins.set(dir, [f.slice(i + "src/bin/".length)]);
        }
    }
    return { all: files, bins };
}

function describe(label: string, dir: string, doc: Table, workspace: Table, index: FileIndex, member: boolean): LocalPackage {
    const files = index.all;
    const manifestPath = manifestPathOf(dir);
    const pkg = packageTable(doc);
    const name = pkg && str(pkg.name);
    if (!pkg || name === undefined) {
        throw new WarmrunError(`${inRoot(label, manifestPath)} has no [package] name; give the crate a name or remove it from the workspace`);
    }
    const wsPackage = isTable(workspace.package) ? workspace.package : {};
    const wsDeps = isTable(workspace.dependencies) ? workspace.dependencies : {};
    const has = (rel: string): boolean => files.has(dir ? `${dir}/${rel}` : rel);
    const lib = isTable(doc.lib) ? doc.lib : undefined;
    const build = pkg.build;
    const bins = new Set<string>();
    for (const b of Array.isArray(doc.bin) ? doc.bin.filter(isTable) : []) {
        const n = str(b.name) ?? (str(b.path) ? path.posix.basename(str(b.path) as string, ".rs") : name);
        bins.add(n);
    }
    if (pkg.autobins !== false) {
        if (has("src/main.rs")) bins.add(name);
        for (const f of index.bins.get(dir) ?? []) {
            const m = /^([^/]+)\.rs$/.exec(f) ?? /^([^/]+)\/main\.rs$/.exec(f);
            if (m) bins.add(m[1]);
        }
    }
    return {
        dir,
        manifestPath,
        name,
        version: inheritedString(pkg.version, wsPackage, "version") ?? "0.0.0",
        edition: inheritedString(pkg.edition, wsPackage, "edition") ?? "2015",
        features: featuresOf(doc),
        deps: declsOf(label, manifestPath, dir, doc, wsDeps),
        procMacro: lib !== undefined && (lib["proc-macro"] === true || lib.proc_macro === true),
        hasBuildScript: typeof build === "string" || build === true || (build === undefined && has("build.rs")),
        hasLib: lib !== undefined || (pkg.autolib !== false && has("src/lib.rs")),
        bins: [...bins].sort(),
        hasTests: true,
        member,
    };
}

/** Reads the root manifest, the members and every path package they reach (level by level, in parallel). */
export async function loadWorkspace(source: RecipeSource): Promise<LoadedWorkspace> {
    const label = source.label ?? ".";
    const [fileList, rootText] = await Promise.all([source.list(), source.read("Cargo.toml")]);
    if (rootText === undefined) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} is missing: point the root at the directory of the workspace's Cargo.toml`);
    }
    const rootDoc = parseTomlText(rootText, inRoot(label, "Cargo.toml"));
    const workspace = isTable(rootDoc.workspace) ? rootDoc.workspace : undefined;
    const rootPackage = packageTable(rootDoc) !== undefined;
    if (!workspace && !rootPackage) {
        throw new WarmrunError(`${inRoot(label, "Cargo.toml")} has neither [package] nor [workspace]; point the root at a Cargo workspace`);
    }
    const ws = workspace ?? {};
    const files = new Set(fileList);
    const fileIndex = indexFiles(files);
    const manifestDirs = fileList.filter((f) => f === "Cargo.toml" || f.endsWith("/Cargo.toml")).map((f) => normalizeRel(path.posix.dirname(f)));
    const excluded = strings(ws.exclude).map(normalizeRel);
    const isExcluded = (d: string): boolean => excluded.some((e) => d === e || d.startsWith(`${e}/`));
    const expand = (patterns: string[]): string[] => {
        const dirs: string[] = [];
        for (const m of patterns) {
            if (fg.isDynamicPattern(m)) {
                const re = memberGlobToRegExp(m);
                dirs.push(...manifestDirs.filter((d) => d !== "" && re.test(d) && !isExcluded(d)));
            } else dirs.push(normalizeRel(m));
        }
        return dirs;
    };
    const listed = [...(rootPackage ? [""] : []), ...expand(strings(ws.members))];
    const defaultMembers = Array.isArray(ws["default-members"]) ? expand(strings(ws["default-members"])) : undefined;

    const packages = new Map<string, LocalPackage>();
    const memberSet = new Set(listed);
    const isInside = (d: string): boolean => d !== ".." && !d.startsWith("../");
    // Path packages named by [patch] / [replace] in the root manifest.
    const patchDirs: string[] = [];
    const patchEntries: unknown[] = [];
    if (isTable(rootDoc.patch)) for (const reg of Object.values(rootDoc.patch)) if (isTable(reg)) patchEntries.push(...Object.values(reg));
    if (isTable(rootDoc.replace)) patchEntries.push(...Object.values(rootDoc.replace));
    for (const e of patchEntries) if (isTable(e) && typeof e.path === "string") patchDirs.push(joinRel("", e.path));

    let level: Array<{ dir: string; neededBy: string; member: boolean }> = [
        ...listed.map((dir) => ({ dir, neededBy: "[workspace].members in Cargo.toml", member: true })),
        ...patchDirs.map((dir) => ({ dir, neededBy: "[patch] in Cargo.toml", member: false })),
    ];
    while (level.length) {
        const fresh = new Map<string, { neededBy: string; member: boolean }>();
        for (const l of level) if (!packages.has(l.dir) && !fresh.has(l.dir)) fresh.set(l.dir, l);
        const loaded = await Promise.all(
            [...fresh].map(async ([dir, { neededBy, member }]) => {
                if (dir === "") return describe(label, "", rootDoc, ws, fileIndex, true);
                const manifestPath = manifestPathOf(dir);
                const text = isInside(dir) ? await source.read(manifestPath) : undefined;
                if (text === undefined) {
                    throw new WarmrunError(`${inRoot(label, manifestPath)} is missing but ${neededBy} needs it; add the crate or remove the reference`);
                }
                return describe(label, dir, parseTomlText(text, inRoot(label, manifestPath)), ws, fileIndex, member);
            }),
        );
        level = [];
        for (const pkg of loaded) {
            packages.set(pkg.dir, pkg);
            if (pkg.member) memberSet.add(pkg.dir);
            for (const d of pkg.deps) {
                if (d.localDir === undefined) continue;
                // A path dependency of a member inside the root (and not excluded) is a member too.
                const member = pkg.member && workspace !== undefined && isInside(d.localDir) && !isExcluded(d.localDir);
                level.push({ dir: d.localDir, neededBy: `a path dependency in ${pkg.manifestPath}`, member });
            }
        }
        for (const l of level) {
            const p = packages.get(l.dir);
            if (p && l.member && !p.member) {
                p.member = true;
                memberSet.add(p.dir);
            }
        }
    }
    const members = [...memberSet].filter((d) => packages.get(d)?.member);

    const rootPkg = packageTable(rootDoc);
    const declared = str(ws.resolver) ?? (rootPkg ? str(rootPkg.resolver) : undefined);
    let resolver: 1 | 2;
    if (declared !== undefined) resolver = declared === "1" ? 1 : 2;
    else if (rootPackage) {
        const edition = packages.get("")?.edition ?? "2015";
        resolver = Number(edition) >= 2021 ? 2 : 1;
    } else resolver = 1;
    return { label, rootDoc, members, defaultMembers, rootPackage, packages, resolver, files };
}
