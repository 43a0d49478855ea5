// CloudInitIso's checks of its fields, through config validation.
import { strict as assert } from "assert";
import { validateConfig, ConfigError } from "../../../../components/core/config";

describe("CloudInitIso fields", () => {
    it("config: secretFiles must be stored as a secret", () => {
        const raw = { "warmrun:registry": "127.0.0.1:5000/w", "warmrun:artifacts": JSON.stringify({ s: { kind: "CloudInitIso", secretFiles: { "/etc/k": "KEY" } } }) };
        assert.throws(() => validateConfig(raw, { projectRoot: "/", secretKeys: new Set() }), (e: any) => e instanceof ConfigError && /secretFiles is stored in plaintext: set each with `pulumi config set --path --secret/.test(e.message));
        validateConfig(raw, { projectRoot: "/", secretKeys: new Set(["warmrun:artifacts"]) });
    });
});
