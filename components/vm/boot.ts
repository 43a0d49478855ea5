// Booting a cached disk: a copy-on-write overlay over it (the cached disk stays pristine), QEMU with
// the seed ISO attached, the serial console streamed and read for the guest's progress, until
// cloud-init reports done and the guest powers off, or the timeout.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn, execFileSync } from "child_process";
import { runTool } from "../core/process";
import { WarmrunError } from "../core/errors";
import { Accel, chooseAccel, guestCpus, LineSplitter, lastLines, Network, nextPhase, Phase, qemuArgs } from "./qemu";

export interface BootOptions {
    /** The cached disk (qcow2); never written. */
    disk: string;
    /** Directory of the run: overlay.qcow2 and console.log. */
    outDir: string;
    seedIso?: string;
    kernel?: string;
    initrd?: string;
    kernelArgs?: string;
    timeoutSeconds: number;
    memoryMiB: number;
    /** Default: guestCpus(accel). */
    cpus?: number;
    network: Network;
    /** "kvm" or "tcg" to force one; else KVM when it works. */
    accel?: string;
    /** Where the verdict "KVM does not start guests on this host" is kept. */
    cacheDir: string;
    /** Seconds a guest may keep running after cloud-init reported done before QEMU is stopped. */
    poweroffGraceSeconds: number;
    /** Each console line as it arrives. */
    onLine?: (line: string) => void;
    /** Progress: seconds since start, accelerator, phase, last console line. */
    onProgress?: (seconds: number, accel: Accel, phase: Phase, last: string) => void;
    /** Notes (software emulation, a stopped guest). */
    onNote?: (note: string) => void;
}

export interface BootResult {
    accel: Accel;
    /** Seconds from QEMU's start to its exit. */
    seconds: number;
    /** Seconds until the console said cloud-init finished. */
    cloudInitSeconds?: number;
    phase: Phase;
    /** The guest powered off (or rebooted) by itself. */
    poweredOff: boolean;
    /** CPU seconds QEMU used (user + system, sampled each second from /proc): what the boot costs on an idle machine. */
    cpuSeconds?: number;
    overlay: string;
    consoleLog: string;
    notes: string[];
}

/** How long a KVM guest may stay silent before KVM is judged not to work here. */
const KVM_FIRST_OUTPUT_SECONDS = 20;

function kvmOpens(): boolean {
    try {
        fs.closeSync(fs.openSync("/dev/kvm", "r+"));
        return true;
    } catch {
        return false;
    }
}

/** The host's identity for the KVM verdict: a new kernel or QEMU may fix KVM, so it is asked again then. */
function hostId(): string {
    let qemu = "";
    try {
        qemu = execFileSync("qemu-system-x86_64", ["--version"], { encoding: "utf8" }).split("\n")[0];
    } catch {
        /* reported when QEMU is started */
    }
    return `${os.release()} ${qemu}`;
}

function verdictFile(cacheDir: string): string {
    return path.join(cacheDir, "vm", "kvm-broken.json");
}

function knownBroken(cacheDir: string): string | undefined {
    try {
        const v = JSON.parse(fs.readFileSync(verdictFile(cacheDir), "utf8"));
        return v.host === hostId() ? v.reason : undefined;
    } catch {
        return undefined;
    }
}

function recordBroken(cacheDir: string, reason: string): void {
    fs.mkdirSync(path.dirname(verdictFile(cacheDir)), { recursive: true });
    fs.writeFileSync(verdictFile(cacheDir), JSON.stringify({ host: hostId(), reason }) + "\n");
}

/** A fresh overlay over the cached disk: the guest's writes go there only. */
export async function makeOverlay(disk: string, overlay: string): Promise<void> {
    fs.rmSync(overlay, { force: true });
    await runTool("vm", "qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", path.resolve(disk), overlay], { stream: () => undefined });
}

interface Attempt {
    outcome: "exited" | "timeout" | "kvm-silent";
    /** Exit code, or the signal that ended QEMU. */
    code: number | string;
    seconds: number;
    cloudInitSeconds?: number;
    phase: Phase;
    lines: string[];
    stderr: string;
    stoppedAfterDone: boolean;
    cpuSeconds?: number;
}

/** utime + stime of a live process, in seconds (Linux /proc; undefined elsewhere or once it is gone). */
function cpuSecondsOf(pid: number | undefined): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
        return undefined;
    }
}

