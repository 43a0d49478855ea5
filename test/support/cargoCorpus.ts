// Generated Cargo workspaces over real crates of the package registry, and the mutations the
// differential test applies to them: the classes of edits that compile nothing new, and the classes
// that do. Each workspace is a map path -> text; a mutation edits that map (and may run a cargo command
// on the written directory before cargo and warmrun are asked).
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";

export type Files = Record<string, string>;
type Table = Record<string, any>;

export interface Scenario {
    name: string;
    files: Files;
    args: string[];
}

export interface Mutation {
    name: string;
    /** The class: an edit that should compile nothing new, or one that should. */
    intended: "needless" | "real";
    /** Edits the files; false when the mutation does not apply to the scenario. */
    apply(files: Files, scenario: Scenario, baseLock: Table): boolean;
    /** A cargo command to run in the written directory (e.g. `cargo update --precise`). */
    cargo?: (lock: Table) => string[] | undefined;
}

/** The toolchains the corpus's rust-toolchain.toml files name: rustup must have both. */
export const PINNED_TOOLCHAIN = "1.95.0";
export const CORPUS_TOOLCHAINS = ["stable", PINNED_TOOLCHAIN];

const toml = (t: Table): string => stringifyToml(t) + "\n";
const edit = (files: Files, p: string, f: (t: Table) => void): boolean => {
    if (files[p] === undefined) return false;
    const t = parseToml(files[p]) as Table;
    f(t);
    files[p] = toml(t);
    return true;
};
const pkg = (name: string, extra: Table = {}): Table => ({ package: { name, version: "0.1.0", edition: "2021" }, ...extra });

const CORE_DEPS: Table = {
    anyhow: "1",
    thiserror: "1",
    log: "0.4",
    once_cell: "1",
    parking_lot: "0.12",
    itertools: "0.13",
    base64: "0.22",
    url: "2",
    bytes: "1",
    futures: "0.3",
    regex: "1",
    rand: "0.8",
    chrono: { version: "0.4", features: ["serde"] },
    uuid: { version: "1", features: ["v4", "serde"] },
    smallvec: "1",
    indexmap: "2",
    hashbrown: "0.14",
    toml: "0.8",
    clap: { version: "4", features: ["derive"] },
    serde: { version: "1", features: ["derive"] },
    serde_json: "1",
};

/** A virtual workspace of five members: a library over 21 crates, a web service, an HTTP client, a system crate, a tool. */
function serviceWorkspace(resolver: "1" | "2" | undefined): Files {
    const ws: Table = { workspace: { members: ["core", "api", "client", "sys", "tools"] } };
    if (resolver) ws.workspace.resolver = resolver;
    return {
        "Cargo.toml": toml(ws),
        "core/Cargo.toml": toml(pkg("core-lib", { dependencies: CORE_DEPS })),
        "core/src/lib.rs": "",
        "api/Cargo.toml": toml(
            pkg("api", {
                dependencies: {
                    "core-lib": { path: "../core" },
                    axum: "0.7",
                    tokio: { version: "1", features: ["full"] },
                    tower: "0.4",
                    http: "1",
                    hyper: "1",
                    tracing: "0.1",
                    "tracing-subscriber": { version: "0.3", features: ["env-filter"] },
                },
                "dev-dependencies": { tokio: { version: "1", features: ["test-util"] } },
            }),
        ),
        "api/src/main.rs": "fn main() {}\n",
        "client/Cargo.toml": toml(
            pkg("client", {
                dependencies: { reqwest: { version: "0.12", "default-features": false, features: ["rustls-tls", "json"] }, rustls: "0.23" },
            }),
        ),
        "client/src/lib.rs": "",
        "sys/Cargo.toml": toml(
            pkg("sys", {
                dependencies: { libc: "0.2" },
                target: {
                    "cfg(windows)": { dependencies: { "windows-sys": { version: "0.59", features: ["Win32_Foundation"] } } },
                    'cfg(target_os = "linux")': { dependencies: { nix: { version: "0.29", features: ["fs"] } } },
                },
            }),
        ),
        "sys/src/lib.rs": "",
        "tools/Cargo.toml": toml(pkg("tools", { dependencies: { log: "0.4", anyhow: "1" } })),
        "tools/src/main.rs": "fn main() {}\n",
        ".cargo/config.toml": '# build settings\n[build]\nrustflags = ["--cfg", "corpus"]\n\n[env]\nCORPUS = "1"\n',
        "rust-toolchain.toml": '[toolchain]\nchannel = "stable"\n',
    };
}

