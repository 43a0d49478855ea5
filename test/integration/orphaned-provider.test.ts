// The dynamic provider once its engine is gone: @pulumi/pulumi's real dynamic-provider process (its
// own uncaught-error handlers, its gRPC server), with this project's implementation loaded the way
// the engine's first create loads it, logging as a build does. Its stdout and stderr are pipes that
// the test closes, as a killed `pulumi` leaves them; or its parent exits, as a killed engine does.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { PROJECT_ROOT } from "../support/engine";
import { tempDir, removeTempDirs } from "../support/tmp";
import { ORPHANED_EXIT_CODE, PROC } from "../../components/core/orphan";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const PROVIDER = path.join(PROJECT_ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider");
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** CPU seconds a process has used (user + system), from /proc; undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (fields[0] === "Z") return undefined;
        return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
        return undefined;
    }
}

async function gone(pid: number, ms: number): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (cpuSeconds(pid) === undefined) return true;
    return cpuSeconds(pid) === undefined;
}

describe("a dynamic provider whose engine is gone (real @pulumi/pulumi dynamic-provider)", function () {
    this.timeout(60_000);
    let preload: string;
    const started: number[] = [];

    before(() => {
        assert.ok(fs.existsSync(PROVIDER), `${PROVIDER} is missing: run \`npm run setup\``);
        // Runs before the provider's own module; once that has installed its handlers, loads this
        // project's implementation (when asked) and logs a line every 20 ms, as a build streams its tool.
        preload = path.join(tempDir("warmrun-orphan-"), "preload.js");
        fs.writeFileSync(
            preload,
            [
                "setImmediate(() => {",
                "    if (process.env.LOAD_IMPL) {",
                `        require(${JSON.stringify(require.resolve("ts-node", { paths: [PROJECT_ROOT] }))}).register({ transpileOnly: true, project: ${JSON.stringify(path.join(PROJECT_ROOT, "tsconfig.pulumi.json"))} });`,
                `        require(${JSON.stringify(path.join(PROJECT_ROOT, "components", "core", "providerImpl"))});`,
                "    }",
                "    setInterval(() => console.error('building...'), 20);",
                "});",
                "",
            ].join("\n"),
        );
    });
    after(() => {
        for (const pid of started) if (cpuSeconds(pid) !== undefined) process.kill(pid, "SIGKILL");
        removeTempDirs();
    });

    /** The provider with its stdout and stderr piped here; resolves once it has announced its port. */
    async function startProvider(loadImpl: boolean): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
        const child = spawn(process.execPath, ["-r", preload, PROVIDER, "127.0.0.1:1"], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, ...(loadImpl ? { LOAD_IMPL: "1" } : {}) },
            stdio: ["ignore", "pipe", "pipe"],
        });
        started.push(child.pid!);
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        let err = "";
        child.stderr!.on("data", (d) => (err += d));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d) => {
                out += d;
                if (/^\d+\n/.test(out)) resolve(out.trim());
            });
            child.on("exit", (code) => reject(new Error(`the provider exited with ${code} before it announced its port:\n${err}`)));
        });
        assert.match(port, /^\d+$/);
        // Its log must be flowing before the pipes break.
        for (let i = 0; i < 100 && !err.includes("building..."); i++) await sleep(50);
        assert.ok(err.includes("building..."), `the provider logs:\n${err}`);
        return { child, exited };
    }

    it("without this project's implementation, broken pipes make it spin at full CPU (the bug)", async () => {
        const { child } = await startProvider(false);
        child.stdout!.destroy();
        child.stderr!.destroy();
        await sleep(300);
        const before = cpuSeconds(child.pid!)!;
        await sleep(1000);
        const after = cpuSeconds(child.pid!);
        assert.ok(after !== undefined, "it is still running");
        assert.ok(after - before > 0.25, `it burns CPU: ${(after - before).toFixed(2)} s in 1 s`);
        process.kill(child.pid!, "SIGKILL");
    });

    it("with it loaded, the provider exits as soon as its stdout and stderr break", async () => {
        const { child, exited } = await startProvider(true);
        const broke = Date.now();
        child.stdout!.destroy();
        child.stderr!.destroy();
        const code = await Promise.race([exited, sleep(5000).then(() => "still running")]);
        assert.equal(code, ORPHANED_EXIT_CODE, `exit status ${code}`);
        console.log(`      exited ${Date.now() - broke} ms after its pipes broke`);
    });

    it("with it loaded, the provider exits when its parent is gone, even with working output", async () => {
        const out = path.join(tempDir("warmrun-orphan-"), "provider.log");
        // sh starts the provider in the background, prints its pid and waits; killing sh re-parents it.
        const sh = spawn("sh", ["-c", `"$0" -r "$1" "$2" 127.0.0.1:1 >"$3" 2>&1 & echo $!; exec sleep 600`, process.execPath, preload, PROVIDER, out], {
            cwd: PROJECT_ROOT,
            env: { ...process.env, LOAD_IMPL: "1" },
            stdio: ["ignore", "pipe", "inherit"],
        });
        started.push(sh.pid!);
        const pid = await new Promise<number>((resolve) => sh.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
        started.push(pid);
        const log = () => (fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "");
        // The implementation is loaded (and the watch with it) once the provider logs.
        for (let i = 0; i < 300 && !log().includes("building..."); i++) await sleep(50);
        assert.match(log(), /^\d+\n(building\.\.\.\n)+/, `it runs:\n${log()}`);
        process.kill(sh.pid!, "SIGKILL");
        const killed = Date.now();
        assert.ok(await gone(pid, 10_000), "the provider left once its parent was gone");
        console.log(`      exited ${Date.now() - killed} ms after its parent died`);
        assert.doesNotMatch(log(), /Error/, "and ended without an error");
    });

    it("with it loaded, the provider exits when the engine is gone behind a shell shim that runs node without exec", async () => {
        const dir = tempDir("warmrun-orphan-");
        const out = path.join(dir, "provider.log");
        // Like the engine's plugin shim of an ordinary install: a shell script that waits for node.
        const shim = path.join(dir, "pulumi-resource-pulumi-nodejs");
        fs.writeFileSync(shim, `#!/bin/sh\n"${process.execPath}" -r "${preload}" "${PROVIDER}" 127.0.0.1:1 >"${out}" 2>&1\n`, { mode: 0o755 });
        // The "engine": a shell that starts the shim and waits; killing it leaves the shim re-parented.
        const engine = spawn("sh", ["-c", `"$0" & echo $!; wait`, shim], { cwd: PROJECT_ROOT, env: { ...process.env, LOAD_IMPL: "1" }, stdio: ["ignore", "pipe", "inherit"] });
        started.push(engine.pid!);
        const shimPid = await new Promise<number>((resolve) => engine.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
        started.push(shimPid);
        const log = () => (fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "");
        for (let i = 0; i < 300 && !log().includes("building..."); i++) await sleep(50);
        const provider = fs
            .readdirSync("/proc")
            .filter((e) => /^\d+$/.test(e))
            .map(Number)
            .find((p) => PROC.parentOf(p) === shimPid);
        assert.ok(provider, "the shim's node process");
        started.push(provider);
        assert.match(log(), /^\d+\n(building\.\.\.\n)+/, `it runs:\n${log()}`);
        process.kill(engine.pid!, "SIGKILL");
        const killed = Date.now();
        assert.ok(await gone(provider, 10_000), "the provider left once the engine above its shim was gone");
        console.log(`      exited ${Date.now() - killed} ms after the engine died`);
        assert.ok(await gone(shimPid, 5_000), "and the shim with it");
    });
});
