// Checks that the system tools a test drives are installed; fails naming the setup command.
import { execFileSync } from "child_process";

export function requireTools(tools: string[]): void {
    for (const t of tools) {
        try {
            execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
        } catch {
            throw new Error(`${t} is not installed: run \`npm run setup\` (it installs qemu-utils, e2fsprogs and xorriso)`);
        }
    }
}

/** `debugfs -R 'ls -p DIR'` of a raw ext4 image: the names in DIR. */
export function ext4List(raw: string, dir: string): string[] {
    const out = execFileSync("debugfs", ["-R", `ls -p ${dir}`, raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out
        .split("\n")
        .filter((l) => l.startsWith("/"))
        .map((l) => l.split("/")[5])
        .filter((n) => n && n !== "." && n !== "..");
}

export function ext4Cat(raw: string, file: string): string {
    return execFileSync("debugfs", ["-R", `cat ${file}`, raw], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}
