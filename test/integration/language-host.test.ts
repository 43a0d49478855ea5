// The project's own Node.js language host (scripts/engine/nodejs-host), as the engine starts it: once
// its engine no longer answers, it stops by itself, so a killed `pulumi` leaves no host behind.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { spawn } from "child_process";
import { engineDir } from "../support/engine";

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
}

describe("the language host once its engine is gone", function () {
    this.timeout(60_000);

    it("announces its port, then exits within seconds when the engine's address stops answering", async () => {
        const { dir, ownBuild } = engineDir();
        assert.ok(ownBuild, `pulumi comes from PATH (${dir}), with its own language host: run \`WARMRUN_ENGINE=build npm run setup\` to test the project's`);
        const host = path.join(dir, "pulumi-language-nodejs");
        assert.ok(fs.existsSync(host), `${host} is missing: run \`npm run setup\``);
        const child = spawn(host, [`127.0.0.1:${await closedPort()}`], { stdio: ["ignore", "pipe", "pipe"] });
        const started = Date.now();
        try {
            let out = "";
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            await new Promise<void>((resolve, reject) => {
                child.stdout!.on("data", (d) => {
                    out += d;
                    if (/^\d+\n/.test(out)) resolve();
                });
                child.on("exit", (code) => reject(new Error(`the host exited with ${code} before it announced its port`)));
            });
            const code = await Promise.race([exited, new Promise<"running">((r) => setTimeout(() => r("running"), 20_000))]);
            assert.notEqual(code, "running", "the host still runs 20 s after its engine's address stopped answering");
            assert.ok(Date.now() - started < 20_000);
        } finally {
            if (child.exitCode === null) child.kill("SIGKILL");
        }
    });
});
