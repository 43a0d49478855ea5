// ORAS, a real OCI artifact client, as the oracle of referrers: built by scripts/setup.sh into
// $WARMRUN_CACHE/bin (or found on PATH).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";

export function orasPath(): string {
    const built = path.join(process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun"), "bin", "oras");
    if (fs.existsSync(built)) return built;
    try {
        return execFileSync("sh", ["-c", "command -v oras"], { encoding: "utf8" }).trim();
    } catch {
        throw new Error("oras is not installed: run `npm run setup` (it builds ORAS from its Go module into ~/.cache/warmrun/bin)");
    }
}

/** Runs oras with plain HTTP (the test registries are on loopback); returns stdout. */
export function oras(args: string[], cwd?: string): string {
    return execFileSync(orasPath(), [...args, "--plain-http"], { encoding: "utf8", cwd, stdio: ["ignore", "pipe", "pipe"] });
}
