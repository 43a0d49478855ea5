// cfg expressions, cargo config canonical keys, toolchain files, version requirements, the sparse index layout.
import { strict as assert } from "assert";
import { evalCfg, parseCfg, platformMatches, targetCfg } from "../../components/cargo/cfg";
import { configKey, parseCargoConfig, sparseIndexUrl } from "../../components/cargo/cargoConfig";
import { DEFAULT_REGISTRY_SOURCE, DEFAULT_SPARSE_INDEX, sparseIndexPath } from "../../components/cargo/registryIndex";
import { parseToolchain } from "../../components/cargo/toolchain";
import { satisfies } from "../../components/cargo/versionReq";

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

describe("cargo config key", () => {
    const linux = targetCfg("x86_64-unknown-linux-gnu");
    const key = (text: string) => configKey(parseCargoConfig({ toml: text }), linux);
    it("ignores comments, layout, key order and other targets", () => {
        const a = key('[build]\nrustflags = ["--cfg", "x"]\n[env]\nA = "1"\nB = { value = "2", force = true }\n');
        const b = key('# settings\n[env]\nB = { force = true, value = "2" }   # b\nA = "1"\n\n[build]\nrustflags = "--cfg x"\n[target.aarch64-unknown-linux-gnu]\nrustflags = ["-C", "target-cpu=neoverse-n1"]\n[net]\nretry = 5\n');
        assert.deepEqual(a, b);
    });
    it("target and cfg rustflags replace build.rustflags for a matching target only", () => {
        const text = '[build]\nrustflags = ["-Dwarnings"]\n[target.x86_64-unknown-linux-gnu]\nrustflags = ["-C", "target-cpu=x86-64-v3"]\n[target.\'cfg(unix)\']\nrustflags = ["--cfg", "u"]\n';
        assert.deepEqual(key(text).rustflags, ["-C", "target-cpu=x86-64-v3", "--cfg", "u"]);
        assert.deepEqual(configKey(parseCargoConfig({ toml: text }), targetCfg("x86_64-pc-windows-gnu")).rustflags, ["-Dwarnings"]);
    });
    it("follows source replacement to a sparse mirror; a vendored directory has no index", () => {
        const mirror = parseCargoConfig({ toml: '[source.crates-io]\nreplace-with = "mirror"\n[source.mirror]\nregistry = "sparse+https://mirror.example.com/index/"\n' });
        assert.equal(sparseIndexUrl(DEFAULT_REGISTRY_SOURCE, mirror), "https://mirror.example.com/index/");
        assert.equal(sparseIndexUrl(DEFAULT_REGISTRY_SOURCE, parseCargoConfig({})), DEFAULT_SPARSE_INDEX);
        const vendored = parseCargoConfig({ toml: '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "vendor"\n' });
        assert.equal(sparseIndexUrl(DEFAULT_REGISTRY_SOURCE, vendored), undefined);
        const named = parseCargoConfig({ toml: '[registries.corp]\nindex = "sparse+https://crates.corp.example/"\n' });
        assert.equal(sparseIndexUrl("sparse+https://crates.corp.example/", named), "https://crates.corp.example/");
    });
});

describe("rust-toolchain", () => {
    it("parses both forms; comments, profile and other targets do not count", () => {
        const a = parseToolchain({ toml: '[toolchain]\nchannel = "1.80.0"\ncomponents = ["rustfmt", "clippy"]\ntargets = ["x86_64-unknown-linux-gnu", "wasm32-unknown-unknown"]\nprofile = "minimal"\n' }, "x86_64-unknown-linux-gnu");
        const b = parseToolchain({ toml: '# pinned\n[toolchain]\ntargets = ["x86_64-unknown-linux-gnu"]\ncomponents = ["clippy", "rustfmt"]\nchannel = "1.80.0"\n' }, "x86_64-unknown-linux-gnu");
        assert.deepEqual({ ...a, file: "" }, { ...b, file: "" });
        assert.equal(parseToolchain({ legacy: "nightly-2024-05-01\n" }, "x")?.channel, "nightly-2024-05-01");
        assert.equal(parseToolchain({}, "x"), null);
    });
});

describe("cargo version requirements", () => {
    it("follows Cargo's semantics, not npm's", () => {
        const cases: Array<[string, string, boolean]> = [
            ["1.2.3", "1.2", true],
            ["1.9.0", "1.2", true],
            ["2.0.0", "1", false],
            ["0.2.9", "0.2.3", true],
            ["0.3.0", "0.2.3", false],
            ["0.0.4", "0.0.3", false],
            ["1.2.9", "~1.2.3", true],
            ["1.3.0", "~1.2", false],
            ["1.2.3", "=1.2.3", true],
            ["1.2.4", "=1.2.3", false],
            ["1.5.0", ">=1.2, <1.6", true],
            ["1.6.0", ">=1.2, <1.6", false],
            ["3.0.0", "*", true],
            ["1.4.0", "1.*", true],
            ["1.0.0-alpha.1", "1", false],
            ["1.0.0-alpha.2", ">=1.0.0-alpha.1", true],
            ["1.2.2+spec-1.1.0", "1.2", true],
        ];
        for (const [v, req, want] of cases) assert.equal(satisfies(v, req), want, `${v} ~ ${req}`);
    });
});

describe("sparse index layout", () => {
    it("puts crates where Cargo looks for them", () => {
        assert.deepEqual(["a", "cc", "syn", "serde", "Tokio"].map(sparseIndexPath), ["1/a", "2/cc", "3/s/syn", "se/rd/serde", "to/ki/tokio"]);
    });
});
