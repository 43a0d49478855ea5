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
    /** The registry's config file (e.g. for `docker-registry garbage-collect` once stopped). */
    configFile: string;
    stop(): Promise<void>;
}

/** An htpasswd file with one bcrypt entry, written by Debian's htpasswd (apache2-utils). */
export function htpasswdFile(user: string, password: string): string {
    try {
        execFileSync("sh", ["-c", "command -v htpasswd"], { stdio: "ignore" });
    } catch {
        throw new Error("htpasswd is not installed: run `npm run setup` (it installs Debian's apache2-utils)");
    }
    const file = path.join(tempDir("warmrun-htpasswd-"), "htpasswd");
    execFileSync("htpasswd", ["-Bbc", file, user, password], { stdio: "ignore" });
    return file;
}

export interface RegistryOptions {
    /** An htpasswd file (bcrypt, `htpasswd -Bbc`): the registry then asks for basic credentials. */
    htpasswd?: string;
    /** `false` gives a registry that refuses DELETE (405), as some hosted ones do (default: enabled). */
    deleteEnabled?: boolean;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
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
            ...(opts.htpasswd ? ["auth:", "  htpasswd:", "    realm: warmrun-test", `    path: ${opts.htpasswd}`] : []),
            "http:",
            `  addr: 127.0.0.1:${port}`,
            "",
        ].join("\n"),
    );
    // Deletes enabled (also in the file): retention deletes manifests by digest.
    const env = { ...process.env, REGISTRY_STORAGE_DELETE_ENABLED: String(opts.deleteEnabled !== false) };
    const proc: ChildProcess = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    proc.stderr?.on("data", (d) => (stderr += d));
    const host = `127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
        try {
            const res = await fetch(`http://${host}/v2/`);
            if (res.ok || (opts.htpasswd && res.status === 401)) break;
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
        configFile: config,
        stop: () =>
            new Promise<void>((resolve) => {
                if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
                proc.once("exit", () => resolve());
                proc.kill("SIGTERM");
            }),
    };
}

/** Whether the dev registry (scripts/registry.sh, 127.0.0.1:<port>) is serving already. */
export function devRegistryServing(port = 5000): boolean {
    try {
        execFileSync("bash", [path.join(__dirname, "../../scripts/registry.sh"), "status", String(port)], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}
