// The run id the program and its dynamic provider agree on without an artifact input (components/core/runId.ts).
import { strict as assert } from "assert";
import { deploymentRunId, programRunId, providerRunId } from "../../../components/core/runId";

const PROVIDER = "/home/ci/project/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js";

describe("the deployment's run id", () => {
    it("the program (PULUMI_NODEJS_ENGINE) and the provider (its first argument) given one engine address get the same id", () => {
        const program = programRunId({ PULUMI_NODEJS_ENGINE: "127.0.0.1:39435" }, "runner-1");
        const provider = providerRunId(["/usr/bin/node", PROVIDER, "127.0.0.1:39435"], "runner-1");
        assert.equal(program, provider);
        assert.match(program, /^[0-9a-f]{16}$/);
    });

    it("another engine, or the same address on another host, is another run", () => {
        const id = deploymentRunId("127.0.0.1:39435", "runner-1");
        assert.notEqual(deploymentRunId("127.0.0.1:39436", "runner-1"), id);
        assert.notEqual(deploymentRunId("127.0.0.1:39435", "runner-2"), id);
    });

    it("a program outside an engine gets an id of its own each time; a process that is not the provider gets none", () => {
        assert.notEqual(programRunId({}), programRunId({}));
        assert.equal(providerRunId(["/usr/bin/node", "/home/ci/project/scripts/x.js", "127.0.0.1:1"]), undefined);
        assert.equal(providerRunId(["/usr/bin/node", PROVIDER]), undefined);
    });
});
