// cli/stack.ts: the local registry a stack's config calls for, and whose a stack is.
import { strict as assert } from "assert";
import { checkStackOwner, loopbackRegistryPort, PulumiCall, REPOSITORY_TAG } from "../../../cli/stack";
import { WarmrunError } from "../../../components/core/errors";

describe("warmrun command: the local registry", () => {
    it("starts a local registry for a loopback registry on any port, never for a hosted one", () => {
        assert.equal(loopbackRegistryPort("127.0.0.1:5000/warmrun"), 5000);
        assert.equal(loopbackRegistryPort("localhost:6123"), 6123);
        assert.equal(loopbackRegistryPort("127.0.0.1/warmrun"), undefined);
        assert.equal(loopbackRegistryPort("ghcr.io/acme/cache"), undefined);
        assert.equal(loopbackRegistryPort(undefined), undefined);
    });
});

describe("warmrun command: a stack on a shared backend belongs to one repository", () => {
    /** A fake pulumi holding one stack's tags; records the calls. */
    function fakePulumi(tags: Record<string, string>, opts: { tagsUnsupported?: boolean } = {}) {
        const calls: string[][] = [];
        const call: PulumiCall = (args) => {
            calls.push(args);
            if (opts.tagsUnsupported) return { code: 1, stdout: "", stderr: "error: stack tags are not supported by this backend" };
            if (args[2] === "get") return args[3] in tags ? { code: 0, stdout: `${tags[args[3]]}\n`, stderr: "" } : { code: 1, stdout: "", stderr: `error: stack tag '${args[3]}' not found for stack 'ci'` };
            if (args[2] === "set") {
                tags[args[3]] = args[4];
                return { code: 0, stdout: "", stderr: "" };
            }
            return { code: 1, stdout: "", stderr: "unexpected" };
        };
        return { call, calls, tags };
    }

    it("tags a stack on first use with the repository, and then finds it its own with one call", () => {
        const p = fakePulumi({});
        assert.equal(checkStackOwner(p.call, "ci", "git.example.com/acme/app"), "tagged");
        assert.equal(p.tags[REPOSITORY_TAG], "git.example.com/acme/app");
        p.calls.length = 0;
        assert.equal(checkStackOwner(p.call, "ci", "git.example.com/acme/app"), "same");
        assert.deepEqual(p.calls, [["stack", "tag", "get", REPOSITORY_TAG, "--stack", "ci"]]);
    });

    it("refuses another repository's stack, naming both repositories and the fixes, and changes nothing", () => {
        const p = fakePulumi({ [REPOSITORY_TAG]: "git.example.com/acme/app" });
        assert.throws(
            () => checkStackOwner(p.call, "ci", "git.example.com/acme/web", { backend: "s3://ci-state" }),
            (e: any) =>
                e instanceof WarmrunError &&
                /stack ci \(backend s3:\/\/ci-state\) holds the artifacts of git\.example\.com\/acme\/app, not of this repository \(git\.example\.com\/acme\/web\)/.test(e.message) &&
                /rename Pulumi\.ci\.yaml and run with --stack <name>/.test(e.message) &&
                /WARMRUN_CLAIM_STACK=1/.test(e.message),
        );
        assert.equal(p.tags[REPOSITORY_TAG], "git.example.com/acme/app");
        assert.ok(!p.calls.some((c) => c[2] === "set"));
    });

    it("a claim moves the stack to this repository; a backend without tags is not checked", () => {
        const p = fakePulumi({ [REPOSITORY_TAG]: "git.example.com/acme/old-name" });
        assert.equal(checkStackOwner(p.call, "ci", "git.example.com/acme/app", { claim: true }), "claimed");
        assert.equal(p.tags[REPOSITORY_TAG], "git.example.com/acme/app");
        const none = fakePulumi({}, { tagsUnsupported: true });
        assert.equal(checkStackOwner(none.call, "ci", "git.example.com/acme/app"), "unchecked");
        assert.equal(none.calls.length, 1);
    });
});
