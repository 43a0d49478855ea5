// Large batched writes: the file holds exactly the chunks in order, however they are sized, and the
// sha256 is the one node's crypto gives for the whole file.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import { Readable } from "stream";
import { BatchedFile, streamToFile, WRITE_BATCH_BYTES } from "../../../components/oci/blobFile";
import { removeTempDirs, tempDir } from "../../support/tmp";

describe("oci/blobFile: blobs into files in large writes", () => {
    after(removeTempDirs);

    it("BatchedFile writes every chunk in order across batch boundaries", async () => {
        const file = path.join(tempDir(), "out");
        const chunks = [1, 65536, 3, WRITE_BATCH_BYTES, 17, 0, 65536 * 20, 5].map((n) => randomBytes(n));
        const f = await BatchedFile.create(file);
        for (const c of chunks) await f.write(c);
        await f.close();
        assert.equal(f.bytes, chunks.reduce((n, c) => n + c.length, 0));
        assert.ok(fs.readFileSync(file).equals(Buffer.concat(chunks)));
    });

    it("streamToFile returns the bytes and the sha256 of what it wrote", async () => {
        const file = path.join(tempDir(), "out");
        const data = randomBytes(3 * WRITE_BATCH_BYTES + 12345);
        const pieces: Buffer[] = [];
        for (let off = 0; off < data.length; off += 65536) pieces.push(data.subarray(off, off + 65536));
        let seen = 0;
        const got = await streamToFile(Readable.from(pieces), file, { onChunk: (n) => (seen = n) });
        assert.equal(got.bytes, data.length);
        assert.equal(seen, data.length);
        assert.equal(got.sha256, createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
        assert.equal(got.sha256, createHash("sha256").update(data).digest("hex"));
    });
});
