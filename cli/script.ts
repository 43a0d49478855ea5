// Runs one of the package's shell scripts with its progress on the terminal, less the lines that
// only say nothing needed doing (an engine already installed, a registry already serving).
import { spawn } from "child_process";

/** Lines of the scripts' stderr that a command run every time need not repeat. */
export const ROUTINE_LINES = [/^install-engine: using pulumi v\S+ from PATH$/, /^install-engine: pulumi v\S+ already built in /, /^registry\.sh: a registry already serves /];

export function isRoutine(line: string): boolean {
    return ROUTINE_LINES.some((re) => re.test(line));
}

export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let partial = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => {
            const lines = (partial + d).split("\n");
            partial = lines.pop() ?? "";
            for (const line of lines) if (!isRoutine(line)) process.stderr.write(line + "\n");
        });
        child.on("error", reject);
        child.on("close", (code) => {
            if (partial && !isRoutine(partial)) process.stderr.write(partial + "\n");
            resolve({ code: code ?? 1, stdout });
        });
    });
}
