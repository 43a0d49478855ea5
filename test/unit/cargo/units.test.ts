// The compile key of a workspace: the errors for bad locks, missing index versions and unknown
// targets; the fallback when the index cannot be reached; the "why" lines.
import { strict as assert } from "assert";
import { WarmrunError } from "../../../components/core/errors";
import { cargoCompileKeyMaterial } from "../../../components/cargo/units";
import { compileInputEntries, describeUnitChanges } from "../../../components/cargo/unitChanges";
import { entry, member, memSource, units, World } from "../../support/cargoWorld";

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

    it("an unknown triple from --target or from build.target names where it was set", async () => {
        await assert.rejects(
            cargoCompileKeyMaterial(memSource(ok), { cacheDir: "/nonexistent", index: world.provider(), cargoArgs: ["--target", "x86_64-unknown-linux-gun"], argsField: "warmrun:artifacts.deps.cargoArgs" }),
            /^WarmrunError: warmrun:artifacts\.deps\.cargoArgs \(--target\): unknown target triple "x86_64-unknown-linux-gun"; set it to one of /,
        );
        await assert.rejects(
            units(world, { ...ok, ".cargo/config.toml": '[build]\ntarget = "wasm64-unknown-unknown"\n' }),
            /^WarmrunError: ws\/\.cargo\/config\.toml build\.target: unknown target triple "wasm64-unknown-unknown"/,
        );
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

    it("without the index too, a lock that does not satisfy a dependency fails; dev and optional ones are left to cargo", async () => {
        const offline = (files: Record<string, string>) => cargoCompileKeyMaterial(memSource(files), { cacheDir: "/nonexistent", index: world.provider(true) });
        await assert.rejects(offline({ ...ok, "Cargo.toml": member("app", `[dependencies]\nlib = "2"`) }), /^WarmrunError: ws\/Cargo.lock has no locked package satisfying app's dependency lib 2 \(Cargo.toml\); run `cargo update -p lib`/);
        await assert.rejects(offline({ ...ok, "Cargo.toml": member("app", `[build-dependencies]\nlib = "1"\nregex = "1"`) }), /dependency regex 1 .*run `cargo update -p regex`/);
        const fine = await offline({ ...ok, "Cargo.toml": member("app", `[dependencies]\nlib = "1"\nserde = { version = "1", optional = true }\n\n[dev-dependencies]\nproptest = "1"`) });
        assert.ok(fine.material.fallback, "the fallback key, no false alarm");
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
        assert.deepEqual(describeUnitChanges(compileInputEntries(before.material), compileInputEntries(after.material)), [
            "lib 1.0.0 -> 1.1.0 +derive",
            "regex added",
            "toolchain none -> 1.80.0",
            "rustflags for x86_64-unknown-linux-gnu",
            "profile dev",
        ]);
    });
});
