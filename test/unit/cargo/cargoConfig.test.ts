// .cargo/config(.toml): the canonical key of what changes compilation for the target, and source replacement.
import { strict as assert } from "assert";
import { targetCfg } from "../../../components/cargo/cfg";
import { configKey, parseCargoConfig, sparseIndexUrl } from "../../../components/cargo/cargoConfig";
import { DEFAULT_REGISTRY_SOURCE, DEFAULT_SPARSE_INDEX } from "../../../components/cargo/registryIndex";

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
