// Stack outputs as CI variables: names, the GitHub file format (multi-line heredocs), dotenv, secrets left out.
import { strict as assert } from "assert";
import { ciVariables, parseGithubFile, renderDotenv, renderGithubFile, variableName } from "../../../components/report/ciEnv";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OUTPUTS = {
    registry: "127.0.0.1:5000/warmrun",
    outputs: {
        "rust-deps": { pinned: `127.0.0.1:5000/warmrun/rust-deps@${DIGEST}`, ref: "127.0.0.1:5000/warmrun/rust-deps:0123456789abcdef01234567", digest: DIGEST, key: "0123456789abcdef".repeat(4), cacheHit: true, buildSeconds: 0, downloads: { count: 0, bytes: 0 } },
        "base.qcow2": { pinned: "[secret]", ref: "r", digest: DIGEST, key: "k", cacheHit: false },
    },
};

describe("CI variables from stack outputs", () => {
    it("names WARMRUN_<ARTIFACT> (the pinned reference) and WARMRUN_<ARTIFACT>_<FIELD>", () => {
        assert.equal(variableName("rust-deps"), "WARMRUN_RUST_DEPS");
        assert.equal(variableName("base.qcow2", "digest"), "WARMRUN_BASE_QCOW2_DIGEST");
        assert.equal(variableName("x", "cacheHit"), "WARMRUN_X_CACHE_HIT");
        const { variables, skipped } = ciVariables(OUTPUTS, { artifacts: ["rust-deps"] });
        assert.deepEqual(
            variables.map((v) => [v.name, v.value]),
            [
                ["WARMRUN_REGISTRY", "127.0.0.1:5000/warmrun"],
                ["WARMRUN_RUST_DEPS", `127.0.0.1:5000/warmrun/rust-deps@${DIGEST}`],
                ["WARMRUN_RUST_DEPS_REF", "127.0.0.1:5000/warmrun/rust-deps:0123456789abcdef01234567"],
                ["WARMRUN_RUST_DEPS_DIGEST", DIGEST],
                ["WARMRUN_RUST_DEPS_KEY", "0123456789abcdef".repeat(4)],
                ["WARMRUN_RUST_DEPS_CACHE_HIT", "true"],
            ],
        );
        assert.deepEqual(skipped, []);
    });

    it("leaves secret outputs out instead of writing their placeholder", () => {
        const { variables, skipped } = ciVariables(OUTPUTS, { fields: ["pinned", "digest"] });
        assert.deepEqual(skipped, ["WARMRUN_BASE_QCOW2"]);
        assert.equal(variables.some((v) => v.value === "[secret]"), false);
        assert.ok(variables.some((v) => v.name === "WARMRUN_BASE_QCOW2_DIGEST"));
    });

    it("refuses unknown artifacts and two artifacts that map to one name", () => {
        assert.throws(() => ciVariables(OUTPUTS, { artifacts: ["nope"] }), /the stack has no output for nope: its artifacts are base\.qcow2, rust-deps/);
        assert.throws(() => ciVariables({ outputs: { "a-b": { pinned: "x" }, "a.b": { pinned: "y" } } }), /artifacts a-b and a\.b both map to the variable WARMRUN_A_B: rename one of them/);
    });

    it("writes NAME=value lines, and the heredoc form for multi-line values, which read back the same", () => {
        const vars = [
            { name: "WARMRUN_A", value: "127.0.0.1:5000/x@sha256:1" },
            { name: "WARMRUN_NOTES", value: "line one\nline two\nWARMRUN_EOF" },
        ];
        const text = renderGithubFile(vars);
        assert.match(text, /^WARMRUN_A=127\.0\.0\.1:5000\/x@sha256:1\nWARMRUN_NOTES<<WARMRUN_EOF_[0-9a-f]{16}\nline one\nline two\nWARMRUN_EOF\nWARMRUN_EOF_[0-9a-f]{16}\n$/);
        assert.deepEqual(parseGithubFile(text), { WARMRUN_A: vars[0].value, WARMRUN_NOTES: vars[1].value });
    });

    it("writes dotenv lines, quoting what needs it", () => {
        assert.equal(
            renderDotenv([
                { name: "A", value: "127.0.0.1:5000/x@sha256:1" },
                { name: "B", value: "has space" },
                { name: "C", value: "two\nlines $HOME \"q\" it's" },
            ]),
            "A=127.0.0.1:5000/x@sha256:1\nB='has space'\nC=\"two\\nlines \\$HOME \\\"q\\\" it's\"\n",
        );
    });
});
