// Cargo's own answer to "what does this build compile": `cargo build --unit-graph` (cargo's plan of the
// build, printed without compiling anything), reduced to the external library units with their features
// and whether they are built for the host; plus the rustflags cargo passes for the target, read from the
// target-info query cargo makes of rustc (a logging wrapper stands in for rustc).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface OracleUnit {
    name: string;
    version: string;
    source: string;
    forHost: boolean;
    features: string[];
    profile: string;
}

export interface OracleAnswer {
    units: OracleUnit[];
    /** The rustflags cargo gives rustc for the target. */
    rustflags: string[];
}

/** Fails naming the install when cargo, rustc, rustup or one of `toolchains` (names rust-toolchain.toml files give) is missing. */
export function requireCargo(toolchains: string[] = []): void {
    for (const tool of ["cargo", "rustc", "rustup"]) {
        const r = spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
        if (r.status !== 0) {
            throw new Error(
                `${tool} is not installed: this test asks cargo itself what a build compiles, and rustup which toolchain it selects. ` +
                    "Install Rust with rustup (https://rustup.rs: `curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y`, then put ~/.cargo/bin on PATH), " +
                    "then run `npm run setup`",
            );
        }
    }
    // rustup must have them: nothing is installed on the fly.
    for (const toolchain of toolchains) {
        const r = spawnSync("rustup", ["run", toolchain, "rustc", "--version"], { env: { ...process.env, RUSTUP_AUTO_INSTALL: "0" }, stdio: "ignore" });
        if (r.status !== 0) throw new Error(`the Rust toolchain ${toolchain} is not installed: a rust-toolchain.toml of the test pins it; run \`rustup toolchain install ${toolchain}\`, then \`npm run setup\``);
    }
}

function parsePkgId(id: string): { name: string; version: string; source: string } {
    // registry+https://...#serde@1.0.200, path+file:///dir#0.1.0, path+file:///dir#name@0.1.0
    const hash = id.lastIndexOf("#");
    const source = id.slice(0, hash);
    const frag = id.slice(hash + 1);
    const at = frag.lastIndexOf("@");
    if (at >= 0) return { name: frag.slice(0, at), version: frag.slice(at + 1), source };
    return { name: path.basename(source.replace(/^[a-z+]+:\/\//, "")), version: frag, source };
}

let wrapperDir: string | undefined;
/** A rustc wrapper logging each call's arguments (one JSON line each) to $WARMRUN_RUSTC_LOG. */
function rustcWrapper(): string {
    if (!wrapperDir) {
        wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-rustc-"));
        const script = path.join(wrapperDir, "rustc-log");
        fs.writeFileSync(
            script,
            `#!/bin/sh\n# RUSTC_WRAPPER: logs the arguments, then runs rustc\nreal="$1"; shift\nif [ -n "$WARMRUN_RUSTC_LOG" ]; then printf '%s\\0' "$@" >> "$WARMRUN_RUSTC_LOG"; printf '\\n\\0' >> "$WARMRUN_RUSTC_LOG"; fi\nexec "$real" "$@"\n`,
            { mode: 0o755 },
        );
    }
    return path.join(wrapperDir, "rustc-log");
}

export interface OracleOptions {
    cargoHome: string;
    target: string;
    args: string[];
    offline: boolean;
}

/** Asks cargo what `cargo build <args> --target <target>` compiles in `dir` (updating Cargo.lock as cargo would). */
export function cargoUnits(dir: string, opts: OracleOptions): OracleAnswer {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-rustc-log-")), "log");
    const env = {
        ...process.env,
        CARGO_HOME: opts.cargoHome,
        RUSTC_BOOTSTRAP: "1",
        RUSTC_WRAPPER: rustcWrapper(),
        WARMRUN_RUSTC_LOG: log,
        CARGO_CACHE_RUSTC_INFO: "0",
        CARGO_TERM_COLOR: "never",
        RUSTUP_AUTO_INSTALL: "0",
    };
    const offline = opts.offline ? ["--offline"] : [];
    const res = spawnSync("cargo", ["build", ...offline, ...opts.args, "--target", opts.target, "--unit-graph", "-Z", "unstable-options"], {
        cwd: dir,
        env,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (res.status !== 0) throw new Error(`cargo --unit-graph failed in ${dir}:\n${res.stderr}`);
    const meta = JSON.parse(
        execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps", ...offline], { cwd: dir, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] }),
    ) as { workspace_members: string[] };
    const members = new Set(meta.workspace_members);
    const graph = JSON.parse(res.stdout) as {
        units: Array<{ pkg_id: string; target: { kind: string[] }; platform: string | null; features: string[]; mode: string; profile: Record<string, unknown> }>;
    };
    const seen = new Map<string, OracleUnit>();
    for (const u of graph.units) {
        if (members.has(u.pkg_id) || u.target.kind.includes("custom-build") || u.mode !== "build") continue;
        const { name, version, source } = parsePkgId(u.pkg_id);
        const { name: _n, ...profile } = u.profile;
        const unit: OracleUnit = { name, version, source, forHost: u.platform === null, features: [...u.features].sort(), profile: JSON.stringify(profile) };
        seen.set(JSON.stringify(unit), unit);
    }
    // rustc's target-info query carries the target's rustflags: `- --crate-name ___ --print=file-names ... --target <t> <flags>`.
    let rustflags: string[] = [];
    if (fs.existsSync(log)) {
        for (const call of fs.readFileSync(log, "utf8").split("\n\0")) {
            const argv = call.split("\0").filter((a) => a !== "");
            if (!argv.includes("___") || !argv.includes(opts.target)) continue;
            // `- --crate-name ___ --print=file-names <rustflags> --target <t> --crate-type ...`
            rustflags = argv.slice(argv.indexOf("--print=file-names") + 1, argv.indexOf("--target"));
        }
    }
    const units = [...seen.values()].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    return { units, rustflags };
}
