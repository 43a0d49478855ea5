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
