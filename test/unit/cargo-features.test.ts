// The feature resolver and the compile units on small hand-made index entries: weak features, `dep:`,
// renames, implicit optional-dependency features, cfg-specific dependencies, host/target separation
// and dev-dependencies under resolver 1 and 2; the errors for bad locks, missing index versions and
// unknown targets; the fallback when the index cannot be reached; the "why" lines.
import { strict as assert } from "assert";
import { RecipeSource } from "../../components/cargoRecipe";
import { WarmrunError } from "../../components/errors";
import { IndexDep, IndexEntry, IndexLookup } from "../../components/cargo/registryIndex";
import { cargoCompileKeyMaterial, CompileKeyResult, describeUnitChanges, IndexProvider } from "../../components/cargo/units";
import { DEFAULT_REGISTRY_SOURCE } from "../../components/cargo/registryIndex";

const SRC = DEFAULT_REGISTRY_SOURCE;

function memSource(files: Record<string, string>): RecipeSource {
    return { label: "ws", list: async () => Object.keys(files).sort(), read: async (p) => files[p] };
}

function dep(name: string, extra: Partial<IndexDep> = {}): IndexDep {
    return { name, req: "^1", features: [], optional: false, default_features: true, target: null, kind: "normal", ...extra };
}

function entry(name: string, deps: IndexDep[] = [], features: Record<string, string[]> = {}, vers = "1.0.0"): IndexEntry {
    return { name, vers, deps, features, cksum: `ck-${name}-${vers}`, v: 2 };
}

/** An index of entries, and a lock locking every entry plus the members with their dependencies. */
class World {
    entries = new Map<string, IndexEntry>();
    procMacros = new Set<string>();
    fetched = 0;
    constructor(list: IndexEntry[]) {
        for (const e of list) this.entries.set(`${e.name}@${e.vers}`, e);
    }
    provider(unreachable = false): IndexProvider {
        return {
            entry: async (p): Promise<IndexLookup> => {
                this.fetched++;
                if (unreachable) return { ok: false, reason: "unreachable", detail: "connect ECONNREFUSED" };
                const e = this.entries.get(`${p.name}@${p.version}`);
                return e ? { ok: true, entry: e } : { ok: false, reason: "no-version", versions: [] };
            },
            facts: async (p) => ({ procMacro: this.procMacros.has(p.name), buildScript: true }),
        };
    }
    /** Cargo.lock: members (name -> dependency names) and every entry, each entry's dependencies locked. */
    lock(members: Record<string, string[]>, overrides: Record<string, string> = {}): string {
        const lines: string[] = ["version = 4", ""];
        for (const [m, deps] of Object.entries(members)) {
            lines.push("[[package]]", `name = "${m}"`, `version = "0.1.0"`);
            if (deps.length) lines.push(`dependencies = [${deps.map((d) => `"${d}"`).join(", ")}]`);
            lines.push("");
        }
        for (const e of this.entries.values()) {
            const deps = e.deps.filter((d) => d.kind !== "dev").map((d) => d.package ?? d.name).filter((n) => [...this.entries.values()].some((x) => x.name === n));
            lines.push("[[package]]", `name = "${e.name}"`, `version = "${e.vers}"`, `source = "${SRC}"`, `checksum = "${overrides[e.name] ?? e.cksum}"`);
            if (deps.length) lines.push(`dependencies = [${[...new Set(deps)].map((d) => `"${d}"`).join(", ")}]`);
            lines.push("");
        }
        return lines.join("\n");
    }
}

