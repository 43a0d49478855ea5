// Blobs into files at the rate they arrive: the bytes are hashed once, as they stream, and written in
// large batches (one writev per few MiB of the chunks as they came, no copy); a file whose digest does
// not verify is deleted, never left behind.
import * as fs from "fs";
import { createHash, Hash } from "crypto";
import { Readable } from "stream";
import { WarmrunError } from "../core/errors";
import type { RegistryClient } from "./registry";

/** Bytes gathered before one write: large enough that the system calls cost little. */
export const WRITE_BATCH_BYTES = 8 << 20;
/** At most this many chunks per writev: measured, writev of many more segments (128) is several times slower. */
const WRITE_BATCH_CHUNKS = 16;

/**
 * A file written in batches: chunks are kept (not copied) until a batch is full, then written with one
 * writev while the next batch gathers (one write in flight, so reading and writing overlap).
 */
export class BatchedFile {
    private chunks: Buffer[] = [];
    private pending = 0;
    private inflight: Promise<void> = Promise.resolve();
    bytes = 0;

    private constructor(private readonly fd: number) {}

    static async create(file: string, mode = 0o644): Promise<BatchedFile> {
        const fd = await new Promise<number>((resolve, reject) => fs.open(file, "w", mode, (err, fd) => (err ? reject(err) : resolve(fd))));
        return new BatchedFile(fd);
    }

    /** Queues a chunk; waits only while an earlier batch is still being written. The chunk must not change afterwards. */
    async write(chunk: Buffer): Promise<void> {
        this.chunks.push(chunk);
        this.pending += chunk.length;
        this.bytes += chunk.length;
        if (this.pending >= WRITE_BATCH_BYTES || this.chunks.length >= WRITE_BATCH_CHUNKS) await this.flush();
    }

    /** Starts writing what is queued once the write in flight is done. */
    async flush(): Promise<void> {
        if (!this.chunks.length) return;
        const batch = this.chunks;
        this.chunks = [];
        this.pending = 0;
        await this.inflight;
        // fs.writev on the descriptor: measured several times faster than FileHandle.writev here.
        this.inflight = new Promise<void>((resolve, reject) => fs.writev(this.fd, batch, (err) => (err ? reject(err) : resolve())));
    }

    async close(): Promise<void> {
        try {
            await this.flush();
            await this.inflight;
        } finally {
            await new Promise<void>((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve())));
        }
    }
}

/** Streams `body` into `file`, hashing it on the way; returns the bytes and the sha256 (hex). */
export async function streamToFile(body: AsyncIterable<Buffer>, file: string, opts: { hash?: Hash; onChunk?: (bytes: number) => void } = {}): Promise<{ bytes: number; sha256: string }> {
    const hash = opts.hash ?? createHash("sha256");
    const out = await BatchedFile.create(file);
    try {
        for await (const chunk of body) {
            hash.update(chunk);
            await out.write(chunk);
            opts.onChunk?.(out.bytes);
        }
    } finally {
        await out.close();
    }
    return { bytes: out.bytes, sha256: hash.digest("hex") };
}

/**
 * Downloads the blob `digest` of `repository` into `file` (through `file.partial`), its digest checked
 * on the way; on a mismatch nothing is left at either path. Returns the bytes written.
 */
export async function downloadBlobToFile(client: RegistryClient, repository: string, digest: string, file: string): Promise<number> {
    const { body } = await client.openBlob(repository, digest);
    const partial = `${file}.partial`;
    try {
        const got = await streamToFile(body as Readable, partial);
        if (`sha256:${got.sha256}` !== digest) {
            throw new WarmrunError(`${repository}: blob ${digest} arrived as sha256:${got.sha256}; nothing was written`);
        }
        fs.renameSync(partial, file);
        return got.bytes;
    } finally {
        fs.rmSync(partial, { force: true });
    }
}