/** A root package with a proc-macro member and a member with a build script: host and target resolved apart. */
function appWorkspace(): Files {
    return {
        "Cargo.toml": toml({
            ...pkg("app", {
                dependencies: { macros: { path: "macros" }, helper: { path: "helper" }, serde_json: "1", clap: "4", tokio: { version: "1", features: ["rt", "macros"] } },
                "build-dependencies": { syn: { version: "2", features: ["visit"] } },
            }),
            workspace: { members: ["macros", "helper"] },
        }),
        "src/main.rs": "fn main() {}\n",
        "build.rs": "fn main() {}\n",
        "macros/Cargo.toml": toml(
            pkg("macros", { lib: { "proc-macro": true }, dependencies: { syn: { version: "2", features: ["full"] }, quote: "1", "proc-macro2": "1" } }),
        ),
        "macros/src/lib.rs": "",
        "helper/Cargo.toml": toml(
            pkg("helper", {
                dependencies: { serde: { version: "1", features: ["derive"] }, bytes: "1", tracing: "0.1" },
                "build-dependencies": { cc: "1" },
            }),
        ),
        "helper/src/lib.rs": "",
        "helper/build.rs": "fn main() {}\n",
    };
}

export const SCENARIOS: Scenario[] = [
    { name: "service, resolver 2", files: serviceWorkspace("2"), args: [] },
    { name: "service, resolver 2, --all-targets", files: serviceWorkspace("2"), args: ["--all-targets"] },
    { name: "service, resolver 2, -p api --release", files: serviceWorkspace("2"), args: ["-p", "api", "--release"] },
    { name: "service, resolver 1", files: serviceWorkspace(undefined), args: [] },
    { name: "app (root package, proc macro, build scripts)", files: appWorkspace(), args: ["--release"] },
];

const lockedVersion = (lock: Table, name: string): string | undefined =>
    (lock.package as Table[]).filter((p) => p.name === name).map((p) => p.version as string).sort().pop();

