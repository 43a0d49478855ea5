// api.ts, the library entry: a program's artifact is checked as a stack file's is, before any
// registry look-up or registration, and its problem is one message without a stack trace.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { artifact, artifacts } from "../../api";
import { registered, resetRegistered } from "../support/mocks";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";

describe("the library entry (api.ts)", () => {
    let project: string;
    before(() => {
        project = tempDir();
        writeTree(project, { "ci/run.sh": "echo hi\n" });
    });
    after(removeTempDirs);
    beforeEach(resetRegistered);

    // A registry nothing listens on: a look-up would fail with "unreachable", so these fail earlier.
    const settings = () => ({ registry: "127.0.0.1:9/program", projectRoot: project });

    it("a missing path is one error naming the field and the fix, and nothing is registered", async () => {
        await assert.rejects(artifact(settings(), "runtime", { kind: "BaseImage", containerfile: "images/Containerfile" }), (e: unknown) => {
            assert.ok(e instanceof pulumi.RunError, `a RunError, not ${e}`);
            assert.match((e as Error).message, /warmrun:artifacts\.runtime\.containerfile: file images\/Containerfile does not exist: create it or fix the path/);
            return true;
        });
        assert.equal(registered.length, 0);
    });

    it("an unknown kind names the kinds of the list", async () => {
        await assert.rejects(artifact(settings(), "x", { kind: "Bundle", root: "ci" }), /warmrun:artifacts\.x.*FileBundle/);
    });

    it("upstreams are components, not names among the fields", async () => {
        await assert.rejects(artifact(settings(), "ci", { kind: "FileBundle", root: "ci", upstream: ["runtime"] }), /artifact ci: pass its upstream components as artifact\(\)'s last argument/);
    });

    it("a map's upstream that is not in the map is reported as for a stack file", async () => {
        await assert.rejects(artifacts({ ...settings(), artifacts: { ci: { kind: "FileBundle", root: "ci", upstream: ["base"] } } }), /warmrun:artifacts\.ci\.upstream names "base", which is not an artifact/);
        assert.equal(registered.length, 0);
    });
});
