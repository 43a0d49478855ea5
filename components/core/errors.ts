/** An error a user can act on: it names the artifact, the config key or file, and the fix. */
export class WarmrunError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "WarmrunError";
    }
}
