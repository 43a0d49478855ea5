// SPDX validation by a validator warmrun did not write: the SPDX project's own spdx-tools
// (`pyspdxtools -i`), which scripts/setup.sh installs into a virtualenv under $WARMRUN_CACHE.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";

export function pyspdxtoolsPath(): string {
    const bin = path.join(process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun"), "spdx-tools", "bin", "pyspdxtools");
    if (!fs.existsSync(bin)) throw new Error("pyspdxtools (spdx-tools) is not installed: run `npm run setup` (it installs spdx-tools into ~/.cache/warmrun/spdx-tools)");
    return bin;
}

/** pyspdxtools' complaints about `doc` as an SPDX 2.3 JSON document, one line each; empty when it is valid. */
export function validateSpdx(doc: unknown): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-spdx-"));
    try {
        const file = path.join(dir, "sbom.spdx.json");
        fs.writeFileSync(file, JSON.stringify(doc));
        const r = spawnSync(pyspdxtoolsPath(), ["--version", "SPDX-2.3", "-i", file], { encoding: "utf8" });
        if (r.error) throw r.error;
        if (r.status === 0) return [];
        const lines = `${r.stdout}\n${r.stderr}`.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("ERROR:root:"));
        return lines.length ? lines : [`pyspdxtools exited with ${r.status}`];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
