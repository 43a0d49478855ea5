// The build journal as end-to-end tests read it: what was appended since the last look, and what was built.
import { readJournal } from "../../components/core/journal";

/** A reader of the journal at `file()` that returns the entries appended since its previous call. */
export function journalTail(file: () => string): () => ReturnType<typeof readJournal> {
    let seen = 0;
    return () => {
        const all = readJournal(file());
        const fresh = all.slice(seen);
        seen = all.length;
        return fresh;
    };
}

/** The artifacts the entries built, sorted. */
export function builtNames(entries: { action: string; artifact: string }[]): string[] {
    return entries.filter((e) => e.action === "build").map((e) => e.artifact).sort();
}
