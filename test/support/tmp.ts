import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A fresh temporary directory, removed after the current test file. */
const made: string[] = [];
export function tempDir(prefix = "warmrun-test-"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
}

export function removeTempDirs(): void {
    for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Writes files (path -> content) under root, creating directories. */
export function writeTree(root: string, files: Record<string, string | { content: string; mode: number }>): void {
    for (const [rel, spec] of Object.entries(files)) {
        const abs = path.join(root, rel);
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        if (typeof spec === "string") fs.writeFileSync(abs, spec);
        else {
            fs.writeFileSync(abs, spec.content);
            fs.chmodSync(abs, spec.mode);
        }
    }
}
