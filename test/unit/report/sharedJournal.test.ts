// The shared journal's pure parts: the tag per stack, entry identity and the merge.
import { strict as assert } from "assert";
import { entryId, journalTag, mergeEntries, parseEntries, serialize } from "../../../components/report/sharedJournal";

const e = (time: string, artifact: string, extra: Record<string, unknown> = {}) => ({ time, artifact, action: "build", ...extra });

describe("shared journal (pure)", () => {
    it("one tag per stack, a valid tag whatever the name", () => {
        assert.equal(journalTag("ci"), "journal-ci");
        assert.equal(journalTag("org/proj:x"), "journal-org_proj_x");
        assert.ok(journalTag("s".repeat(300)).length <= 128);
    });

    it("an entry is the same whatever the order of its fields", () => {
        assert.equal(entryId({ time: "t", artifact: "a", action: "build" }), entryId({ action: "build", artifact: "a", time: "t" }));
        assert.notEqual(entryId(e("t", "a")), entryId(e("t", "a", { run: "r" })));
    });

    it("merges the local entries the remote lacks, once each, in time order", () => {
        const remote = [e("2026-11-01T08:00:00Z", "a"), e("2026-11-01T10:00:00Z", "b")];
        const local = [e("2026-11-01T09:00:00Z", "c"), e("2026-11-01T08:00:00Z", "a"), e("2026-11-01T09:00:00Z", "c")];
        const { merged, added } = mergeEntries(remote, local);
        assert.equal(added, 1);
        assert.deepEqual(merged.map((x) => x.artifact), ["a", "c", "b"]);
        assert.deepEqual(mergeEntries(merged, local).added, 0);
        assert.deepEqual(parseEntries(serialize(merged).toString(), "x"), merged);
        assert.throws(() => parseEntries('{"a":1}\nnot json\n', "reg/j:journal-ci"), /reg\/j:journal-ci: line 2 is not JSON/);
    });
});
