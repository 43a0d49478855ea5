// After an interrupted `up` (the CI job killed): the stack's lock left by the dead run and the
// creates the engine never finished. Pure: scripts/recover.ts reads the backend and runs the commands.

/** A lock file of the local file backend (the engine writes pid, user, host and time). */
export interface StackLock {
    file: string;
    pid: number;
    username: string;
    hostname: string;
    timestamp: string;
}

export interface Diagnosis {
    /** Locks of runs on this machine whose process is gone: safe to remove. */
    stale: StackLock[];
    /** Locks of a live run, or of another machine: never removed here. */
    held: (StackLock & { why: string })[];
    /** Artifacts whose create the interrupted run began and never recorded. */
    pendingCreates: string[];
    /** Other pending operations (update, delete). */
    pendingOther: string[];
}

export function diagnose(locks: StackLock[], exported: any, thisHost: string, alive: (pid: number) => boolean): Diagnosis {
    const d: Diagnosis = { stale: [], held: [], pendingCreates: [], pendingOther: [] };
    for (const l of locks) {
        if (l.hostname !== thisHost) d.held.push({ ...l, why: `held by ${l.username}@${l.hostname} (pid ${l.pid}) since ${l.timestamp}, another machine` });
        else if (alive(l.pid)) d.held.push({ ...l, why: `held by pid ${l.pid} on this machine since ${l.timestamp}, which is still running` });
        else d.stale.push(l);
    }
    for (const op of exported?.deployment?.pending_operations ?? []) {
        const urn: string = op?.resource?.urn ?? "";
        const name = urn.split("::").pop() || urn;
        if (op?.type === "creating") d.pendingCreates.push(name);
        else d.pendingOther.push(`${op?.type ?? "?"} ${name}`);
    }
    return d;
}

export function needsRecovery(d: Diagnosis): boolean {
    return d.stale.length > 0 || d.pendingCreates.length > 0 || d.pendingOther.length > 0;
}

/** The commands that recover, in order (configArgs: e.g. ["--config-file", FILE]). */
export function recoveryCommands(stack: string, d: Diagnosis, configArgs: string[] = []): string[][] {
    const cmds: string[][] = [];
    if (d.stale.length) cmds.push(["cancel", "--stack", stack, "--yes"]);
    // A warmrun create is safe to forget: its tag is pushed last, so the next up adopts a finished
    // push under its key or builds again.
    if (d.pendingCreates.length || d.pendingOther.length) cmds.push(["refresh", "--stack", stack, "--clear-pending-creates", "--yes", "--skip-preview", ...configArgs]);
    return cmds;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** What the user reads: what happened, and the exact commands (or `npm run up -- --recover`). */
export function recoveryMessage(stack: string, d: Diagnosis, configArgs: string[] = []): string {
    const lines = [`the last \`pulumi up\` of stack ${stack} was interrupted:`];
    for (const l of d.stale) lines.push(`  - its lock ${l.file} (pid ${l.pid}, ${l.timestamp}) is stale: no such process runs on this machine`);
    if (d.pendingCreates.length) {
        lines.push(`  - ${d.pendingCreates.length} create${d.pendingCreates.length === 1 ? "" : "s"} never finished: ${d.pendingCreates.join(", ")} (a tag is pushed last, so the registry holds each whole or not at all; the next up adopts or builds it)`);
    }
    for (const p of d.pendingOther) lines.push(`  - pending operation: ${p}`);
    lines.push("recover with:");
    for (const c of recoveryCommands(stack, d, configArgs)) lines.push(`  pulumi ${c.map(quote).join(" ")}`);
    lines.push("then run `npm run up` again, or let it do all of this: `npm run up -- --recover`");
    return lines.join("\n");
}

/** Why an `up` cannot go on at all: a live or foreign lock (nothing here removes it). */
export function heldMessage(stack: string, d: Diagnosis): string {
    return [
        `stack ${stack} is locked by a run that may still be going on:`,
        ...d.held.map((l) => `  - ${l.file}: ${l.why}`),
        `wait for it to finish; if you know it is dead, \`pulumi cancel --stack ${stack} --yes\` removes the lock`,
    ].join("\n");
}
