// buildah's local storage over many runs: every image a build makes (its own, the upstream and
// base images it pulls to build FROM) is recorded in a small per-run ledger before the build
// starts, kept while the run goes on (a dependent built later in the same run FROMs its
// upstream's image without pulling it), and removed when the run ends. A run that never reached
// its end (killed, failed) is swept by a later one. So a CI machine's disk does not grow per build.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFile } from "child_process";

/** One build's entry: who wrote it, which storage, which image names it makes or pulls. */
export interface LedgerEntry {
    pid: number;
    artifact: string;
    /** CONTAINERS_STORAGE_CONF of the build, so the release asks the same storage. */
    storageConf?: string;
    /** The build's storage driver when it is not vfs (STORAGE_DRIVER), for the same reason. */
    storageDriver?: string;
    names: string[];
    /** Working containers the build names itself (a warm start's), removed first: a killed build leaves them, holding its images. */
    containers?: string[];
    /** Releases that found these names still in use (a container of a killed build holds them). */
    attempts?: number;
}

/** After this many releases that found a name in use, it is left to the user (Release.abandoned). */
export const RELEASE_ATTEMPTS = 3;

/** Ledgers of older runs whose writer is gone, or that are older than this, are swept. */
const STALE_MS = 7 * 86_400_000;

export function ledgerDir(env: NodeJS.ProcessEnv = process.env): string {
    const uid = typeof process.getuid === "function" ? process.getuid() : 0;
    return env.WARMRUN_BUILDAH_LEDGER || path.join(os.tmpdir(), `warmrun-buildah-runs-${uid}`);
}

function ledgerName(runId: string): string {
    return `${runId.replace(/[^A-Za-z0-9_.-]/g, "_")}.jsonl`;
}

const PINNED = /^[^\s@$]+@sha256:[0-9a-f]{64}$/;

/** The image references a build starts FROM: pinned build-arg values, and literal FROM lines. */
export function fromReferences(containerfileText: string, buildArgs: Record<string, string>): string[] {
    const refs = new Set<string>();
    for (const v of Object.values(buildArgs)) if (PINNED.test(v)) refs.add(v);
    for (const line of containerfileText.split("\n")) {
        const m = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/i.exec(line);
        if (m && !m[1].includes("$") && m[1].toLowerCase() !== "scratch" && PINNED.test(m[1])) refs.add(m[1]);
    }
    return [...refs];
}

/**
 * Records, before a build starts, the names of the images it makes (`image`, tagged by the build)
 * and pulls (the references it builds FROM, and `also`, e.g. the earlier image a warm start pulls),
 * and the working containers it names itself, for the release at the end of its run.
 */
export function recordBuildImages(
    build: { name: string; runId?: string; build: { containerfileText?: string; buildArgs?: Record<string, string> } },
    image: string,
    extra: { also?: string[]; containers?: string[] } = {},
    env: NodeJS.ProcessEnv = process.env,
): void {
    const names = [...new Set([image, ...fromReferences(build.build.containerfileText ?? "", build.build.buildArgs ?? {}), ...(extra.also ?? [])])];
    const entry: LedgerEntry = {
        pid: process.pid,
        artifact: build.name,
        ...(env.CONTAINERS_STORAGE_CONF ? { storageConf: env.CONTAINERS_STORAGE_CONF } : {}),
        ...(storageDriver(env) !== "vfs" ? { storageDriver: storageDriver(env) } : {}),
        names,
        ...(extra.containers?.length ? { containers: extra.containers } : {}),
    };
    try {
        fs.mkdirSync(ledgerDir(env), { recursive: true, mode: 0o700 });
        fs.appendFileSync(path.join(ledgerDir(env), ledgerName(build.runId ?? `pid-${process.pid}`)), JSON.stringify(entry) + "\n");
    } catch {
        // The ledger only saves disk: a build never fails over it.
    }
}

export function readLedger(file: string): LedgerEntry[] {
    try {
        return fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l));
    } catch {
        return [];
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e: any) {
        return e.code === "EPERM";
    }
}

/** Which ledgers a release at the end of `runId` handles: its own, and those of runs that are over. */
export function ledgersToRelease(runId: string, files: { name: string; mtimeMs: number; entries: LedgerEntry[] }[], now: number, isAlive: (pid: number) => boolean = alive): string[] {
    const own = ledgerName(runId);
    return files
        .filter((f) => f.name === own || now - f.mtimeMs > STALE_MS || (f.entries.length > 0 && f.entries.every((e) => !isAlive(e.pid))))
        .map((f) => f.name);
}

