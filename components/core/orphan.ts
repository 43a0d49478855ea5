// A dynamic provider must not outlive its engine. When `pulumi` dies without stopping its plugins
// (SIGKILL, a lost CI job), the provider process keeps running with its stdout and stderr piped to
// nobody. The first line it logs then fails with EPIPE; @pulumi/pulumi's dynamic-provider reports
// that error, as every uncaught error, with console.error, on the same broken stderr (Node's stdio
// streams survive their errors), which fails again: the process spins at full CPU for ever. So the
// provider leaves as soon as stdout or stderr breaks, or its engine is gone. Its lease, if it held
// one, is then no longer renewed and expires (core/lease.ts).
import * as fs from "fs";
import * as path from "path";

/** The script the engine's `pulumi-resource-pulumi-nodejs` runs (argv[1], with or without index.js). */
const DYNAMIC_PROVIDER = /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]dynamic-provider(?:[\\/]index\.js)?$/;
/** Interpreters of a plugin shim that runs node without exec (the engine is then the shim's parent). */
const SHELLS = new Set(["sh", "dash", "bash", "ash", "busybox"]);

/** The exit status of a provider that left because its engine is gone. */
export const ORPHANED_EXIT_CODE = 70;

/** Whether this process is Pulumi's Node.js dynamic provider (not a program, a test or a script). */
export function isDynamicProvider(argv: readonly string[] = process.argv): boolean {
    return argv.length > 1 && DYNAMIC_PROVIDER.test(argv[1]);
}

/** What the watch reads of other processes (Linux: /proc); undefined where it cannot tell. */
export interface ProcessTable {
    parentOf(pid: number): number | undefined;
    executableOf(pid: number): string | undefined;
}

export const PROC: ProcessTable = {
    parentOf(pid) {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        } catch {
            return undefined;
        }
    },
    executableOf(pid) {
        try {
            return fs.readlinkSync(`/proc/${pid}/exe`);
        } catch {
            return undefined;
        }
    },
};

/**
 * The processes whose parent must not change, each with that parent: this process, and its parent
 * too when that is a shell running the provider without exec (its parent is then the engine).
 */
export function watchedLinks(self: number, parent: number, table: ProcessTable): Array<{ pid: number; parent: number }> {
    const links = [{ pid: self, parent }];
    const exe = table.executableOf(parent);
    const grandparent = table.parentOf(parent);
    if (exe !== undefined && SHELLS.has(path.basename(exe)) && grandparent !== undefined && grandparent > 1) links.push({ pid: parent, parent: grandparent });
    return links;
}

export interface OrphanWatchOptions {
    /** How often the parents are looked at (default 1 s). */
    intervalMs?: number;
    table?: ProcessTable;
    exit?: (code: number) => void;
}

/**
 * Ends the process when its stdout or stderr breaks (EPIPE: the engine that read them is gone; any
 * error on them means the same) or when the engine is gone (this process, or the shell between it
 * and the engine, is re-parented). Call once, early.
 */
export function exitWhenOrphaned(opts: OrphanWatchOptions = {}): void {
    const exit = opts.exit ?? ((code: number) => process.exit(code));
    const table = opts.table ?? PROC;
    let timer: NodeJS.Timeout | undefined;
    let left = false;
    const leave = () => {
        if (left) return;
        left = true;
        clearInterval(timer);
        exit(ORPHANED_EXIT_CODE);
    };
    // A listener keeps the error from becoming an uncaught exception, whose report would write again.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", leave);
    const links = watchedLinks(process.pid, process.ppid, table);
    timer = setInterval(() => {
        if (process.ppid !== links[0].parent || links.slice(1).some((l) => table.parentOf(l.pid) !== l.parent)) leave();
    }, opts.intervalMs ?? 1000);
    timer.unref();
}
