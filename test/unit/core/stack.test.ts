// The component graph under Pulumi's mocks: which resources the program registers, with which keys.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { validateConfig } from "../../../components/core/config";
import { StatCache } from "../../../components/core/fileset";
import { asRunError, buildStack, stackProblems } from "../../../components/core/stack";
import { ProblemList, WarmrunError } from "../../../components/core/errors";
import { computeKey, shortKey } from "../../../components/core/keys";
import { bundleKeyMaterial } from "../../../components/kinds/fileBundle/plan";
import { tempDir, removeTempDirs, writeTree } from "../../support/tmp";
import { registered, resetRegistered } from "../../support/mocks";

/** Resolves once every artifact of the stack is registered (its id is known). */
function registeredAll(stack: Awaited<ReturnType<typeof buildStack>>): Promise<unknown> {
    return Promise.all(Object.values(stack).map((c) => new Promise((r) => c.artifact.id.apply(r))));
}

describe("component graph (mocks)", () => {
    let project: string;
    const lookups: string[] = [];
    const lookup = async (repo: string, tag: string) => {
        lookups.push(`${repo}:${tag}`);
        return undefined;
    };

    function stackOf(): ReturnType<typeof buildStack> {
        const raw = {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:artifacts": JSON.stringify({
                base: { kind: "FileBundle", root: "base" },
                app: { kind: "FileBundle", root: "app", upstream: ["base"] },
                docs: { kind: "FileBundle", root: "docs" },
            }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set() });
        return buildStack(config, new StatCache(), undefined, lookup);
    }

    async function artifactInputs(stack: Awaited<ReturnType<typeof buildStack>>): Promise<Record<string, any>> {
        await registeredAll(stack);
        const out: Record<string, any> = {};
        for (const r of registered) if (r.type === "pulumi-nodejs:dynamic/warmrun:FileBundle") out[r.name] = r.inputs;
        return out;
    }

    before(() => {
        project = tempDir();
        writeTree(project, { "base/os-release": "debian 13\n", "app/run.sh": "echo hi\n", "docs/README": "docs\n" });
    });
    after(removeTempDirs);
    beforeEach(() => {
        resetRegistered();
        lookups.length = 0;
    });

    it("registers a component and an artifact per config entry, keyed by content", async () => {
        const stack = await stackOf();
        const inputs = await artifactInputs(stack);
        assert.deepEqual(Object.keys(inputs).sort(), ["app", "base", "docs"]);
        assert.deepEqual(registered.filter((r) => r.type === "warmrun:index:FileBundle").map((r) => r.name).sort(), ["app", "base", "docs"]);

        const baseKey = computeKey(await bundleKeyMaterial("base", { root: path.join(project, "base") }, {}, new StatCache()));
        assert.equal(inputs.base.key, baseKey);
        assert.equal(await stack.base.key, baseKey);
        assert.equal(inputs.base.repository, "warmrun/base");
        assert.equal(inputs.base.tag, shortKey(baseKey));
        assert.equal(inputs.base.registry.host, "127.0.0.1:5000");
        assert.equal(inputs.app.inputs["upstream:base"], baseKey, "the dependent carries its upstream's key");
        assert.ok(inputs.app.inputs["file:run.sh"]);
        assert.equal(typeof inputs.base.__provider, "string", "a dynamic provider is attached");
        assert.ok(!inputs.base.__provider.includes(project), "the serialized provider records no checkout path");
        assert.equal(lookups.length, 3, "one registry look-up per artifact");
        assert.equal(inputs.base.tagInRegistry, false, "the look-up's answer reaches the artifact (the diff heals a vanished tag)");
    });

    it("a changed upstream changes exactly its dependents' keys", async () => {
        const before = await artifactInputs(await stackOf());
        resetRegistered();
        fs.writeFileSync(path.join(project, "base/os-release"), "debian 14\n");
        const after = await artifactInputs(await stackOf());
        assert.notEqual(after.base.key, before.base.key);
        assert.notEqual(after.app.key, before.app.key, "dependent rebuilt");
        assert.equal(after.docs.key, before.docs.key, "unrelated artifact untouched");
    });
    it("a problem several artifacts meet is one line naming them all; an artifact's own problems stay its own", () => {
        const registryDown = () => new WarmrunError("registry 127.0.0.1:1 is unreachable (ECONNREFUSED): start it");
        assert.deepEqual(
            stackProblems([
                { name: "base", error: registryDown() },
                { name: "docs", error: registryDown() },
                { name: "app", error: new WarmrunError("warmrun:artifacts.app.root: bad") },
                { name: "img", error: new WarmrunError("img: buildah is not installed") },
            ]),
            [
                "warmrun:artifacts.app.root: bad",
                "warmrun:artifacts.img: buildah is not installed",
                "warmrun:artifacts.base, warmrun:artifacts.docs: registry 127.0.0.1:1 is unreachable (ECONNREFUSED): start it",
            ],
        );
    });

    it("a registry that fails every look-up is one problem, not one per artifact, and nothing is registered", async () => {
        const raw = {
            "warmrun:registry": "127.0.0.1:5000/warmrun",
            "warmrun:artifacts": JSON.stringify({ base: { kind: "FileBundle", root: "base" }, app: { kind: "FileBundle", root: "app", upstream: ["base"] }, docs: { kind: "FileBundle", root: "docs" } }),
        };
        const config = validateConfig(raw, { projectRoot: project, secretKeys: new Set() });
        const down = async (): Promise<string | undefined> => {
            throw new WarmrunError("registry 127.0.0.1:5000 is unreachable (ECONNREFUSED): start it");
        };
        await assert.rejects(buildStack(config, new StatCache(), undefined, down), (e: unknown) => {
            assert.ok(e instanceof ProblemList);
            assert.deepEqual(e.problems, ["warmrun:artifacts.base, warmrun:artifacts.docs: registry 127.0.0.1:5000 is unreachable (ECONNREFUSED): start it"]);
            return true;
        });
        assert.equal(registered.length, 0, "nothing registered");
    });

    it("the program's error is a RunError with the message alone: no stack for the runtime to format", () => {
        const known = asRunError(new WarmrunError("warmrun:artifacts.x: bad")) as Error;
        assert.ok(pulumi.RunError.isInstance(known));
        assert.equal(known.message, "warmrun:artifacts.x: bad");
        assert.equal(known.stack, "");
        const denied = asRunError(Object.assign(new Error("EACCES: permission denied, open '/ctx/key'"), { code: "EACCES", path: "/ctx/key", syscall: "open" })) as Error;
        assert.match(denied.message, /^cannot read \/ctx\/key \(permission denied\)/);
        const bug = asRunError(new TypeError("x is undefined")) as Error;
        assert.match(bug.message, /^x is undefined \(an unexpected error: run with WARMRUN_DEBUG=1/);
        assert.equal(bug.stack, "");
    });
});
