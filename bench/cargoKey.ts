// Key computation of a CargoDepsImage (cargo/depsKey.ts, what the plan calls) over a generated workspace
// of 150 crates that depend on ~215 popular registry crates (Cargo.lock: ~800 external packages, a real
// lock made once by `cargo generate-lockfile`, index entries from the registry's sparse index, both
// cached under the cache root). Cold: the first preview after a change, with the index entries on disk
// (no network), no memo, nothing parsed yet. Warm: the next preview of the unchanged workspace, as a new
// process makes it: the stat cache and the key memo read from disk. Then replay over a 300-commit
// history of that workspace (bench/replay.ts).
// Baseline: `cargo metadata --offline` of the same workspace (cargo's own resolution, from its caches).
//
//   npm run bench -- --only cargo
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify as stringifyToml } from "smol-toml";
import { dirSource } from "../components/cargo/workspace";
import { cargoDepsKeyMaterial } from "../components/cargo/depsKey";
import { diskMemo } from "../components/cargo/keyMemo";
import { clearParsedTexts } from "../components/cargo/members";
import { computeKey } from "../components/core/keys";
import { StatCache } from "../components/core/fileset";
import { benchCacheDir, BenchOptions, Figure, figure, median, secs, timeIt } from "./lib";
import { replayBench } from "./replay";

const CRATES = [
    "serde", "serde_json", "serde_yaml", "toml", "tokio", "futures", "async-trait", "anyhow", "thiserror", "log", "env_logger",
    "tracing", "tracing-subscriber", "clap", "regex", "rand", "chrono", "time", "uuid", "url", "http", "hyper", "reqwest", "axum",
    "tower", "tower-http", "bytes", "itertools", "once_cell", "lazy_static", "parking_lot", "crossbeam", "crossbeam-channel", "rayon",
    "num", "num-traits", "num-bigint", "bitflags", "base64", "hex", "sha2", "sha1", "md-5", "blake3", "hmac", "aes", "ring", "rustls",
    "rustls-pemfile", "tokio-rustls", "webpki-roots", "indexmap", "hashbrown", "smallvec", "arrayvec", "tinyvec", "byteorder", "memchr",
    "nom", "pest", "pest_derive", "quote", "syn", "proc-macro2", "heck", "strum", "derive_more", "semver", "glob", "walkdir", "tempfile",
    "dirs", "which", "notify", "ignore", "globset", "fnv", "ahash", "dashmap", "flume", "async-channel", "mio", "socket2", "libc", "nix",
    "signal-hook", "ctrlc", "humantime", "bytesize", "indicatif", "console", "colored", "termcolor", "unicode-width",
    "unicode-segmentation", "textwrap", "csv", "flate2", "zstd", "tar", "zip", "png", "prost", "tonic", "bincode", "rmp-serde",
    "ciborium", "postcard", "serde_with", "serde_bytes", "erased-serde", "schemars", "config", "dotenvy", "jsonwebtoken", "cookie",
    "mime", "mime_guess", "percent-encoding", "form_urlencoded", "httparse", "h2", "tungstenite", "tokio-tungstenite", "tera",
    "handlebars", "minijinja", "pulldown-cmark", "quick-xml", "roxmltree", "encoding_rs", "lru", "moka", "governor", "tokio-util",
    "tokio-stream", "futures-util", "pin-project", "pin-project-lite", "async-stream", "either", "paste", "cfg-if", "static_assertions",
    "bumpalo", "slab", "petgraph", "ndarray", "approx", "ordered-float", "rust_decimal", "chrono-tz", "jiff", "prometheus", "sysinfo",
    "num_cpus", "hostname", "nanoid", "ulid", "rand_chacha", "getrandom", "fastrand", "eyre", "color-eyre", "miette", "owo-colors",
    "crossterm", "ratatui", "clap_complete", "argh", "pico-args", "shlex", "aho-corasick", "bstr", "camino", "filetime", "memmap2",
    "zeroize", "subtle", "ed25519-dalek", "p256", "rsa", "pem", "der", "x509-parser", "rcgen", "hyper-util", "http-body",
    "http-body-util", "backtrace", "object", "gimli", "aws-config", "aws-sdk-s3", "tokio-postgres", "wasm-bindgen", "web-sys", "image",
    "hyper-rustls", "rustls-native-certs", "async-compression", "lz4_flex", "crc32fast", "deadpool", "r2d2", "redis", "sqlparser",
];
const MEMBERS = 150;