export const MUTATIONS: Mutation[] = [
    // ---- classes that compile nothing new
    {
        name: "extra declaration of an already-compiled dependency",
        intended: "needless",
        apply: (f) => edit(f, "api/Cargo.toml", (t) => (t.dependencies.bytes = "1")) || edit(f, "helper/Cargo.toml", (t) => (t.dependencies.itoa = "1")),
    },
    {
        name: "a dependency dropped that others still compile",
        intended: "needless",
        apply: (f) => edit(f, "api/Cargo.toml", (t) => delete t.dependencies.http) || edit(f, "helper/Cargo.toml", (t) => delete t.dependencies.bytes),
    },
    {
        name: "path dependency between members added",
        intended: "needless",
        apply: (f) => edit(f, "client/Cargo.toml", (t) => (t.dependencies["core-lib"] = { path: "../core" })) || edit(f, "helper/Cargo.toml", (t) => (t.dependencies.macros = { path: "../macros" })),
    },
    {
        name: "path dependency made optional, enabled by default",
        intended: "needless",
        apply: (f) =>
            edit(f, "api/Cargo.toml", (t) => {
                t.dependencies["core-lib"] = { path: "../core", optional: true };
                t.features = { default: ["core-lib"] };
            }),
    },
    {
        name: "member added whose dependencies are compiled",
        intended: "needless",
        apply: (f) => {
            if (!edit(f, "Cargo.toml", (t) => t.workspace.members.push("extra"))) return false;
            f["extra/Cargo.toml"] = toml(pkg("extra", { dependencies: { anyhow: "1", log: "0.4" } }));
            f["extra/src/lib.rs"] = "";
            return true;
        },
    },
    {
        name: "member removed whose dependencies others compile",
        intended: "needless",
        apply: (f) => {
            if (f["tools/Cargo.toml"] === undefined) return false;
            edit(f, "Cargo.toml", (t) => (t.workspace.members = t.workspace.members.filter((m: string) => m !== "tools")));
            delete f["tools/Cargo.toml"];
            delete f["tools/src/main.rs"];
            return true;
        },
    },
    {
        name: "member renamed",
        intended: "needless",
        apply: (f) => {
            if (f["tools/Cargo.toml"] === undefined) return false;
            edit(f, "Cargo.toml", (t) => (t.workspace.members = t.workspace.members.map((m: string) => (m === "tools" ? "cli" : m))));
            f["cli/Cargo.toml"] = f["tools/Cargo.toml"].replace('name = "tools"', 'name = "cli"');
            f["cli/src/main.rs"] = f["tools/src/main.rs"];
            delete f["tools/Cargo.toml"];
            delete f["tools/src/main.rs"];
            return true;
        },
    },
    {
        name: "version requirement changed, same locked version",
        intended: "needless",
        apply: (f) =>
            edit(f, "core/Cargo.toml", (t) => (t.dependencies.serde = { version: "1.0.100", features: ["derive"] })) ||
            edit(f, "helper/Cargo.toml", (t) => (t.dependencies.serde = { version: "1.0.100", features: ["derive"] })),
    },
    {
        name: ".cargo/config.toml comments and layout only",
        intended: "needless",
        apply: (f) => {
            if (f[".cargo/config.toml"] === undefined) return false;
            f[".cargo/config.toml"] = '[env]\n  CORPUS   =   "1"   # for the tests\n\n# rustflags\n[build]\nrustflags = [ "--cfg",\n  "corpus" ]\n';
            return true;
        },
    },
    {
        name: "rust-toolchain.toml comments only",
        intended: "needless",
        apply: (f) => {
            if (f["rust-toolchain.toml"] === undefined) return false;
            f["rust-toolchain.toml"] = '# pinned by the team\n[toolchain]\nchannel   = "stable"  # latest\n';
            return true;
        },
    },
    {
        name: "cfg(windows) dependency changed",
        intended: "needless",
        apply: (f) => edit(f, "sys/Cargo.toml", (t) => t.target["cfg(windows)"].dependencies["windows-sys"].features.push("Win32_System_Threading")),
    },
    {
        name: "aarch64 rustflags added",
        intended: "needless",
        apply: (f) => {
            f[".cargo/config.toml"] = (f[".cargo/config.toml"] ?? "") + '\n[target.aarch64-unknown-linux-gnu]\nrustflags = ["-C", "target-cpu=neoverse-n1"]\n';
            return true;
        },
    },
    {
        name: "release profile changed in a dev build (dev profile changed in a release build)",
        intended: "needless",
        apply: (f, s) =>
            edit(f, "Cargo.toml", (t) => {
                t.profile = { [s.args.includes("--release") ? "dev" : "release"]: { "opt-level": 1 } };
            }),
    },
    {
        name: "dev-dependency added",
        intended: "needless",
        apply: (f) => edit(f, "core/Cargo.toml", (t) => (t["dev-dependencies"] = { tokio: { version: "1", features: ["macros", "rt"] }, tempfile: "3" })),
    },
    {
        name: "already-enabled feature requested again",
        intended: "needless",
        apply: (f) => edit(f, "api/Cargo.toml", (t) => t.dependencies.tokio.features.push("rt")) || edit(f, "macros/Cargo.toml", (t) => t.dependencies.syn.features.push("parsing")),
    },
    // ---- classes that compile something new
    {
        name: "version bump (cargo update --precise)",
        intended: "real",
        apply: () => true,
        cargo: (lock) => {
            const v = lockedVersion(lock, "itoa");
            return v ? ["update", "-p", `itoa@${v}`, "--precise", v === "1.0.10" ? "1.0.11" : "1.0.10"] : undefined;
        },
    },
    {
        name: "new external dependency",
        intended: "real",
        apply: (f) => edit(f, "core/Cargo.toml", (t) => (t.dependencies.semver = "1")) || edit(f, "helper/Cargo.toml", (t) => (t.dependencies.semver = "1")),
    },
    {
        name: "feature enabled",
        intended: "real",
        apply: (f) => edit(f, "core/Cargo.toml", (t) => (t.dependencies.serde_json = { version: "1", features: ["preserve_order"] })) || edit(f, "macros/Cargo.toml", (t) => t.dependencies.syn.features.push("extra-traits")),
    },
    {
        name: "feature disabled",
        intended: "real",
        apply: (f) => edit(f, "core/Cargo.toml", (t) => (t.dependencies.uuid.features = ["v4"])) || edit(f, "Cargo.toml", (t) => (t.dependencies.tokio.features = ["rt"])),
    },
    {
        name: "default-features = false",
        intended: "real",
        apply: (f) => edit(f, "core/Cargo.toml", (t) => (t.dependencies.regex = { version: "1", "default-features": false, features: ["std"] })) || edit(f, "Cargo.toml", (t) => (t.dependencies.clap = { version: "4", "default-features": false, features: ["std"] })),
    },
    {
        name: "linux-only target dependency",
        intended: "real",
        apply: (f) =>
            edit(f, "sys/Cargo.toml", (t) => (t.target['cfg(target_os = "linux")'].dependencies.memoffset = "0.9")) ||
            edit(f, "Cargo.toml", (t) => (t.target = { 'cfg(target_os = "linux")': { dependencies: { memoffset: "0.9" } } })),
    },
    {
        name: "toolchain changed",
        intended: "real",
        apply: (f) => {
            f["rust-toolchain.toml"] = `[toolchain]\nchannel = "${PINNED_TOOLCHAIN}"\n`;
            return true;
        },
    },
    {
        name: "rustflags for the target",
        intended: "real",
        apply: (f) => {
            f[".cargo/config.toml"] = (f[".cargo/config.toml"] ?? "") + '\n[target.x86_64-unknown-linux-gnu]\nrustflags = ["-C", "target-cpu=x86-64-v2"]\n';
            return true;
        },
    },
    {
        name: "profile of the build changed",
        intended: "real",
        apply: (f, s) => edit(f, "Cargo.toml", (t) => (t.profile = { [s.args.includes("--release") ? "release" : "dev"]: { "opt-level": 2 } })),
    },
    {
        name: "[patch] of a compiled crate",
        intended: "real",
        apply: (f, _s, lock) => patchFiles(f, lock),
    },
];

/** A local stand-in for itoa at its locked version, patched in. */
function patchFiles(files: Files, lock: Table): boolean {
    const v = lockedVersion(lock, "itoa");
    if (!v) return false;
    files["vendor/itoa/Cargo.toml"] = toml({ package: { name: "itoa", version: v, edition: "2018" }, lib: { path: "src/lib.rs" } });
    files["vendor/itoa/src/lib.rs"] = "";
    return edit(files, "Cargo.toml", (t) => (t.patch = { "crates-io": { itoa: { path: "vendor/itoa" } } }));
}
