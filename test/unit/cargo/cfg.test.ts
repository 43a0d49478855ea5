// Platform filters evaluated for a target triple: cfg expressions, triples, rustflags that add cfg values.
import { strict as assert } from "assert";
import { evalCfg, parseCfg, platformMatches, targetCfg } from "../../../components/cargo/cfg";

describe("cargo cfg evaluation", () => {
    const linux = targetCfg("x86_64-unknown-linux-gnu");
    const win = targetCfg("x86_64-pc-windows-msvc");
    const mac = targetCfg("aarch64-apple-darwin");
    it("evaluates the common forms for each target", () => {
        const cases: Array<[string, boolean, boolean, boolean]> = [
            ["cfg(unix)", true, false, true],
            ["cfg(windows)", false, true, false],
            ['cfg(target_os = "linux")', true, false, false],
            ['cfg(all(target_arch = "aarch64", target_vendor = "apple"))', false, false, true],
            ['cfg(any(target_os = "macos", target_env = "msvc"))', false, true, true],
            ['cfg(not(target_family = "wasm"))', true, true, true],
            ['cfg(all(unix, not(target_os = "macos")))', true, false, false],
            ['cfg(target_feature = "sse2")', true, true, false],
            ['cfg(target_has_atomic = "128")', false, true, true],
            ["x86_64-unknown-linux-gnu", true, false, false],
            ["cfg(any())", false, false, false],
            ["cfg(all())", true, true, true],
        ];
        for (const [expr, l, w, m] of cases) assert.deepEqual([platformMatches(expr, linux), platformMatches(expr, win), platformMatches(expr, mac)], [l, w, m], expr);
    });
    it("applies --cfg and target-feature rustflags", () => {
        const cfg = targetCfg("x86_64-unknown-linux-gnu", ["--cfg", "tokio_unstable", "-C", "target-feature=+avx2,-sse2", '--cfg=feature_x="on"']);
        assert.equal(evalCfg(parseCfg("tokio_unstable"), cfg), true);
        assert.equal(evalCfg(parseCfg('target_feature = "avx2"'), cfg), true);
        assert.equal(evalCfg(parseCfg('target_feature = "sse2"'), cfg), false);
        assert.equal(evalCfg(parseCfg('feature_x = "on"'), cfg), true);
    });
    it("a malformed cfg is an error naming the manifest", () => {
        assert.throws(() => platformMatches("cfg(all(unix)", linux, "ws/Cargo.toml"), /ws\/Cargo.toml: target "cfg\(all\(unix\)" is not a valid cfg expression/);
    });
});