/** A small deterministic generator, so the workspace is the same on every machine. */
function lcg(seed: number): () => number {
    let s = seed;
    return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function generate(dir: string): void {
    const rnd = lcg(42);
    const files: Record<string, string> = {
        "Cargo.toml": stringifyToml({ workspace: { members: ["crates/*"], resolver: "2" } }) + "\n",
    };
    for (let i = 0; i < MEMBERS; i++) {
        const deps: Record<string, unknown> = {};
        for (let k = 0; k < 8; k++) deps[CRATES[Math.floor(rnd() * CRATES.length)]] = "*";
        if (i > 0) {
            const other = `m${String(Math.floor(rnd() * i)).padStart(3, "0")}`;
            deps[other] = { path: `../${other}` };
        }
        const name = `m${String(i).padStart(3, "0")}`;
        files[`crates/${name}/Cargo.toml`] = stringifyToml({ package: { name, version: "0.1.0", edition: "2021" }, dependencies: deps }) + "\n";
        files[`crates/${name}/src/lib.rs`] = "";
    }
    for (const [p, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
        fs.writeFileSync(path.join(dir, p), text);
    }
}

/** Cargo's home for the benchmark's crates (shared with the differential test's). */
export function cargoHome(): string {
    return path.join(indexCacheRoot(), "cargo-home");
}

/** The cache root whose cargo-index/ holds the registry entries (as `warmrun:cacheDir` does for a stack). */
export function indexCacheRoot(): string {
    return path.dirname(benchCacheDir());
}

function cargo(dir: string, args: string[]): void {
    const r = spawnSync("cargo", args, { cwd: dir, env: { ...process.env, CARGO_HOME: cargoHome() }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cargo ${args.join(" ")} failed in ${dir}: ${r.stderr}`);
}

/** The workspace, with a lock made once and its crates fetched once for the baseline (network only the first time). */
export function cargoKeyWorkspace(log: (l: string) => void = () => {}): string {
    const dir = path.join(benchCacheDir(), "cargo-key-workspace");
    if (!fs.existsSync(path.join(dir, "Cargo.lock"))) {
        fs.rmSync(dir, { recursive: true, force: true });
        generate(dir);
        log("cargo generate-lockfile of the benchmark workspace (once)");
        cargo(dir, ["generate-lockfile"]);
    }
    const fetched = `${dir}.fetched`;
    if (!fs.existsSync(fetched)) {
        log("cargo fetch of the benchmark workspace's crates, for cargo metadata (once)");
        cargo(dir, ["fetch"]);
        fs.writeFileSync(fetched, "");
    }
    return dir;
}

export async function cargoKeyBench(opts: BenchOptions): Promise<Figure[]> {
    const dir = cargoKeyWorkspace(opts.log);
    const cacheDir = indexCacheRoot();
    const packages = (fs.readFileSync(path.join(dir, "Cargo.lock"), "utf8").match(/^\[\[package\]\]/gm) ?? []).length;
    const external = packages - MEMBERS;
    // Fill the index cache once (network only the first time).
    const first = await cargoDepsKeyMaterial(dirSource(dir), { cacheDir });
    if (first.warnings.length) throw new Error(first.warnings.join("\n"));
    const units = first.compile.units.length;

    // A cache directory of the benchmark's own for the memo and the stat cache, as `warmrun:cacheDir` holds them.
    const scratch = path.join(benchCacheDir(), "cargo-key-cache");
    const statFile = path.join(scratch, "stat-cache.json");
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
        fs.rmSync(scratch, { recursive: true, force: true });
        clearParsedTexts();
        const coldCache = new StatCache(statFile);
        const c = await timeIt(() => cargoDepsKeyMaterial(dirSource(dir, { statCache: coldCache }), { cacheDir, memo: diskMemo(scratch) }));
        coldCache.save();
        if (c.value.warnings.length) throw new Error(c.value.warnings.join("\n"));
        cold.push(c.seconds);
        clearParsedTexts();
        const w = await timeIt(() => cargoDepsKeyMaterial(dirSource(dir, { statCache: new StatCache(statFile) }), { cacheDir, memo: diskMemo(scratch) }));
        warm.push(w.seconds);
        if (computeKey(w.value.material) !== computeKey(c.value.material) || computeKey(c.value.material) !== computeKey(first.material)) throw new Error("cold and warm keys differ");
    }
    const meta: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
        const m = await timeIt(async () =>
            spawnSync("cargo", ["metadata", "--offline", "--format-version", "1"], { cwd: dir, env: { ...process.env, CARGO_HOME: cargoHome() }, encoding: "utf8", maxBuffer: 1 << 30 }),
        );
        if (m.value.status !== 0) throw new Error(`cargo metadata --offline failed in ${dir}: ${m.value.stderr}`);
        meta.push(m.seconds);
    }
    const baseline = `cargo metadata --offline ${secs(median(meta))}`;
    const coldS = median(cold);
    const warmS = median(warm);
    return [
        figure({
            section: "cargo",
            name: `key of ${MEMBERS} crates over ${external} locked packages (${units} units), cold: index entries on disk, nothing parsed (ratio column: seconds)`,
            warmrun: secs(coldS),
            baseline,
            ratio: coldS,
            target: "<= 1 s",
        }),
        figure({
            section: "cargo",
            name: "the same, warm: unchanged workspace, stat cache and memo from disk (ratio column: ms)",
            warmrun: secs(warmS),
            baseline,
            ratio: warmS * 1000,
            target: "<= 100 ms",
        }),
    ];
}

/** The section: the key cold and warm, then replay over a history of the same workspace. */
export async function cargoBench(opts: BenchOptions): Promise<Figure[]> {
    return [...(await cargoKeyBench(opts)), ...(await replayBench(opts))];
}
