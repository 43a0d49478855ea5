// Before `npm run up`: an earlier up of the stack that was interrupted (the CI job killed) leaves
// a stale lock (local file backend) and pending creates. This names them and the exact commands
// to recover, or with --recover runs them (components/report/recovery.ts decides).
//
//   ts-node scripts/recover.ts --stack NAME [--recover] [-- <the up's own arguments>]
//
// Exit codes: 0 nothing to recover, or recovered; 1 a recovery command failed; 2 bad arguments;
// 5 recovery needed (the message says how); 6 a live run, or another machine, holds the lock.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileURLToPath } from "url";
import { diagnose, heldMessage, needsRecovery, recoveryCommands, recoveryMessage, StackLock } from "../components/report/recovery";
import { parseOptions, pulumi, UsageError } from "./pulumiCli";

const USAGE = "usage: ts-node scripts/recover.ts --stack NAME [--recover] [-- <pulumi up arguments>]";

/** The lock files of a stack in a local file backend (`<dir>/.pulumi/locks/.../<stack>/<id>.json`). */
export function readLocks(backendUrl: string | undefined, stack: string): StackLock[] {
    if (!backendUrl?.startsWith("file://")) return [];
    const root = path.join(backendUrl.startsWith("file://~") ? os.homedir() + backendUrl.slice("file://~".length) : fileURLToPath(backendUrl), ".pulumi", "locks");
    const locks: StackLock[] = [];
    const walk = (dir: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".json") && path.basename(dir) === stack) {
                try {
                    const c = JSON.parse(fs.readFileSync(p, "utf8"));
                    locks.push({ file: p, pid: Number(c.pid), username: String(c.username ?? "?"), hostname: String(c.hostname ?? "?"), timestamp: String(c.timestamp ?? "?") });
                } catch {
                    locks.push({ file: p, pid: -1, username: "?", hostname: "?", timestamp: "?" });
                }
            }
        }
    };
    walk(root);
    return locks;
}

function alive(pid: number): boolean {
    if (!(pid > 0)) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch (e: any) {
        return e.code === "EPERM";
    }
}

/** The up's --config-file, which refresh needs too. */
function configArgs(upArgs: string[]): string[] {
    for (let i = 0; i < upArgs.length; i++) {
        if (upArgs[i] === "--config-file" && upArgs[i + 1]) return ["--config-file", path.resolve(process.env.INIT_CWD ?? process.cwd(), upArgs[i + 1])];
        if (upArgs[i].startsWith("--config-file=")) return ["--config-file", path.resolve(process.env.INIT_CWD ?? process.cwd(), upArgs[i].slice("--config-file=".length))];
    }
    return [];
}

async function main(argv: string[]): Promise<number> {
    const o = parseOptions(argv, ["--stack"], ["--recover"], USAGE);
    const stack = o.values.stack;
    if (!stack) throw new UsageError(`--stack is required\n${USAGE}`);
    const exported = await pulumi(["stack", "export", "--stack", stack, "--non-interactive"]);
    // A stack without state (just created) has nothing to recover.
    const state = exported.code === 0 ? JSON.parse(exported.stdout || "{}") : {};
    const d = diagnose(readLocks(process.env.PULUMI_BACKEND_URL, stack), state, os.hostname(), alive);
    if (d.held.length) {
        process.stderr.write(`warmrun: ${heldMessage(stack, d)}\n`);
        return 6;
    }
    if (!needsRecovery(d)) return 0;
    const extra = configArgs(o.rest);
    if (!o.flags.has("recover")) {
        process.stderr.write(`warmrun: ${recoveryMessage(stack, d, extra)}\n`);
        return 5;
    }
    process.stderr.write(`warmrun: recovering stack ${stack} from an interrupted up (${[d.stale.length ? "stale lock" : "", d.pendingCreates.length ? `pending creates: ${d.pendingCreates.join(", ")}` : ""].filter(Boolean).join("; ")})\n`);
    for (const cmd of recoveryCommands(stack, d, extra)) {
        process.stderr.write(`warmrun: pulumi ${cmd.join(" ")}\n`);
        const r = await pulumi([...cmd, "--non-interactive"]);
        if (r.code !== 0) {
            process.stderr.write(`warmrun: pulumi ${cmd[0]} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim()}\n`);
            return 1;
        }
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`recover: ${e.message}\n`);
            process.exitCode = e instanceof UsageError ? 2 : 1;
        },
    );
}