function runQemu(o: BootOptions, accel: Accel, overlay: string, log: fs.WriteStream): Promise<Attempt> {
    return new Promise((resolve, reject) => {
        const args = qemuArgs({ accel, memoryMiB: o.memoryMiB, cpus: guestCpus(accel, o.cpus), overlay, seedIso: o.seedIso, kernel: o.kernel, initrd: o.initrd, kernelArgs: o.kernelArgs, network: o.network });
        log.write(`# qemu-system-x86_64 ${args.join(" ")}\n`);
        const started = Date.now();
        const child = spawn("qemu-system-x86_64", args, { stdio: ["pipe", "pipe", "pipe"] });
        const split = new LineSplitter();
        const lines: string[] = [];
        let phase: Phase = "firmware";
        let stderr = "";
        let outcome: Attempt["outcome"] = "exited";
        let cloudInitSeconds: number | undefined;
        let stoppedAfterDone = false;
        const elapsed = () => (Date.now() - started) / 1000;
        const stop = (why: Attempt["outcome"]) => {
            outcome = why;
            child.kill("SIGTERM");
            setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 5000).unref();
        };
        let grace: NodeJS.Timeout | undefined;
        const take = (line: string) => {
            lines.push(line);
            if (lines.length > 2000) lines.splice(0, 1000);
            log.write(line + "\n");
            const before = phase;
            phase = nextPhase(phase, line);
            if (phase === "cloud-init done" && before !== phase) {
                cloudInitSeconds = elapsed();
                grace = setTimeout(() => {
                    stoppedAfterDone = true;
                    o.onNote?.(`the guest kept running ${o.poweroffGraceSeconds} s after cloud-init finished: QEMU stopped (add power_state: {mode: poweroff} to the seed to end the run sooner)`);
                    stop("exited");
                }, o.poweroffGraceSeconds * 1000);
            }
            o.onLine?.(line);
            o.onProgress?.(elapsed(), accel, phase, line);
        };
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (d: string) => split.push(d).forEach(take));
        child.stderr.on("data", (d) => (stderr += d));
        let cpuSeconds: number | undefined;
        const ticker = setInterval(() => {
            cpuSeconds = cpuSecondsOf(child.pid) ?? cpuSeconds;
            o.onProgress?.(elapsed(), accel, phase, lines[lines.length - 1] ?? "");
        }, 1000);
        const timer = setTimeout(() => stop("timeout"), o.timeoutSeconds * 1000);
        const kvmWatch = accel === "kvm" ? setTimeout(() => phase === "firmware" && stop("kvm-silent"), KVM_FIRST_OUTPUT_SECONDS * 1000) : undefined;
        child.on("error", (e: NodeJS.ErrnoException) => {
            clearInterval(ticker);
            clearTimeout(timer);
            reject(new WarmrunError(e.code === "ENOENT" ? "vm: qemu-system-x86_64 is not installed: run `npm run setup` (it installs Debian's qemu-system-x86)" : `vm: ${e.message}`));
        });
        child.on("close", (exit, signal) => {
            const code = exit ?? signal ?? "?";
            split.flush().forEach(take);
            for (const t of [timer, kvmWatch, grace]) if (t) clearTimeout(t);
            clearInterval(ticker);
            resolve({ outcome, code, seconds: elapsed(), cloudInitSeconds, phase, lines, stderr, stoppedAfterDone, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) });
        });
    });
}

