/** An error a user can act on: it names the artifact, the config key or file, and the fix. */
export class WarmrunError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "WarmrunError";
    }
}

/** Several problems, reported together, one line each; a single one without a heading is its own message. */
export class ProblemList extends WarmrunError {
    constructor(readonly problems: string[], heading?: string) {
        super(
            problems.length === 1 && heading === undefined
                ? problems[0]
                : `${heading ?? "the stack"} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` + problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ProblemList";
    }
}

/** `warmrun:artifacts.<name>`: the config key of an artifact, which its problems start with. */
export function artifactKey(name: string): string {
    return `warmrun:artifacts.${name}`;
}

const SYSTEM_ERRORS: Record<string, (p: string, syscall: string) => string> = {
    EACCES: (p, syscall) =>
        `cannot ${syscall === "scandir" || syscall === "opendir" ? "list the directory" : "read"} ${p} (permission denied): make it readable by the ` +
        "user running pulumi (e.g. `chmod a+rX` it), or leave it out of the artifact's files with an ignore rule",
    EPERM: (p) => `cannot read ${p} (operation not permitted): make it readable by the user running pulumi, or leave it out with an ignore rule`,
    EISDIR: (p) => `${p} is a directory where a file is expected: give the path of a file`,
    ENOTDIR: (p) => `${p} is not a directory (a part of the path is a file): fix the path`,
    ENOENT: (p) => `${p} does not exist (it vanished while being read?): fix the path, or run again once nothing else writes it`,
    ELOOP: (p) => `${p} is a loop of symbolic links: fix or remove the links`,
    EMFILE: (p) => `too many open files while reading ${p}: raise the limit (ulimit -n)`,
};

/** A system error of a file (errno code and path) as a sentence with its fix; undefined for any other error. */
export function systemErrorMessage(e: unknown): string | undefined {
    const err = e as NodeJS.ErrnoException;
    if (!err || typeof err !== "object" || typeof err.code !== "string" || typeof err.path !== "string") return undefined;
    const describe = SYSTEM_ERRORS[err.code];
    return describe ? describe(err.path, err.syscall ?? "") : `${err.path}: ${err.message.replace(/^\w+: /, "")}`;
}

/** The message of any error: ours as it is, a file's system error as a sentence with its fix, else its own. */
export function userMessage(e: unknown): string {
    return e instanceof WarmrunError ? e.message : systemErrorMessage(e) ?? (e instanceof Error ? e.message : String(e));
}

/**
 * The user's message for an error met while handling one artifact, starting with the artifact's
 * key: a message that starts with the artifact's bare name (the provider's builders write
 * `<name>: ...`) gets the key instead, one that names no artifact gets the key in front.
 */
export function artifactMessage(name: string, e: unknown): string {
    const message = userMessage(e);
    if (message.startsWith(artifactKey(name))) return message;
    if (message.startsWith(`${name}: `)) return `${artifactKey(name)}: ${message.slice(name.length + 2)}`;
    return `${artifactKey(name)}: ${message}`;
}