export interface Release {
    /** Image names removed from storage (or untagged, where the image has other names). */
    removed: string[];
    /** Working containers of builds that never reached their end, removed before their images. */
    containers?: string[];
    /** Names no longer there (removed by an earlier release, never pulled, a failed build). */
    absent: string[];
    /** Names buildah would not remove, e.g. an image a running container uses; left for a later release. */
    kept: string[];
    /** Names still in use after RELEASE_ATTEMPTS releases: dropped from the ledger, left to the user. */
    abandoned: string[];
}

export type Buildah = (args: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number; stderr: string }>;

/**
 * buildah's storage driver: STORAGE_DRIVER (buildah's own variable) when set, e.g. `overlay` where
 * the kernel has it; else vfs, which works on any file system and in any container, at the price
 * of a full copy of every layer.
 */
export function storageDriver(env: NodeJS.ProcessEnv = process.env): string {
    return env.STORAGE_DRIVER || "vfs";
}

const runBuildah: Buildah = (args, env) =>
    new Promise((resolve) => {
        execFile("buildah", ["--storage-driver", storageDriver(env), ...args], { env, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
            resolve({ code: err ? (typeof (err as any).code === "number" ? (err as any).code : 127) : 0, stderr: String(stderr) });
        });
    });

/**
 * At the end of a run: removes the images the run's builds made or pulled, and those of earlier
 * runs that never reached their end. A warm run (no ledger) starts no buildah at all.
 */
export async function releaseRunImages(runId: string, opts: { env?: NodeJS.ProcessEnv; buildah?: Buildah; now?: number } = {}): Promise<Release> {
    const env = opts.env ?? process.env;
    const dir = ledgerDir(env);
    const result: Release = { removed: [], absent: [], kept: [], abandoned: [] };
    let names: string[];
    try {
        names = fs.readdirSync(dir).filter((n) => n.endsWith(".jsonl"));
    } catch {
        return result;
    }
    const files = names.map((name) => {
        const file = path.join(dir, name);
        let mtimeMs = 0;
        try {
            mtimeMs = fs.statSync(file).mtimeMs;
        } catch {
            /* removed meanwhile */
        }
        return { name, mtimeMs, entries: readLedger(file) };
    });
    const buildah = opts.buildah ?? runBuildah;
    for (const name of ledgersToRelease(runId, files, opts.now ?? Date.now())) {
        const entries = files.find((f) => f.name === name)!.entries;
        // What is still in use stays in the ledger (alone, so what was removed is not asked again),
        // until RELEASE_ATTEMPTS releases have found it so: then every later run would spend a
        // buildah call on it for nothing.
        const left: LedgerEntry[] = [];
        // Dependents first (recorded later), so an upstream's image is no longer in use when its turn comes.
        const seen = new Set<string>();
        for (const e of [...entries].reverse()) {
            const storageEnv = { ...env, ...(e.storageConf ? { CONTAINERS_STORAGE_CONF: e.storageConf } : {}), STORAGE_DRIVER: e.storageDriver ?? "vfs" };
            // The build's own containers: gone already unless it was killed (its finally never ran).
            for (const c of e.containers ?? []) {
                if ((await buildah(["rm", c], storageEnv)).code === 0) (result.containers ??= []).push(c);
            }
            const inUse: string[] = [];
            for (const image of e.names) {
                const id = `${e.storageConf ?? ""} ${e.storageDriver ?? ""} ${image}`;
                if (seen.has(id)) continue;
                seen.add(id);
                const r = await buildah(["rmi", image], storageEnv);
                if (r.code === 0) result.removed.push(image);
                else if (/image not known|no such image|not found|unable to find/i.test(r.stderr)) result.absent.push(image);
                else inUse.push(image);
            }
            const attempts = (e.attempts ?? 0) + 1;
            if (attempts >= RELEASE_ATTEMPTS) result.abandoned.push(...inUse);
            else if (inUse.length) {
                result.kept.push(...inUse);
                left.unshift({ ...e, names: inUse, attempts, containers: undefined });
            }
        }
        const file = path.join(dir, name);
        if (left.length) fs.writeFileSync(file, left.map((e) => JSON.stringify(e) + "\n").join(""));
        else fs.rmSync(file, { force: true });
    }
    return result;
}