/** Boots the disk; throws a WarmrunError naming the last console lines when the guest does not get to cloud-init's end. */
export async function bootDisk(o: BootOptions): Promise<BootResult> {
    for (const [what, file] of [["disk", o.disk], ["seed ISO", o.seedIso], ["kernel", o.kernel], ["initrd", o.initrd]] as const) {
        if (file && !fs.existsSync(file)) throw new WarmrunError(`vm: the ${what} ${file} does not exist`);
    }
    fs.mkdirSync(o.outDir, { recursive: true });
    const overlay = path.join(o.outDir, "overlay.qcow2");
    const consoleLog = path.join(o.outDir, "console.log");
    const notes: string[] = [];
    const note = (n: string) => {
        notes.push(n);
        o.onNote?.(n);
    };
    let { accel, note: why } = chooseAccel(kvmOpens(), knownBroken(o.cacheDir), o.accel ?? process.env.WARMRUN_VM_ACCEL);
    if (why) note(why);
    const log = fs.createWriteStream(consoleLog);
    try {
        await makeOverlay(o.disk, overlay);
        let attempt = await runQemu({ ...o, onNote: note }, accel, overlay, log);
        if (accel === "kvm" && attempt.phase === "firmware" && (attempt.outcome === "kvm-silent" || attempt.code !== 0) && o.accel !== "kvm") {
            const reason = attempt.outcome === "kvm-silent" ? `no kernel output in ${KVM_FIRST_OUTPUT_SECONDS} s` : `QEMU exited with ${attempt.code}: ${attempt.stderr.trim().split("\n").pop()}`;
            recordBroken(o.cacheDir, reason);
            note(`KVM did not start the guest (${reason}): booting again with software emulation (TCG), several times slower`);
            accel = "tcg";
            await makeOverlay(o.disk, overlay);
            attempt = await runQemu({ ...o, onNote: note }, accel, overlay, log);
        }
        const shown = lastLines(attempt.lines.filter((l) => !l.startsWith("# qemu")));
        const tail = () =>
            shown.length ? `the console's last lines (all of it in ${consoleLog}):\n${shown.map((l) => `  | ${l}`).join("\n")}` : `the console printed nothing (${consoleLog})`;
        if (attempt.outcome === "timeout") {
            throw new WarmrunError(`vm: the guest did not finish cloud-init within ${o.timeoutSeconds} s (${accel}; it got to: ${attempt.phase}); ${tail()}\nRaise --timeout, or see why the guest stopped there.`);
        }
        if (attempt.phase !== "cloud-init done" && attempt.phase !== "powering off") {
            const stderr = attempt.stderr.trim() ? `; QEMU said: ${attempt.stderr.trim().split("\n").slice(-3).join(" ")}` : "";
            throw new WarmrunError(`vm: the guest stopped before cloud-init finished (QEMU exit ${attempt.code}, ${accel}, last phase: ${attempt.phase}${stderr}); ${tail()}`);
        }
        return {
            accel,
            seconds: attempt.seconds,
            ...(attempt.cloudInitSeconds !== undefined ? { cloudInitSeconds: attempt.cloudInitSeconds } : {}),
            phase: attempt.phase,
            poweredOff: !attempt.stoppedAfterDone && attempt.code === 0,
            ...(attempt.cpuSeconds !== undefined ? { cpuSeconds: attempt.cpuSeconds } : {}),
            overlay,
            consoleLog,
            notes,
        };
    } finally {
        await new Promise((r) => log.end(r));
    }
}

/** The guest's files, read from a powered-off overlay: converted to a raw ext4 once, then debugfs per file. */
export class GuestFiles {
    private constructor(readonly raw: string, private readonly dir: string) {}

    static async open(overlay: string): Promise<GuestFiles> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-vm-read-"));
        const raw = path.join(dir, "disk.raw");
        await runTool("vm", "qemu-img", ["convert", "-O", "raw", overlay, raw], { stream: () => undefined });
        return new GuestFiles(raw, dir);
    }

    private debugfs(request: string): string {
        return execFileSync("debugfs", ["-R", request, this.raw], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    }

    /** The file's content, or undefined when the guest has no such file. */
    read(file: string): string | undefined {
        if (!this.stat(file)) return undefined;
        return this.debugfs(`cat ${file}`);
    }

    /** Mode (permission bits) and type of a path, or undefined when it does not exist. */
    stat(file: string): { mode: number; type: string } | undefined {
        let out: string;
        try {
            out = execFileSync("debugfs", ["-R", `stat ${file}`, this.raw], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch {
            return undefined;
        }
        const m = /Type:\s*(\S+)\s+Mode:\s*([0-7]+)/.exec(out);
        return m ? { type: m[1], mode: parseInt(m[2], 8) } : undefined;
    }

    close(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** cloud-init's result file (/var/lib/cloud/data/result.json): its errors, or undefined when the guest wrote none. */
export function cloudInitErrors(resultJson: string | undefined): string[] | undefined {
    if (resultJson === undefined) return undefined;
    const v1 = JSON.parse(resultJson).v1 ?? {};
    return (v1.errors ?? []).map(String);
}
