// A real OCI registry (Debian's docker-registry) on a free 127.0.0.1 port, for one test file.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { spawn, ChildProcess, execFileSync } from "child_process";
import { tempDir } from "./tmp";

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
        srv.on("error", reject);
    });
}

export interface TestRegistry {
    host: string;
    port: number;
    dataDir: string;
    stop(): Promise<void>;
}

/** `deleteEnabled: false` gives a registry that refuses DELETE (405), as some hosted ones do. */
export async function startRegistry(opts: { deleteEnabled?: boolean } = {}): Promise<TestRegistry> {
    try {
        execFileSync("sh", ["-c", "command -v docker-registry"], { stdio: "ignore" });
    } catch {
        throw new Error("docker-registry is not installed: run `npm run setup` (it installs Debian's docker-registry)");
    }
    const port = await freePort();
    const dir = tempDir("warmrun-registry-");
    const dataDir = path.join(dir, "data");
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(
        config,
        [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            `    rootdirectory: ${dataDir}`,
            "  delete:",
            `    enabled: ${opts.deleteEnabled !== false}`,
            "http:",
            `  addr: 127.0.0.1:${port}`,
            "",
        ].join("\n"),
    );
    const proc: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (d) => (stderr += d));
    const host = `127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
        try {
            const res = await fetch(`http://${host}/v2/`);
            if (res.ok) break;
        } catch {
            /* not up yet */
        }
        if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
        if (i === 99) throw new Error(`docker-registry did not answer on ${host}: ${stderr}`);
    }
    return {
        host,
        port,
        dataDir,
        stop: () =>
            new Promise<void>((resolve) => {
                if (proc.exitCode !== null) return resolve();
                proc.once("exit", () => resolve());
                proc.kill("SIGTERM");
            }),
    };
}
