// rust-toolchain files parsed to what selects the compiler.
import { strict as assert } from "assert";
import { parseToolchain } from "../../../components/cargo/toolchain";

describe("rust-toolchain", () => {
    it("parses both forms; comments, profile and other targets do not count", () => {
        const a = parseToolchain({ toml: '[toolchain]\nchannel = "1.80.0"\ncomponents = ["rustfmt", "clippy"]\ntargets = ["x86_64-unknown-linux-gnu", "wasm32-unknown-unknown"]\nprofile = "minimal"\n' }, "x86_64-unknown-linux-gnu");
        const b = parseToolchain({ toml: '# pinned\n[toolchain]\ntargets = ["x86_64-unknown-linux-gnu"]\ncomponents = ["clippy", "rustfmt"]\nchannel = "1.80.0"\n' }, "x86_64-unknown-linux-gnu");
        assert.deepEqual({ ...a, file: "" }, { ...b, file: "" });
        assert.equal(parseToolchain({ legacy: "nightly-2024-05-01\n" }, "x")?.channel, "nightly-2024-05-01");
        assert.equal(parseToolchain({}, "x"), null);
    });
});
