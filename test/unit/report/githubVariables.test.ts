// warmrun:github: its validation, and under Pulumi's mocks the GitHub provider and one Actions
// variable per chosen output (the github provider plugin is not needed for this).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { buildStack } from "../../../components/core/stack";
import { githubVariablePlan, publishGithubVariables } from "../../../components/report/githubVariables";
import { registered, resetRegistered, plain, isSecret } from "../../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";

const TOKEN = "ghp_unit-test-token-0123456789";

describe("GitHub Actions variables (warmrun:github)", () => {
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, { "deps/Cargo.lock": "lock\n", "tools/x.sh": "echo\n" });
    });
    after(removeTempDirs);
    beforeEach(resetRegistered);

    function raw(github: unknown): Record<string, string> {
        return {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:artifacts": JSON.stringify({ "rust-deps": { kind: "FileBundle", root: "deps" }, tools: { kind: "FileBundle", root: "tools", upstream: ["rust-deps"] } }),
            ...(github === undefined ? {} : { "warmrun:github": JSON.stringify(github) }),
        };
    }

    function problems(github: unknown, secret = true): string[] {
        try {
            validateConfig(raw(github), { projectRoot: project, secretKeys: new Set(secret ? ["warmrun:github"] : []) });
        } catch (e) {
            assert.ok(e instanceof ConfigError, String(e));
            return e.problems;
        }
        assert.fail("expected the configuration to be rejected");
    }

    it("validates owner, repository, a secret token, artifacts and outputs, with defaults", () => {
        const c = validateConfig(raw({ owner: "acme", repository: "app", token: TOKEN }), { projectRoot: project, secretKeys: new Set(["warmrun:github"]) });
        assert.deepEqual(c.github, { owner: "acme", repository: "app", artifacts: ["rust-deps", "tools"], outputs: ["pinned"] });
        assert.equal(JSON.stringify(c).includes(TOKEN), false, "the token is not kept in the validated config");
        assert.equal(validateConfig(raw(undefined), { projectRoot: project, secretKeys: new Set() }).github, undefined);
    });

    it("refuses a plaintext token, naming the command that stores it as a secret", () => {
        const p = problems({ owner: "acme", repository: "app", token: TOKEN }, false);
        assert.deepEqual(p, ["warmrun:github.token is stored in plaintext: set it with `pulumi config set --secret --path warmrun:github.token <token>`"]);
        assert.equal(p.join("").includes(TOKEN), false, "the error does not echo the token");
    });

    it("reports every problem at once: missing fields, owner/repo form, unknown artifacts, outputs and fields", () => {
        const p = problems({ repository: "acme/app", artifacts: ["rust-dep"], outputs: ["pined"], tokn: "x" });
        assert.equal(p.length, 6, p.join("\n"));
        assert.match(p[0], /warmrun:github: unknown field tokn \(did you mean token\?\)/);
        assert.match(p[1], /warmrun:github\.owner must be a non-empty string/);
        assert.match(p[2], /warmrun:github\.repository is the repository's name alone/);
        assert.match(p[3], /warmrun:github\.token is missing: `pulumi config set --secret --path warmrun:github\.token <token>`/);
        assert.match(p[4], /warmrun:github\.artifacts names "rust-dep" \(did you mean rust-deps\?\)/);
        assert.match(p[5], /warmrun:github\.outputs names "pined" \(did you mean pinned\?\)/);
    });

    it("plans WARMRUN_<ARTIFACT>[_SUFFIX] names, as ci-outputs writes them", () => {
        const plan = githubVariablePlan({ owner: "acme", repository: "app", artifacts: ["rust-deps"], outputs: ["pinned", "digest", "key", "ref", "cacheHit"] });
        assert.deepEqual(plan.map((v) => v.variableName), ["WARMRUN_RUST_DEPS", "WARMRUN_RUST_DEPS_DIGEST", "WARMRUN_RUST_DEPS_KEY", "WARMRUN_RUST_DEPS_REF", "WARMRUN_RUST_DEPS_CACHE_HIT"]);
    });

    it("under mocks: a github provider with the token as a secret, and one ActionsVariable per chosen output", async () => {
        const config = validateConfig(raw({ owner: "acme", repository: "app", token: TOKEN, artifacts: ["rust-deps"], outputs: ["pinned", "digest"] }), { projectRoot: project, secretKeys: new Set(["warmrun:github"]) });
        const stack = await buildStack(config, new StatCache(), undefined, async () => undefined);
        const token = pulumi.secret({ token: TOKEN }).apply((g) => g.token);
        const gh = publishGithubVariables(config.github!, stack, token);
        await Promise.all(Object.values(gh.variables).map((v) => new Promise((r) => v.urn.apply(r))));
        await new Promise((r) => setTimeout(r, 50));

        const providers = registered.filter((r) => r.type === "pulumi:providers:github");
        assert.equal(providers.length, 1);
        assert.equal(plain(providers[0].inputs.owner), "acme");
        assert.ok(isSecret(providers[0].inputs.token), `the token reaches the provider as a secret: ${JSON.stringify(providers[0].inputs.token)}`);
        assert.equal(plain(providers[0].inputs.token), TOKEN);

        const vars = registered.filter((r) => r.type === "github:index/actionsVariable:ActionsVariable");
        const byName = Object.fromEntries(vars.map((v) => [v.inputs.variableName, v.inputs]));
        assert.deepEqual(Object.keys(byName).sort(), ["WARMRUN_RUST_DEPS", "WARMRUN_RUST_DEPS_DIGEST"]);
        assert.equal(byName.WARMRUN_RUST_DEPS.repository, "app");
        assert.equal(byName.WARMRUN_RUST_DEPS.value, `127.0.0.1:5000/warmrun/rust-deps@sha256:${"d".repeat(64)}`);
        assert.equal(byName.WARMRUN_RUST_DEPS_DIGEST.value, `sha256:${"d".repeat(64)}`);
        for (const v of vars) assert.equal(isSecret(v.inputs.value), false, "references are plain values");
        for (const r of registered) assert.equal(JSON.stringify(plain(r.inputs)).includes(TOKEN) && r.type !== "pulumi:providers:github", false, `${r.type} ${r.name} does not carry the token`);
    });

    it("a stack without warmrun:github registers no GitHub resource", async () => {
        const config = validateConfig(raw(undefined), { projectRoot: project, secretKeys: new Set() });
        const stack = await buildStack(config, new StatCache(), undefined, async () => undefined);
        await Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
        assert.ok(registered.length > 0);
        assert.deepEqual(registered.filter((r) => r.type.includes("github")), []);
    });
});