const member = (name: string, body: string, edition = "2021"): string => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "${edition}"\n\n${body}\n`;

async function units(world: World, files: Record<string, string>, opts: { args?: string[]; target?: string } = {}): Promise<CompileKeyResult> {
    return cargoCompileKeyMaterial(memSource(files), { cacheDir: "/nonexistent", index: world.provider(), cargoArgs: opts.args, target: opts.target });
}

function summary(r: CompileKeyResult): string[] {
    return r.units.map((u) => `${u.name}${u.forHost ? " (host)" : ""} [${u.features.join(",")}] ${u.kind}`);
}

describe("cargo feature resolver", () => {
    it("weak features (`dep?/f`) wait for the dependency to be enabled by something else", async () => {
        const world = new World([
            entry("lib", [dep("serde", { optional: true })], { std: ["serde?/std"], serde: ["dep:serde"] }),
            entry("serde", [], { std: [], derive: [] }),
        ]);
        const files = (features: string): Record<string, string> => ({
            "Cargo.toml": member("app", `[dependencies]\nlib = { version = "1", features = [${features}] }`),
            "src/main.rs": "",
            "Cargo.lock": world.lock({ app: ["lib"] }),
        });
        assert.deepEqual(summary(await units(world, files('"std"'))), ["lib [std] normal"]);
        assert.deepEqual(summary(await units(world, files('"std", "serde"'))), ["lib [serde,std] normal", "serde [std] normal"]);
    });

    it("`dep:` hides the implicit feature; an optional dependency without it is a feature of its own name", async () => {
        const world = new World([
            entry("lib", [dep("json", { optional: true }), dep("yaml", { optional: true })], { j: ["dep:json"] }),
            entry("json"),
            entry("yaml"),
        ]);
        const r = await units(world, {
            "Cargo.toml": member("app", `[dependencies]\nlib = { version = "1", features = ["j", "yaml"] }`),
            "src/main.rs": "",
            "Cargo.lock": world.lock({ app: ["lib"] }),
        });
        assert.deepEqual(summary(r), ["json [] normal", "lib [j,yaml] normal", "yaml [] normal"]);
    });

    it("`crate/feature` enables an optional dependency and its implicit feature; renamed dependencies use the new name", async () => {
        const world = new World([entry("lib", [dep("s", { optional: true, package: "serde" })], {}), entry("serde", [], { derive: [] })]);
        const r = await units(world, {
            "Cargo.toml": member("app", `[dependencies]\nmylib = { package = "lib", version = "1" }\n\n[features]\ndefault = ["mylib/s"]`),
            "src/main.rs": "",
            "Cargo.lock": world.lock({ app: ["lib"] }),
        });
        assert.deepEqual(summary(r), ["lib [s] normal", "serde [] normal"]);
        const r2 = await units(world, {
            "Cargo.toml": member("app", `[dependencies]\nmylib = { package = "lib", version = "1", features = ["s"] }\nother = { package = "serde", version = "1", features = ["derive"] }`),
            "src/main.rs": "",
            "Cargo.lock": world.lock({ app: ["lib", "serde"] }),
        });
        assert.deepEqual(summary(r2), ["lib [s] normal", "serde [derive] normal"]);
    });

    it("target-specific dependencies count only for matching targets (resolver 2); resolver 1 unifies their features anyway", async () => {
        const world = new World([
            entry("lib", [dep("winapi", { target: "cfg(windows)" }), dep("shared", { target: "cfg(windows)", features: ["win"] }), dep("shared")]),
            entry("winapi"),
            entry("shared", [], { win: [] }),
        ]);
        const files = (edition: string): Record<string, string> => ({
            "Cargo.toml": member("app", `[dependencies]\nlib = "1"`, edition),
            "src/main.rs": "",
            "Cargo.lock": world.lock({ app: ["lib"] }),
        });
        assert.deepEqual(summary(await units(world, files("2021"))), ["lib [] normal", "shared [] normal"]);
        assert.deepEqual(summary(await units(world, files("2021"), { target: "x86_64-pc-windows-msvc" })), ["lib [] normal", "shared [win] normal", "winapi [] normal"]);
        // Resolver 1 (edition 2018): windows-only features leak into the linux build, winapi is still not compiled.
        assert.deepEqual(summary(await units(world, files("2018"))), ["lib [] normal", "shared [win] normal"]);
    });

    it("resolver 2 resolves build dependencies and proc macros apart from normal ones; resolver 1 does not", async () => {
        const world = new World([entry("shared", [], { a: [], b: [] }), entry("derive", [dep("shared", { features: ["b"] }), dep("proc-macro2")]), entry("proc-macro2")]);
        world.procMacros.add("derive");
        const files = (edition: string): Record<string, string> => ({
            "Cargo.toml": member("app", `build = "build.rs"\n\n[dependencies]\nshared = { version = "1", features = ["a"] }\nderive = "1"\n\n[build-dependencies]\nshared = "1"`, edition).replace('edition = "' + edition + '"\n\n', `edition = "${edition}"\n`),
            "src/main.rs": "",
            "build.rs": "",
            "Cargo.lock": world.lock({ app: ["derive", "shared"] }),
        });
        assert.deepEqual(summary(await units(world, files("2021"))), ["derive (host) [] build", "proc-macro2 (host) [] build", "shared [a] normal", "shared (host) [b] build"]);
        assert.deepEqual(summary(await units(world, files("2018"))), ["derive (host) [] build", "proc-macro2 (host) [] build", "shared [a,b] normal", "shared (host) [a,b] build"]);
    });

    it("dev-dependencies: compiled and unified only when tests are built (resolver 2)", async () => {
        const world = new World([entry("shared", [], { test: [] }), entry("mock")]);
        const files = {
            "Cargo.toml": member("app", `[dependencies]\nshared = "1"\n\n[dev-dependencies]\nshared = { version = "1", features = ["test"] }\nmock = "1"`),
            "src/lib.rs": "",
            "Cargo.lock": world.lock({ app: ["mock", "shared"] }),
        };
        assert.deepEqual(summary(await units(world, files)), ["shared [] normal"]);
        assert.deepEqual(summary(await units(world, files, { args: ["--all-targets"] })), ["mock [] dev", "shared [test] normal"]);
    });

    it("default features, --no-default-features, --features, -p and whole-workspace unification", async () => {
        const world = new World([entry("lib", [], { default: ["std"], std: [], extra: [] })]);
        const files = {
            "Cargo.toml": `[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n`,
            "a/Cargo.toml": member("a", `[dependencies]\nlib = { version = "1", default-features = false }\n\n[features]\nmore = ["lib/extra"]`),
            "a/src/lib.rs": "",
            "b/Cargo.toml": member("b", `[dependencies]\nlib = "1"`),
            "b/src/lib.rs": "",
            "Cargo.lock": world.lock({ a: ["lib"], b: ["lib"] }),
        };
        assert.deepEqual(summary(await units(world, files)), ["lib [default,std] normal"]);
        assert.deepEqual(summary(await units(world, files, { args: ["-p", "a"] })), ["lib [] normal"]);
        assert.deepEqual(summary(await units(world, files, { args: ["-p", "a", "--features", "more"] })), ["lib [extra] normal"]);
        assert.deepEqual(summary(await units(world, files, { args: ["--workspace", "--features", "a/more"] })), ["lib [default,extra,std] normal"]);
    });
});

describe("cargo compile key: errors, fallback, why", () => {
    const world = new World([entry("lib", [], { default: [] })]);
    const ok = {
        "Cargo.toml": member("app", `[dependencies]\nlib = "1"`),
        "src/main.rs": "",
        "Cargo.lock": world.lock({ app: ["lib"] }),
    };

    it("an unknown target triple is one error naming the field and the choices", async () => {
        await assert.rejects(units(world, ok, { target: "riscv64gc-unknown-linux-gnu" }), (e: Error) => {
            assert.ok(e instanceof WarmrunError);
            assert.match(e.message, /^target: unknown target triple "riscv64gc-unknown-linux-gnu"; set it to one of .*x86_64-unknown-linux-gnu/);
            return true;
        });
    });

    it("a lock that does not satisfy a member's dependency names Cargo.lock and cargo update", async () => {
        const files = { ...ok, "Cargo.toml": member("app", `[dependencies]\nlib = "2"`) };
        await assert.rejects(units(world, files), /ws\/Cargo.lock has no locked package satisfying app's dependency lib 2 .*run `cargo update -p lib`/);
    });

    it("a locked version the index does not have, or a different checksum, names Cargo.lock and the fix", async () => {
        const gone = new World([entry("lib", [], {}, "1.0.0")]);
        const files = { ...ok, "Cargo.lock": gone.lock({ app: ["lib"] }).replace('version = "1.0.0"', 'version = "1.0.7"') };
        await assert.rejects(units(gone, files), /ws\/Cargo.lock locks lib 1.0.7, a version the registry's index does not have; run `cargo update -p lib`/);
        const bad = { ...ok, "Cargo.lock": world.lock({ app: ["lib"] }, { lib: "0000" }) };
        await assert.rejects(units(world, bad), /checksum of lib 1.0.0 differs from the registry index's; run `cargo update -p lib`/);
    });

    it("falls back to the masked lock and manifests, with a warning, when the index cannot be reached", async () => {
        const r = await cargoCompileKeyMaterial(memSource(ok), { cacheDir: "/nonexistent", index: world.provider(true) });
        assert.equal(r.material.units, null);
        assert.ok(r.material.fallback && Object.keys(r.material.fallback.files).includes("Cargo.lock"));
        assert.equal(r.warnings.length, 1);
        assert.match(r.warnings[0], /could not be fetched.*falls back to the whole Cargo.lock and manifests.*never misses a change/);
        // A lock change the units would ignore still changes the fallback (it only rebuilds more).
        const r2 = await cargoCompileKeyMaterial(memSource({ ...ok, "Cargo.lock": ok["Cargo.lock"] + "\n" + '[[package]]\nname = "unused"\nversion = "1.0.0"\n' }), {
            cacheDir: "/nonexistent",
            index: world.provider(true),
        });
        assert.ok(r2.material.fallback);
    });

    it("describes changes by unit, toolchain, rustflags and profile", async () => {
        const w2 = new World([entry("lib", [], { default: [], derive: [] }, "1.1.0"), entry("regex")]);
        const before = await units(world, { ...ok, ".cargo/config.toml": "[build]\nrustflags = []\n" });
        const after = await units(w2, {
            "Cargo.toml": member("app", `[dependencies]\nlib = { version = "1", features = ["derive"] }\nregex = "1"\n\n[profile.dev]\nopt-level = 1`),
            "src/main.rs": "",
            "Cargo.lock": w2.lock({ app: ["lib", "regex"] }),
            ".cargo/config.toml": '[build]\nrustflags = ["-C", "target-cpu=native"]\n',
            "rust-toolchain.toml": '[toolchain]\nchannel = "1.80.0"\n',
        });
        assert.deepEqual(describeUnitChanges(before.material, after.material), [
            "lib 1.0.0 -> 1.1.0 +derive",
            "regex added",
            "toolchain none -> 1.80.0",
            "rustflags for x86_64-unknown-linux-gnu",
            "profile dev",
        ]);
    });
});
