import { strict as assert } from "assert";
import { countDownloads } from "../../components/downloads";

describe("download counting", () => {
    it("counts apt packages with their sizes, not index files", () => {
        const log = [
            "Get:1 http://mirror.invalid/debian trixie InRelease [140 kB]",
            "Get:2 http://mirror.invalid/debian trixie/main amd64 Packages [9678 kB]",
            "Get:1 http://mirror.invalid/debian trixie/main amd64 libsframe1 amd64 2.44-3 [78.4 kB]",
            "Get:2 http://mirror.invalid/debian trixie/main amd64 binutils-common amd64 2.44-3 [2,509 kB]",
            "Fetched 2,587 kB in 1s (2,000 kB/s)",
        ].join("\n");
        const c = countDownloads(log);
        assert.equal(c.count, 2);
        assert.equal(c.bytes, 78_400 + 2_509_000);
        assert.deepEqual(Object.keys(c.byTool), ["apt"]);
    });

    it("counts debootstrap retrievals and cargo crates, through colours and carriage returns", () => {
        const log = "I: Retrieving InRelease \nI: Retrieving libc6 2.41-12\r\n\x1b[1m\x1b[32m  Downloaded\x1b[0m itoa v1.0.11\n  Downloaded 1 crate (10.1 KB) in 0.2s\n";
        const c = countDownloads(log);
        assert.deepEqual(c.byTool, { debootstrap: { count: 1, bytes: 0 }, cargo: { count: 1, bytes: 0 } });
    });
});
