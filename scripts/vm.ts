// npm run vm -- boot: boots the stack's cached disk with its cloud-init seed, as a CI job would:
// the disk restored by its key (as `npm run qcow2 -- get` does, into a cache of pristine disks),
// a copy-on-write overlay over it, QEMU (KVM when it works, else software emulation) with the
// seed ISO attached and the image's kernel and initrd, the serial console streamed; it returns
// when cloud-init reports done and the guest powers off, or at the timeout.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { restoreDisk } from "../components/kinds/qcow2Image/cache";
import { parseReference, pinnedReference } from "../components/oci/reference";
import { DISK_SHA256_ANNOTATION, INITRD_PATH_ANNOTATION, KERNEL_ARGS_ANNOTATION, KERNEL_PATH_ANNOTATION } from "../components/oci/annotations";
import { WarmrunError } from "../components/core/errors";
import { bootDisk, cloudInitErrors, GuestFiles } from "../components/vm/boot";
import { Network, NETWORKS, progressLine } from "../components/vm/qemu";
import { clientFor, progressReporter, stackDisk, stackOutputs } from "./qcow2";

const USAGE = `usage: npm run vm -- boot [options]

  Restores the stack's disk by its key, boots a copy-on-write overlay of it under QEMU with the
  stack's cloud-init seed, streams the serial console, and returns when cloud-init reports done
  and the guest powers off (exit 0), or at the timeout (exit 1; the console's last lines).

options:
  --stack NAME         the stack (default $WARMRUN_STACK, else the selected one)
  --artifact NAME      the Qcow2Image (default: the stack's only one)
  --disk REF           a containerDisk reference (host/repo:tag or @sha256:...) instead of the stack's
  --seed NAME|FILE     the CloudInitIso artifact or an ISO file (default: the stack's only one; none: --seed none)
  --out DIR            overlay.qcow2 and console.log go here (default bin/output/vm)
  --timeout SECONDS    default 600
  --memory MIB         default 1024
  --cpus N             default 2 under KVM, 1 under TCG (several vCPUs race on the
                       kernel's self-patching under software emulation)
  --accel kvm|tcg      default: KVM when /dev/kvm starts a guest, else TCG (a note, not an error)
  --network MODE       restricted (default: DHCP, reaches nothing), user (NAT to what this host reaches), none
  --quiet              no console lines (the progress line and the result only)

environment: WARMRUN_STACK, WARMRUN_VM_ACCEL, WARMRUN_CACHE (pristine disks under vm/disks),
  WARMRUN_REGISTRY_USERNAME, WARMRUN_REGISTRY_PASSWORD, WARMRUN_REGISTRY_INSECURE`;

interface Options {
    command: string;
    stack?: string;
    artifact?: string;
    disk?: string;
    seed?: string;
    out?: string;
    timeout: number;
    memory: number;
    cpus?: number;
    accel?: string;
    network: Network;
    quiet: boolean;
}

export function parseArgs(argv: string[]): Options {
    const o: Options = { command: "", timeout: 600, memory: 1024, network: "restricted", quiet: false, stack: process.env.WARMRUN_STACK };
    const number = (flag: string, v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new WarmrunError(`${flag} ${v} is not a positive whole number\n${USAGE}`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) throw new WarmrunError(`${a} needs a value\n${USAGE}`);
            return argv[++i];
        };
        if (a === "--stack") o.stack = value();
        else if (a === "--artifact") o.artifact = value();
        else if (a === "--disk") o.disk = value();
        else if (a === "--seed") o.seed = value();
        else if (a === "--out") o.out = value();
        else if (a === "--timeout") o.timeout = number(a, value());
        else if (a === "--memory") o.memory = number(a, value());
        else if (a === "--cpus") o.cpus = number(a, value());
        else if (a === "--accel") {
            o.accel = value();
            if (o.accel !== "kvm" && o.accel !== "tcg") throw new WarmrunError(`--accel ${o.accel}: give kvm or tcg`);
        } else if (a === "--network") {
            const n = value();
            if (!(NETWORKS as readonly string[]).includes(n)) throw new WarmrunError(`--network ${n}: give one of ${NETWORKS.join(", ")}`);
            o.network = n as Network;
        } else if (a === "--quiet") o.quiet = true;
        else if (a === "-h" || a === "--help") o.command = "help";
        else if (a.startsWith("--")) throw new WarmrunError(`unknown option ${a}\n${USAGE}`);
        else if (!o.command) o.command = a;
        else throw new WarmrunError(`unexpected argument ${a}\n${USAGE}`);
    }
    return o;
}

