// The builder storage ledger: what a build records, which runs' images a release removes.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fromReferences, ledgersToRelease, readLedger, recordBuildImages, releaseRunImages, Buildah, RELEASE_ATTEMPTS, storageDriver } from "../../../components/images/storage";
import { tempDir, removeTempDirs } from "../../support/tmp";

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("builder storage ledger", () => {
    after(removeTempDirs);

    it("a build's FROM references: pinned build-arg values and literal pinned FROM lines", () => {
        const text = `ARG BASE\nFROM \${BASE} AS build\nFROM --platform=linux/amd64 docker.io/library/debian@${D("a")}\nFROM scratch\nFROM debian:trixie\n`;
        assert.deepEqual(fromReferences(text, { BASE: `127.0.0.1:5000/warmrun/rust-base@${D("b")}`, CARGO_ARGS: "--locked" }), [`127.0.0.1:5000/warmrun/rust-base@${D("b")}`, `docker.io/library/debian@${D("a")}`]);
    });

    it("records, per run, the image a build tags and the ones it builds FROM", () => {
        const env = { WARMRUN_BUILDAH_LEDGER: tempDir(), CONTAINERS_STORAGE_CONF: "/etc/x/storage.conf" };
        recordBuildImages({ name: "rust-deps", runId: "run-1", build: { containerfileText: "ARG BASE\nFROM ${BASE}\n", buildArgs: { BASE: `r/rust-base@${D("b")}` } } }, "localhost/warmrun-build/rust-deps:abc", { also: [`r/rust-deps@${D("c")}`] }, env);
        assert.deepEqual(readLedger(path.join(env.WARMRUN_BUILDAH_LEDGER, "run-1.jsonl")), [
            { pid: process.pid, artifact: "rust-deps", storageConf: "/etc/x/storage.conf", names: ["localhost/warmrun-build/rust-deps:abc", `r/rust-base@${D("b")}`, `r/rust-deps@${D("c")}`] },
        ]);
    });

    it("a build on another storage driver (STORAGE_DRIVER) is released on that driver", async () => {
        const env = { WARMRUN_BUILDAH_LEDGER: tempDir(), STORAGE_DRIVER: "overlay" };
        assert.equal(storageDriver(env), "overlay");
        assert.equal(storageDriver({}), "vfs");
        recordBuildImages({ name: "base", runId: "run-4", build: {} }, "localhost/warmrun-build/base:1", {}, env);
        assert.equal(readLedger(path.join(env.WARMRUN_BUILDAH_LEDGER, "run-4.jsonl"))[0].storageDriver, "overlay");
        const drivers: (string | undefined)[] = [];
        const buildah: Buildah = async (_args, e) => {
            drivers.push(e.STORAGE_DRIVER);
            return { code: 0, stderr: "" };
        };
        // The release runs in a later process without the variable: the ledger says which driver.
        await releaseRunImages("run-4", { env: { WARMRUN_BUILDAH_LEDGER: env.WARMRUN_BUILDAH_LEDGER }, buildah });
        assert.deepEqual(drivers, ["overlay"]);
    });

    it("a release handles its own run, runs whose writers are gone, and ledgers older than a week", () => {
        const now = Date.now();
        const entry = (pid: number) => ({ pid, artifact: "a", names: ["x"] });
        const files = [
            { name: "mine.jsonl", mtimeMs: now, entries: [entry(1)] },
            { name: "running.jsonl", mtimeMs: now, entries: [entry(2)] },
            { name: "crashed.jsonl", mtimeMs: now, entries: [entry(3)] },
            { name: "ancient.jsonl", mtimeMs: now - 8 * 86_400_000, entries: [entry(2)] },
        ];
        assert.deepEqual(ledgersToRelease("mine", files, now, (pid) => pid !== 3), ["mine.jsonl", "crashed.jsonl", "ancient.jsonl"]);
    });

    it("removes each name once, dependents first, in the storage the build used; keeps the ledger while an image is in use", async () => {
        const dir = tempDir();
        const env = { WARMRUN_BUILDAH_LEDGER: dir };
        fs.writeFileSync(
            path.join(dir, "run-2.jsonl"),
            [
                { pid: process.pid, artifact: "base", storageConf: "/s.conf", names: ["localhost/warmrun-build/base:1", `r/rootfs@${D("r")}`] },
                { pid: process.pid, artifact: "deps", storageConf: "/s.conf", names: ["localhost/warmrun-build/deps:2", `r/base@${D("b")}`] },
                { pid: process.pid, artifact: "tool", storageConf: "/s.conf", names: ["localhost/warmrun-build/tool:3", `r/base@${D("b")}`] },
            ]
                .map((e) => JSON.stringify(e))
                .join("\n") + "\n",
        );
        const calls: string[] = [];
        const buildah: Buildah = async (args, e) => {
            calls.push(`${e.CONTAINERS_STORAGE_CONF} ${args.join(" ")}`);
            if (args[1] === `r/rootfs@${D("r")}`) return { code: 125, stderr: "Error: 1 error occurred:\n\t* r/rootfs: image not known" };
            if (args[1] === "localhost/warmrun-build/base:1") return { code: 125, stderr: "image used by 1234: image is in use by a container" };
            return { code: 0, stderr: "" };
        };
        const r = await releaseRunImages("run-2", { env, buildah });
        assert.deepEqual(calls, [
            "/s.conf rmi localhost/warmrun-build/tool:3",
            `/s.conf rmi r/base@${D("b")}`,
            "/s.conf rmi localhost/warmrun-build/deps:2",
            "/s.conf rmi localhost/warmrun-build/base:1",
            `/s.conf rmi r/rootfs@${D("r")}`,
        ]);
        assert.deepEqual(r, { removed: ["localhost/warmrun-build/tool:3", `r/base@${D("b")}`, "localhost/warmrun-build/deps:2"], absent: [`r/rootfs@${D("r")}`], kept: ["localhost/warmrun-build/base:1"], abandoned: [] });
        assert.ok(fs.existsSync(path.join(dir, "run-2.jsonl")), "kept for a later release");
        // Only the name in use is asked again, until RELEASE_ATTEMPTS releases have found it so.
        calls.length = 0;
        const second = await releaseRunImages("run-2", { env, buildah });
        assert.deepEqual(calls, ["/s.conf rmi localhost/warmrun-build/base:1"]);
        assert.deepEqual(second, { removed: [], absent: [], kept: ["localhost/warmrun-build/base:1"], abandoned: [] });
        const third = await releaseRunImages("run-2", { env, buildah });
        assert.equal(RELEASE_ATTEMPTS, 3);
        assert.deepEqual(third, { removed: [], absent: [], kept: [], abandoned: ["localhost/warmrun-build/base:1"] });
        assert.ok(!fs.existsSync(path.join(dir, "run-2.jsonl")), "given up: the ledger is gone");
        calls.length = 0;
        await releaseRunImages("run-2", { env, buildah });
        assert.deepEqual(calls, [], "no later run asks again");
    });

    it("a killed warm start's own container is removed before the images it holds, once", async () => {
        const env = { WARMRUN_BUILDAH_LEDGER: tempDir() };
        recordBuildImages(
            { name: "rust-deps", runId: "run-3", build: {} },
            "localhost/warmrun-build/rust-deps:def",
            { also: [`r/rust-deps@${D("p")}`], containers: ["warmrun-warm-rust-deps-0a1b2c3d"] },
            env,
        );
        const calls: string[] = [];
        let containerGone = false;
        const buildah: Buildah = async (args) => {
            calls.push(args.join(" "));
            if (args[0] === "rm") {
                const had = !containerGone;
                containerGone = true;
                return had ? { code: 0, stderr: "" } : { code: 125, stderr: "Error: no container with name or ID" };
            }
            return containerGone ? { code: 0, stderr: "" } : { code: 125, stderr: "image is in use by a container" };
        };
        const r = await releaseRunImages("run-3", { env, buildah });
        assert.deepEqual(calls, ["rm warmrun-warm-rust-deps-0a1b2c3d", "rmi localhost/warmrun-build/rust-deps:def", `rmi r/rust-deps@${D("p")}`]);
        assert.deepEqual(r.containers, ["warmrun-warm-rust-deps-0a1b2c3d"]);
        assert.deepEqual(r.removed.sort(), ["localhost/warmrun-build/rust-deps:def", `r/rust-deps@${D("p")}`].sort());
        assert.deepEqual(fs.readdirSync(env.WARMRUN_BUILDAH_LEDGER), [], "released");
    });

    it("a run with no ledger starts no buildah", async () => {
        let called = false;
        const r = await releaseRunImages("warm", { env: { WARMRUN_BUILDAH_LEDGER: path.join(tempDir(), "none") }, buildah: async () => ((called = true), { code: 0, stderr: "" }) });
        assert.deepEqual(r, { removed: [], absent: [], kept: [], abandoned: [] });
        assert.equal(called, false);
    });
});
