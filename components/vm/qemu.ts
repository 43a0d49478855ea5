// Booting a cached disk (pure parts): QEMU's command line, what the serial console says about the
// guest's progress, and the progress line. boot.ts runs QEMU with them.

export type Accel = "kvm" | "tcg";
/** restricted: a NIC whose DHCP answers but that reaches nothing; user: QEMU's NAT to what the host reaches; none: no NIC. */
export type Network = "restricted" | "user" | "none";
export const NETWORKS: readonly Network[] = ["restricted", "user", "none"];

export interface QemuOptions {
    accel: Accel;
    memoryMiB: number;
    cpus: number;
    /** The copy-on-write overlay the guest writes to (its backing file is the cached disk). */
    overlay: string;
    /** The cloud-init seed (NoCloud ISO, label cidata), attached read-only as a CD-ROM. */
    seedIso?: string;
    /** Direct kernel boot: the image's kernel, initrd and command line. */
    kernel?: string;
    initrd?: string;
    kernelArgs?: string;
    network: Network;
}

/**
 * Kernel arguments always added: the serial console, and a panic that ends the run instead of
 * hanging it. Under software emulation also no CPU vulnerability mitigations (the CPU is emulated:
 * page-table isolation and its TLB flushes on every system call only cost time) and only warnings
 * and worse from the kernel on the console (each character is an emulated port write).
 */
export function bootKernelArgs(imageArgs: string | undefined, accel: Accel = "kvm"): string {
    const args = (imageArgs ?? "").split(/\s+/).filter((a) => a);
    const add = (name: string, value: string) => args.some((a) => a === name || a.startsWith(`${name}=`)) || args.push(`${name}=${value}`);
    add("console", "ttyS0");
    add("panic", "-1");
    if (accel === "tcg") {
        add("mitigations", "off");
        add("loglevel", "4");
    }
    return args.join(" ");
}

/**
 * The guest's CPUs: what was asked, else 2 under KVM and 1 under software emulation. Multi-threaded
 * TCG with several vCPUs lets one vCPU run code another is patching (the kernel patches its own text
 * with int3 at boot), which now and then panics the guest; one vCPU cannot race with itself.
 */
export function guestCpus(accel: Accel, asked?: number): number {
    return asked ?? (accel === "tcg" ? 1 : 2);
}

/** QEMU's arguments: no display, the serial console on stdout, no reboot (a guest that powers off or reboots ends the run). */
export function qemuArgs(o: QemuOptions): string[] {
    const args = [
        "-machine",
        "q35",
        ...(o.accel === "tcg" ? ["-accel", "tcg,thread=multi"] : ["-accel", "kvm", "-cpu", "host"]),
        "-m",
        String(o.memoryMiB),
        "-smp",
        String(o.cpus),
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-drive",
        `file=${o.overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap`,
    ];
    if (o.seedIso) args.push("-drive", `file=${o.seedIso},media=cdrom,readonly=on,format=raw`);
    if (o.network === "none") args.push("-nic", "none");
    else args.push("-nic", `user,model=virtio-net-pci${o.network === "restricted" ? ",restrict=on" : ""}`);
    if (o.kernel) {
        args.push("-kernel", o.kernel);
        if (o.initrd) args.push("-initrd", o.initrd);
        args.push("-append", bootKernelArgs(o.kernelArgs, o.accel));
    }
    return args;
}

/** How far the guest got, in order. */
export const PHASES = ["firmware", "kernel", "initramfs", "init", "cloud-init local", "cloud-init network", "cloud-init config", "cloud-init final", "cloud-init done", "powering off"] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_PATTERNS: [RegExp, Phase][] = [
    [/Linux version \d/, "kernel"],
    [/Run \/init as init process|Loading, please wait/, "initramfs"],
    [/systemd\[1\]: systemd \d|Welcome to .*Linux|run-init|Begin: Running \/scripts\/init-bottom/, "init"],
    [/Cloud-init v\. \S+ running 'init-local'/, "cloud-init local"],
    [/Cloud-init v\. \S+ running 'init'/, "cloud-init network"],
    [/Cloud-init v\. \S+ running 'modules:config'/, "cloud-init config"],
    [/Cloud-init v\. \S+ running 'modules:final'/, "cloud-init final"],
    [/Cloud-init v\. \S+ finished at/, "cloud-init done"],
    [/reboot: Power down|systemd-shutdown\[1\]|Reached target .*Power-Off|System Power Off/, "powering off"],
];

/** The phase a console line shows, if any (a later phase never moves back: see nextPhase). */
export function phaseOf(line: string): Phase | undefined {
    for (const [re, phase] of PHASE_PATTERNS) if (re.test(line)) return phase;
    return undefined;
}

export function nextPhase(current: Phase, line: string): Phase {
    const seen = phaseOf(line);
    return seen && PHASES.indexOf(seen) > PHASES.indexOf(current) ? seen : current;
}

/** Serial output as text lines: escape sequences and carriage returns removed. */
export function cleanConsoleLine(raw: string): string {
    return raw
        .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
        .replace(/\x1b\[[0-9;?!>=]*[ -\/]*[@-~]/g, "")
        .replace(/\x1b[()][A-Za-z0-9]/g, "")
        .replace(/\x1bc/g, "")
        .replace(/[\r\x00-\x08\x0b-\x1f\x7f]/g, "")
        .trimEnd();
}

/** Splits a stream of serial bytes into complete lines, keeping the unfinished tail. */
export class LineSplitter {
    private tail = "";
    push(chunk: string): string[] {
        const parts = (this.tail + chunk).split("\n");
        this.tail = parts.pop() ?? "";
        return parts.map(cleanConsoleLine);
    }
    flush(): string[] {
        const rest = this.tail ? [cleanConsoleLine(this.tail)] : [];
        this.tail = "";
        return rest;
    }
}

/** The progress line on a terminal: `[vm]  42s  tcg  cloud-init config  | <last console line>`. */
export function progressLine(seconds: number, accel: Accel, phase: Phase, last: string, width = 100): string {
    const head = `[vm] ${String(Math.round(seconds)).padStart(4)}s  ${accel}  ${phase.padEnd(18)}`;
    const room = Math.max(0, width - head.length - 3);
    const tail = last.length > room ? last.slice(0, Math.max(0, room - 1)) + "…" : last;
    return room > 0 && tail ? `${head} | ${tail}` : head;
}

/**
 * KVM when /dev/kvm can be opened and KVM has not failed on this host before; `forced` (from
 * --accel or WARMRUN_VM_ACCEL) wins. Returns the accelerator and, for software emulation, why.
 */
export function chooseAccel(kvmOpens: boolean, knownBroken: string | undefined, forced?: string): { accel: Accel; note?: string } {
    if (forced === "kvm" || forced === "tcg") return { accel: forced, ...(forced === "tcg" ? { note: "software emulation (TCG), as asked" } : {}) };
    if (!kvmOpens) return { accel: "tcg", note: "no usable /dev/kvm: software emulation (TCG), several times slower" };
    if (knownBroken) return { accel: "tcg", note: `KVM did not start a guest on this host before (${knownBroken}): software emulation (TCG)` };
    return { accel: "kvm" };
}

/** The last `n` non-empty console lines, for a guest that never got where it should. */
export function lastLines(lines: string[], n = 20): string[] {
    return lines.filter((l) => l.trim()).slice(-n);
}