function log(message: string): void {
    process.stderr.write(`[vm] ${message}\n`);
}

function cacheRoot(): string {
    return process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
}

function sha256File(file: string): string {
    const h = createHash("sha256");
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(1 << 20);
    try {
        for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

export interface CachedDisk {
    disk: string;
    kernel?: string;
    initrd?: string;
    kernelArgs?: string;
    digest: string;
    /** sha256 (hex) of the disk, as its manifest records it. */
    sha256: string;
    restored: boolean;
}

/**
 * The disk of `ref` in the cache of pristine disks ($WARMRUN_CACHE/vm/disks/<manifest digest>/),
 * restored from the registry unless it is there already; files are read-only.
 */
export async function cachedDisk(ref: string): Promise<CachedDisk> {
    const { host, repository, reference } = parseReference(ref);
    const client = clientFor(host);
    const digest = reference.startsWith("sha256:") ? reference : await client.resolveTag(repository, reference);
    if (!digest) throw new WarmrunError(`vm: ${ref} is not in the registry: bring the stack up first (npm run up)`);
    const dir = path.join(cacheRoot(), "vm", "disks", digest.replace(/^sha256:/, ""));
    const meta = path.join(dir, "disk.json");
    if (fs.existsSync(meta)) {
        const m = JSON.parse(fs.readFileSync(meta, "utf8")) as CachedDisk;
        if (fs.existsSync(m.disk) && sha256File(m.disk) === m.sha256) return { ...m, restored: false };
        log(`the cached disk in ${dir} is not the one restored: restoring it again`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "disk.qcow2");
    const r = await restoreDisk(client, repository, digest, file, {
        progress: progressReporter(),
        extras: (a) => ({
            ...(a[KERNEL_PATH_ANNOTATION] ? { [a[KERNEL_PATH_ANNOTATION]]: path.join(dir, "vmlinuz") } : {}),
            ...(a[INITRD_PATH_ANNOTATION] ? { [a[INITRD_PATH_ANNOTATION]]: path.join(dir, "initrd.img") } : {}),
        }),
    });
    if (!r.found) throw new WarmrunError(`vm: ${ref} is not in the registry: bring the stack up first (npm run up)`);
    const a = r.annotations ?? {};
    if (!a[DISK_SHA256_ANNOTATION]) log(`${ref} records no disk sha256: the cached copy is checked against the one restored now`);
    const result: CachedDisk = {
        disk: file,
        ...(a[KERNEL_PATH_ANNOTATION] ? { kernel: path.join(dir, "vmlinuz") } : {}),
        ...(a[INITRD_PATH_ANNOTATION] ? { initrd: path.join(dir, "initrd.img") } : {}),
        ...(a[KERNEL_ARGS_ANNOTATION] ? { kernelArgs: a[KERNEL_ARGS_ANNOTATION] } : {}),
        digest,
        sha256: r.sha256!,
        restored: true,
    };
    for (const f of [result.disk, result.kernel, result.initrd]) if (f) fs.chmodSync(f, 0o444);
    fs.writeFileSync(meta, JSON.stringify(result, null, 2) + "\n");
    log(`restored ${pinnedReference({ host, repository, digest })} to ${dir} (${r.bytes} bytes${result.kernel ? ", with its kernel and initrd" : ""})`);
    return result;
}

/** The seed ISO: an artifact of the stack (its `path` output), a file, or the stack's only CloudInitIso. */
function seedIso(o: Options, outputs: Record<string, any> | undefined, callerDir: string): string | undefined {
    if (o.seed === "none") return undefined;
    const isos = Object.entries(outputs ?? {}).filter(([, v]) => typeof v?.path === "string" && /\.iso$/.test(v.path));
    if (o.seed) {
        const named = isos.find(([n]) => n === o.seed);
        if (named) return named[1].path;
        const file = path.resolve(callerDir, o.seed);
        if (fs.existsSync(file)) return file;
        throw new WarmrunError(`vm: --seed ${o.seed} is neither a CloudInitIso of the stack (${isos.map(([n]) => n).join(", ") || "it has none"}) nor a file`);
    }
    if (isos.length > 1) throw new WarmrunError(`vm: the stack has ${isos.length} CloudInitIso artifacts (${isos.map(([n]) => n).join(", ")}): pick one with --seed`);
    return isos[0]?.[1].path;
}

export async function boot(o: Options): Promise<number> {
    const callerDir = process.env.INIT_CWD || process.cwd();
    const outDir = path.resolve(callerDir, o.out ?? "bin/output/vm");
    let ref = o.disk;
    let outputs: Record<string, any> | undefined;
    if (!ref || o.seed === undefined || (o.seed !== "none" && !fs.existsSync(path.resolve(callerDir, o.seed)))) outputs = stackOutputs(o.stack, log);
    if (!ref) {
        const disk = stackDisk({ stack: o.stack, artifact: o.artifact }, log);
        if (!disk) throw new WarmrunError("vm: no disk: bring the stack up (npm run up), or give --disk host/repo:tag");
        ref = disk.ref;
    }
    const seed = seedIso(o, outputs, callerDir);
    const disk = await cachedDisk(ref);
    if (!disk.kernel) log(`${ref} carries no kernel (kernelBoot): booting the disk with the firmware, so it needs a boot loader of its own`);
    if (!seed) log("no cloud-init seed: the guest boots without one (cloud-init, if it has one, finds no datasource)");
    const tty = process.stderr.isTTY;
    const width = () => (process.stderr.columns || 100) - 1;
    let status = "";
    const clearStatus = () => tty && status && process.stderr.write("\r\x1b[K");
    const drawStatus = () => tty && status && process.stderr.write(status);
    const started = Date.now();
    let result;
    try {
        result = await bootDisk({
            disk: disk.disk,
            outDir,
            seedIso: seed,
            kernel: disk.kernel,
            initrd: disk.initrd,
            kernelArgs: disk.kernelArgs,
            timeoutSeconds: o.timeout,
            memoryMiB: o.memory,
            cpus: o.cpus,
            network: o.network,
            accel: o.accel,
            cacheDir: cacheRoot(),
            poweroffGraceSeconds: 60,
            onLine: (line) => {
                if (o.quiet) return;
                clearStatus();
                process.stdout.write(line + "\n");
                drawStatus();
            },
            onProgress: (seconds, accel, phase, last) => {
                if (!tty) return;
                clearStatus();
                status = progressLine(seconds, accel, phase, last, width());
                drawStatus();
            },
            onNote: (note) => {
                clearStatus();
                log(`note: ${note}`);
                drawStatus();
            },
        });
    } finally {
        clearStatus();
    }
    log(
        `cloud-init finished ${result.cloudInitSeconds?.toFixed(1) ?? "?"} s after QEMU started (${result.accel}); ` +
            `the guest ${result.poweredOff ? "powered off" : "was stopped"} at ${result.seconds.toFixed(1)} s; boot took ${((Date.now() - started) / 1000).toFixed(1)} s in all` +
            (result.cpuSeconds !== undefined ? `; QEMU used ${result.cpuSeconds.toFixed(0)} CPU seconds (${os.loadavg()[0].toFixed(1)} load average now)` : ""),
    );
    if (sha256File(disk.disk) !== disk.sha256) throw new WarmrunError(`vm: the cached disk ${disk.disk} changed during the boot: the overlay should have taken every write`);
    // What cloud-init itself says, from the powered-off overlay.
    const guest = await GuestFiles.open(result.overlay);
    try {
        const errors = cloudInitErrors(guest.read("/var/lib/cloud/data/result.json"));
        if (errors === undefined) log("the guest holds no /var/lib/cloud/data/result.json: cloud-init did not finish its run");
        else if (errors.length) {
            log(`cloud-init reported ${errors.length} error(s):\n${errors.map((e) => `  - ${e}`).join("\n")}\n(see /var/log/cloud-init.log in ${result.overlay}, and ${result.consoleLog})`);
            return 1;
        } else log("cloud-init reported no errors");
    } finally {
        guest.close();
    }
    log(`overlay ${result.overlay} (the guest's writes), console ${result.consoleLog}`);
    return 0;
}

export async function main(argv: string[]): Promise<number> {
    const o = parseArgs(argv);
    switch (o.command) {
        case "boot":
            return boot(o);
        case "help":
            process.stdout.write(USAGE + "\n");
            return 0;
        default:
            process.stderr.write(`${o.command ? `unknown command ${o.command}` : "no command"}\n${USAGE}\n`);
            return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`[vm] ${e instanceof WarmrunError ? e.message : e.stack ?? e}\n`);
            process.exit(e instanceof WarmrunError && /did not finish cloud-init within|stopped before cloud-init finished/.test(e.message) ? 1 : 2);
        },
    );
}
