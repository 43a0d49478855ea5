// The feature resolver on small hand-made index entries: weak features, `dep:`, renames, implicit
// optional-dependency features, cfg-specific dependencies, host/target separation and dev-dependencies
// under resolver 1 and 2.
import { strict as assert } from "assert";
import { dep, entry, member, summary, units, World } from "../../support/cargoWorld";

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
