// Which processes the dynamic provider's orphan watch looks at (components/core/orphan.ts).
import { strict as assert } from "assert";
import { isDynamicProvider, ProcessTable, watchedLinks } from "../../../components/core/orphan";

/** A process table of pid -> [parent, executable]. */
const table = (procs: Record<number, [number, string]>): ProcessTable => ({
    parentOf: (pid) => procs[pid]?.[0],
    executableOf: (pid) => procs[pid]?.[1],
});

describe("the orphan watch of the dynamic provider", () => {
    it("started by the engine itself (a shim that execs node): only its own parent is watched", () => {
        const t = table({ 100: [1, "/usr/local/bin/pulumi"], 200: [100, "/usr/bin/node"] });
        assert.deepEqual(watchedLinks(200, 100, t), [{ pid: 200, parent: 100 }]);
    });

    it("started through a shell shim without exec: the shell's parent, the engine, is watched too", () => {
        for (const shell of ["/bin/sh", "/usr/bin/dash", "/bin/bash", "/bin/busybox"]) {
            const t = table({ 100: [1, "/usr/local/bin/pulumi"], 150: [100, shell], 200: [150, "/usr/bin/node"] });
            assert.deepEqual(watchedLinks(200, 150, t), [{ pid: 200, parent: 150 }, { pid: 150, parent: 100 }], shell);
        }
    });

    it("a shell that is already an orphan, or a table that cannot tell, adds nothing", () => {
        assert.deepEqual(watchedLinks(200, 150, table({ 150: [1, "/bin/sh"] })), [{ pid: 200, parent: 150 }]);
        assert.deepEqual(watchedLinks(200, 150, table({})), [{ pid: 200, parent: 150 }]);
    });

    it("is installed only in Pulumi's dynamic provider, however the shim names its script", () => {
        assert.equal(isDynamicProvider(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider"]), true);
        assert.equal(isDynamicProvider(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"]), true);
        assert.equal(isDynamicProvider(["node", "/p/node_modules/.bin/mocha"]), false);
        assert.equal(isDynamicProvider(["node"]), false);
    });
});
