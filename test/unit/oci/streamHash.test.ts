import * as assert from "assert";
import { createHash, randomBytes } from "crypto";
import { streamHash, WORKER_HASH_MIN_BYTES } from "../../../components/oci/streamHash";

async function digestOf(chunks: Buffer[], expectedBytes: number): Promise<string> {
    const h = streamHash(expectedBytes);
    for (const c of chunks) {
        const taken = h.update(c);
        if (taken) await taken;
    }
    return h.digest();
}

const sha256 = (chunks: Buffer[]) => createHash("sha256").update(Buffer.concat(chunks)).digest("hex");

describe("streamHash", () => {
    it("hashes inline and on the worker thread to the same sha256 as crypto, across the ring's wrap", async () => {
        // 40 MiB in uneven pieces: the ring (16 MiB) wraps, and one piece is larger than the ring.
        const chunks = [randomBytes(1), randomBytes(65_537), randomBytes(20 << 20), randomBytes(3 << 20), randomBytes((17 << 20) - 65_538), randomBytes(12_345)];
        const want = sha256(chunks);
        assert.strictEqual(await digestOf(chunks, 0), want);
        assert.strictEqual(await digestOf(chunks, WORKER_HASH_MIN_BYTES), want);
    });

    it("a chunk changed after it was given does not change the digest (the ring holds a copy)", async () => {
        const chunk = randomBytes(1 << 20);
        const want = sha256([chunk, chunk]);
        const h = streamHash(WORKER_HASH_MIN_BYTES);
        await h.update(chunk);
        await h.update(Buffer.from(chunk));
        chunk.fill(0);
        assert.strictEqual(await h.digest(), want);
    });

    it("the empty stream, and an aborted one", async () => {
        assert.strictEqual(await digestOf([], WORKER_HASH_MIN_BYTES), createHash("sha256").digest("hex"));
        const h = streamHash(WORKER_HASH_MIN_BYTES);
        await h.update(randomBytes(1000));
        h.abort();
    });
});
