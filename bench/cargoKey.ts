// Key computation of a CargoDepsImage over a generated workspace of 150 crates that depend on
// ~170 popular registry crates (Cargo.lock: several hundred external packages, a real lock made once by
// `cargo generate-lockfile`, index entries from the registry's sparse index, both cached under the
// cache root). Cold: a fresh index provider reading the on-disk index cache (no network); warm: the same
// computation again with the index entries and parsed manifests in memory, as a preview or replay does
// for the next commit.
// Baseline: `cargo metadata --offline` of the same workspace (cargo's own resolution, from its caches).
//
//   npx ts-node --transpile-only bench/cargoKey.ts   (or import cargoKeyBench into bench/run.ts)
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify as stringifyToml } from "smol-toml";
import { dirSource } from "../components/cargo/workspace";
import { parseCargoConfig } from "../components/cargo/cargoConfig";
import { cargoCompileKeyMaterial, sparseIndexProvider } from "../components/cargo/units";
import { clearParsedTexts } from "../components/cargo/members";
import { benchCacheDir, BenchOptions, Figure, figure, median, secs, timeIt } from "./lib";

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

function cargoHome(): string {
    return path.join(path.dirname(benchCacheDir()), "cargo-home");
}

/** The workspace, with a lock made once (network only the first time). */
export function cargoKeyWorkspace(log: (l: string) => void = () => {}): string {
    const dir = path.join(benchCacheDir(), "cargo-key-workspace");
    if (!fs.existsSync(path.join(dir, "Cargo.lock"))) {
        fs.rmSync(dir, { recursive: true, force: true });
        generate(dir);
        log("cargo generate-lockfile of the benchmark workspace (once)");
        const r = spawnSync("cargo", ["generate-lockfile"], { cwd: dir, env: { ...process.env, CARGO_HOME: cargoHome() }, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`cargo generate-lockfile failed in ${dir}: ${r.stderr}`);
    }
    return dir;
}

export async function cargoKeyBench(opts: BenchOptions): Promise<Figure[]> {
    const dir = cargoKeyWorkspace(opts.log);
    const cacheDir = path.dirname(benchCacheDir());
    const packages = (fs.readFileSync(path.join(dir, "Cargo.lock"), "utf8").match(/^\[\[package\]\]/gm) ?? []).length;
    const external = packages - MEMBERS;
    // Fill the index cache once (network only the first time).
    const first = await cargoCompileKeyMaterial(dirSource(dir), { cacheDir });
    if (first.warnings.length) throw new Error(first.warnings.join("\n"));
    const units = first.units.length;

    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
        clearParsedTexts();
        const index = sparseIndexProvider(parseCargoConfig({}), { cacheDir, offline: true });
        const c = await timeIt(() => cargoCompileKeyMaterial(dirSource(dir), { cacheDir, index }));
        if (c.value.warnings.length) throw new Error(c.value.warnings.join("\n"));
        cold.push(c.seconds);
        const w = await timeIt(() => cargoCompileKeyMaterial(dirSource(dir), { cacheDir, index }));
        warm.push(w.seconds);
        if (JSON.stringify(w.value.material) !== JSON.stringify(c.value.material)) throw new Error("warm and cold material differ");
    }
    const meta = await timeIt(async () =>
        spawnSync("cargo", ["metadata", "--offline", "--format-version", "1"], { cwd: dir, env: { ...process.env, CARGO_HOME: cargoHome() }, encoding: "utf8", maxBuffer: 1 << 30 }),
    );
    const baseline = `cargo metadata --offline ${secs(meta.seconds)}`;
    const coldS = median(cold);
    const warmS = median(warm);
    return [
        figure({
            section: "cargo-key",
            name: `compile units of ${MEMBERS} crates over ${external} locked packages (${units} units), cold: index entries from the disk cache`,
            warmrun: secs(coldS),
            baseline,
            ratio: coldS,
            target: "<= 1 s",
        }),
        figure({
            section: "cargo-key",
            name: "the same, warm: index entries in memory",
            warmrun: secs(warmS),
            baseline,
            ratio: warmS * 1000,
            target: "<= 100 ms",
        }),
    ];
}

if (require.main === module) {
    cargoKeyBench({ runs: 5, cacheDir: benchCacheDir(), log: (l) => console.log(l) }).then(
        (figures) => {
            for (const f of figures) console.log(`${f.name}: ${f.warmrun} (target ${f.target}, ${f.met ? "met" : "NOT met"}; baseline ${f.baseline})`);
        },
        (e) => {
            console.error(e);
            process.exit(1);
        },
    );
}
