// After an interrupted up: which locks are stale, which creates are pending, which commands recover.
import { strict as assert } from "assert";
import { diagnose, heldMessage, needsRecovery, recoveryCommands, recoveryMessage } from "../../../components/report/recovery";

const lock = (pid: number, hostname = "ci-runner-7") => ({ file: `/state/.pulumi/locks/organization/warmrun/ci/${pid}.json`, pid, username: "runner", hostname, timestamp: "2026-12-01T10:00:00Z" });
const exported = {
    deployment: {
        resources: [],
        pending_operations: [
            { resource: { urn: "urn:pulumi:ci::warmrun::warmrun:index:CargoDepsImage$pulumi-nodejs:dynamic/warmrun:CargoDepsImage::rust-deps" }, type: "creating" },
            { resource: { urn: "urn:pulumi:ci::warmrun::warmrun:index:FileBundle$pulumi-nodejs:dynamic/warmrun:FileBundle::notes" }, type: "creating" },
        ],
    },
};

describe("recovery after an interrupted up", () => {
    it("a lock of a dead process on this machine is stale; pending creates are named", () => {
        const d = diagnose([lock(4242)], exported, "ci-runner-7", () => false);
        assert.deepEqual(d.stale.map((l) => l.pid), [4242]);
        assert.deepEqual(d.held, []);
        assert.deepEqual(d.pendingCreates, ["rust-deps", "notes"]);
        assert.equal(needsRecovery(d), true);
        assert.deepEqual(recoveryCommands("ci", d, ["--config-file", "/ci/Pulumi.ci.yaml"]), [
            ["cancel", "--stack", "ci", "--yes"],
            ["refresh", "--stack", "ci", "--clear-pending-creates", "--yes", "--skip-preview", "--config-file", "/ci/Pulumi.ci.yaml"],
        ]);
        const text = recoveryMessage("ci", d);
        assert.match(text, /^the last `pulumi up` of stack ci was interrupted:/);
        assert.match(text, /its lock \/state\/\.pulumi\/locks\/organization\/warmrun\/ci\/4242\.json \(pid 4242, .*\) is stale/);
        assert.match(text, /2 creates never finished: rust-deps, notes/);
        assert.match(text, /\n  pulumi cancel --stack ci --yes\n  pulumi refresh --stack ci --clear-pending-creates --yes --skip-preview\n/);
        assert.match(text, /npm run up -- --recover/);
    });

    it("a live run's lock, or another machine's, is held: never stale", () => {
        const d = diagnose([lock(1, "ci-runner-7"), lock(2, "other-host")], { deployment: {} }, "ci-runner-7", (pid) => pid === 1);
        assert.deepEqual(d.stale, []);
        assert.deepEqual(d.held.map((l) => l.why), [
            "held by pid 1 on this machine since 2026-12-01T10:00:00Z, which is still running",
            "held by runner@other-host (pid 2) since 2026-12-01T10:00:00Z, another machine",
        ]);
        assert.match(heldMessage("ci", d), /wait for it to finish; if you know it is dead, `pulumi cancel --stack ci --yes` removes the lock/);
    });

    it("pending creates alone (no lock): only the refresh", () => {
        const d = diagnose([], exported, "h", () => false);
        assert.deepEqual(recoveryCommands("ci", d).map((c) => c[0]), ["refresh"]);
    });

    it("a clean stack needs nothing", () => {
        const d = diagnose([], { deployment: { resources: [] } }, "h", () => false);
        assert.equal(needsRecovery(d), false);
        assert.deepEqual(recoveryCommands("ci", d), []);
    });
});
