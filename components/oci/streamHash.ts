// The sha256 of a large download, computed beside it: the receiving thread copies each chunk into a
// shared ring and goes on (to the tar reader, to the file), while a worker thread hashes the ring.
// Hashing is the largest cost of a checked download (about 0.6 s of CPU per GiB); on one thread it
// runs between receiving and writing, here it runs at the same time. Small streams hash inline: a
// worker costs tens of milliseconds to start.
import { createHash } from "crypto";
import { Worker } from "worker_threads";

export interface StreamHash {
    /** Adds a chunk; the returned promise (when there is one) resolves once the chunk is taken. The chunk may be reused after. */
    update(chunk: Uint8Array): void | Promise<void>;
    /** The sha256 of everything added, hex. */
    digest(): Promise<string>;
    /** Stops hashing, when the stream failed (no digest will be asked). */
    abort(): void;
}

/** From this expected size up, the hash runs on a worker thread. */
export const WORKER_HASH_MIN_BYTES = 32 << 20;
/** The ring the worker hashes from. */
const RING_BYTES = 16 << 20;

// ctl: [0] head (bytes written by the receiver), [1] tail (bytes hashed), [2] done, [3] a sequence the
// receiver bumps on every publish, so the worker never sleeps through one.
const HEAD = 0;
const TAIL = 1;
const DONE = 2;
const SEQ = 3;

// Node has had Atomics.waitAsync since 16; the TypeScript library the project targets does not name it.
const waitAsync = (Atomics as unknown as { waitAsync(a: BigInt64Array, i: number, v: bigint): { async: boolean; value: Promise<string> | string } }).waitAsync;

const WORKER_SOURCE = `
const { workerData, parentPort } = require("worker_threads");
const { createHash } = require("crypto");
const ring = new Uint8Array(workerData.ring);
const ctl = new BigInt64Array(workerData.ctl);
const size = BigInt(ring.length);
const hash = createHash("sha256");
let tail = 0n;
for (;;) {
    const seq = Atomics.load(ctl, ${SEQ});
    const head = Atomics.load(ctl, ${HEAD});
    if (head === tail) {
        if (Atomics.load(ctl, ${DONE}) === 1n) break;
        Atomics.wait(ctl, ${SEQ}, seq);
        continue;
    }
    let from = Number(tail % size);
    let left = Number(head - tail);
    while (left > 0) {
        const n = Math.min(left, ring.length - from);
        hash.update(ring.subarray(from, from + n));
        left -= n;
        from = 0;
    }
    tail = head;
    Atomics.store(ctl, ${TAIL}, tail);
    Atomics.notify(ctl, ${TAIL});
}
parentPort.postMessage(hash.digest("hex"));
`;

class InlineHash implements StreamHash {
    private readonly hash = createHash("sha256");
    update(chunk: Uint8Array): void {
        this.hash.update(chunk);
    }
    async digest(): Promise<string> {
        return this.hash.digest("hex");
    }
    abort(): void {}
}

class WorkerHash implements StreamHash {
    private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
    private readonly ctl = new BigInt64Array(new SharedArrayBuffer(4 * 8));
    private readonly worker: Worker;
    private readonly result: Promise<string>;
    private head = 0n;

    constructor() {
        this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: this.ring.buffer, ctl: this.ctl.buffer } });
        this.result = new Promise<string>((resolve, reject) => {
            this.worker.once("message", resolve);
            this.worker.once("error", reject);
            this.worker.once("exit", (code) => reject(new Error(`the hashing thread stopped (exit ${code}) before its digest`)));
        });
        // An aborted hash's rejection is nobody's to handle.
        this.result.catch(() => undefined);
    }

    update(chunk: Uint8Array): void | Promise<void> {
        const tail = Atomics.load(this.ctl, TAIL);
        if (RING_BYTES - Number(this.head - tail) >= chunk.length) {
            this.put(chunk);
            return;
        }
        return this.updateSlowly(chunk);
    }

    /** The ring is too full for the whole chunk: put what fits, wait for the worker to free more. */
    private async updateSlowly(chunk: Uint8Array): Promise<void> {
        let off = 0;
        while (off < chunk.length) {
            const tail = Atomics.load(this.ctl, TAIL);
            const free = RING_BYTES - Number(this.head - tail);
            if (free === 0) {
                const w = waitAsync(this.ctl, TAIL, tail);
                if (w.async) await w.value;
                continue;
            }
            const n = Math.min(free, chunk.length - off);
            this.put(chunk.subarray(off, off + n));
            off += n;
        }
    }

    /** Copies a chunk that fits into the ring (in two pieces where it wraps) and tells the worker. */
    private put(chunk: Uint8Array): void {
        const at = Number(this.head % BigInt(RING_BYTES));
        const first = Math.min(chunk.length, RING_BYTES - at);
        this.ring.set(first === chunk.length ? chunk : chunk.subarray(0, first), at);
        if (first < chunk.length) this.ring.set(chunk.subarray(first), 0);
        this.head += BigInt(chunk.length);
        Atomics.store(this.ctl, HEAD, this.head);
        this.publish();
    }

    private publish(): void {
        Atomics.add(this.ctl, SEQ, 1n);
        Atomics.notify(this.ctl, SEQ);
    }

    async digest(): Promise<string> {
        Atomics.store(this.ctl, DONE, 1n);
        this.publish();
        return this.result;
    }

    abort(): void {
        void this.worker.terminate();
    }
}

/** A sha256 for a stream of about `expectedBytes` (0 when unknown: hashed inline). */
export function streamHash(expectedBytes: number): StreamHash {
    return expectedBytes >= WORKER_HASH_MIN_BYTES ? new WorkerHash() : new InlineHash();
}
