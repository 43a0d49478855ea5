// The provider's one error path: whatever fails inside a lifecycle step reaches the engine as one
// message naming the artifact, and the dynamic provider server's echo of it (with a stack) is dropped.
import { strict as assert } from "assert";
import { reported } from "../../../components/core/providerImpl";
import { WarmrunError } from "../../../components/core/errors";

describe("provider errors", () => {
    it("an error of a step becomes a WarmrunError naming the artifact, without a stack", async () => {
        await assert.rejects(
            reported("img", async () => {
                throw Object.assign(new Error("EACCES: permission denied, open '/ctx/secret'"), { code: "EACCES", path: "/ctx/secret", syscall: "open" });
            }),
            (e: unknown) => {
                assert.ok(e instanceof WarmrunError);
                assert.match(e.message, /^warmrun:artifacts\.img: cannot read \/ctx\/secret \(permission denied\)/);
                assert.equal(e.stack, "");
                return true;
            },
        );
        assert.equal(await reported("img", async () => 42), 42);
    });

    it("the server's echo of a reported error is dropped; anything else still reaches stderr", async () => {
        const seen: string[] = [];
        const original = process.stderr.write.bind(process.stderr);
        (process.stderr as any).write = (chunk: any, ...rest: any[]) => {
            seen.push(String(chunk));
            return original(chunk, ...rest);
        };
        try {
            let thrown: any;
            await reported("good", async () => {
                throw new WarmrunError("registry 127.0.0.1:1 is unreachable (ECONNREFUSED)");
            }).catch((e) => (thrown = e));
            // What the dynamic provider's server prints for a failed read, diff or delete:
            console.error(`${thrown}: ${thrown.stack}`);
            console.error("a build log line");
        } finally {
            (process.stderr as any).write = original;
        }
        assert.ok(!seen.some((s) => s.includes("is unreachable")), seen.join(""));
        assert.ok(seen.some((s) => s.includes("a build log line")));
    });
});
