// Booting a cached disk, the pure parts: QEMU's command line, the console's phases, the accelerator choice.
import { strict as assert } from "assert";
import { bootKernelArgs, chooseAccel, guestCpus, cleanConsoleLine, lastLines, LineSplitter, nextPhase, Phase, phaseOf, progressLine, qemuArgs, QemuOptions } from "../../../components/vm/qemu";

const BASE: QemuOptions = { accel: "tcg", memoryMiB: 1024, cpus: 2, overlay: "/run/overlay.qcow2", network: "restricted" };

describe("vm: QEMU's command line", () => {
    it("the overlay as a virtio disk, the seed as a read-only CD-ROM, the console on stdout, no reboot", () => {
        const args = qemuArgs({ ...BASE, seedIso: "/s/seed.iso" });
        const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
        assert.deepEqual(after("-drive"), ["file=/run/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap", "file=/s/seed.iso,media=cdrom,readonly=on,format=raw"]);
        assert.deepEqual(after("-serial"), ["stdio"]);
        assert.ok(args.includes("-no-reboot"));
        assert.deepEqual(after("-accel"), ["tcg,thread=multi"]);
        assert.deepEqual(after("-nic"), ["user,model=virtio-net-pci,restrict=on"]);
        assert.ok(!args.includes("-kernel"));
    });

    it("KVM with the host's CPU; the network user (NAT) or none", () => {
        const kvm = qemuArgs({ ...BASE, accel: "kvm", network: "user" });
        assert.deepEqual(kvm.slice(kvm.indexOf("-accel"), kvm.indexOf("-accel") + 4), ["-accel", "kvm", "-cpu", "host"]);
        assert.equal(kvm[kvm.indexOf("-nic") + 1], "user,model=virtio-net-pci");
        const none = qemuArgs({ ...BASE, network: "none" });
        assert.equal(none[none.indexOf("-nic") + 1], "none");
    });

    it("direct kernel boot: the image's kernel, initrd and command line, with the serial console and panic=-1 added once", () => {
        const args = qemuArgs({ ...BASE, kernel: "/c/vmlinuz", initrd: "/c/initrd.img", kernelArgs: "root=/dev/vda rw console=ttyS0" });
        assert.equal(args[args.indexOf("-kernel") + 1], "/c/vmlinuz");
        assert.equal(args[args.indexOf("-initrd") + 1], "/c/initrd.img");
        assert.equal(args[args.indexOf("-append") + 1], "root=/dev/vda rw console=ttyS0 panic=-1 mitigations=off loglevel=4", "software emulation: no mitigations, a quieter kernel");
        assert.equal(bootKernelArgs("root=/dev/vda  panic=10", "kvm"), "root=/dev/vda panic=10 console=ttyS0");
        assert.equal(bootKernelArgs(undefined, "kvm"), "console=ttyS0 panic=-1");
        assert.equal(bootKernelArgs("loglevel=7 mitigations=auto", "tcg"), "loglevel=7 mitigations=auto console=ttyS0 panic=-1", "the image's own choice stands");
    });
});

describe("vm: the serial console", () => {
    // Lines of a real trixie guest's console (kernel, initramfs, systemd, cloud-init's four stages, power-off).
    const BOOT = [
        "Probing EDD (edd=off to disable)... ok",
        "[    0.000000] Linux version 6.12.117+deb13-cloud-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1",
        "Loading, please wait...",
        "[   24.583333] systemd[1]: systemd 257.13-1~deb13u1 running in system mode (+PAM +AUDIT)",
        "[   76.366578] cloud-init[354]: Cloud-init v. 25.1.4 running 'init-local' at Tue, 01 Dec 2026 19:02:45 +0000. Up 75.06 seconds.",
        "[   90.1] cloud-init[400]: Cloud-init v. 25.1.4 running 'init' at Tue, 01 Dec 2026 19:03:00 +0000. Up 89.2 seconds.",
        "[  100.1] cloud-init[450]: Cloud-init v. 25.1.4 running 'modules:config' at Tue, 01 Dec 2026 19:03:10 +0000. Up 99.8 seconds.",
        "[  110.1] cloud-init[480]: Cloud-init v. 25.1.4 running 'modules:final' at Tue, 01 Dec 2026 19:03:20 +0000. Up 109.9 seconds.",
        "[  120.1] cloud-init[480]: Cloud-init v. 25.1.4 finished at Tue, 01 Dec 2026 19:03:30 +0000. Datasource DataSourceNoCloud [seed=/dev/sr0].  Up 119.7 seconds",
        "[  125.2] reboot: Power down",
    ];

    it("names each phase in order, and never moves back", () => {
        const seen: Phase[] = [];
        let phase: Phase = "firmware";
        for (const line of BOOT) {
            phase = nextPhase(phase, line);
            if (seen[seen.length - 1] !== phase) seen.push(phase);
        }
        assert.deepEqual(seen, ["firmware", "kernel", "initramfs", "init", "cloud-init local", "cloud-init network", "cloud-init config", "cloud-init final", "cloud-init done", "powering off"]);
        assert.equal(nextPhase("cloud-init final", BOOT[1]), "cloud-init final");
        assert.equal(phaseOf("[  OK  ] Started ssh.service"), undefined);
    });

    it("lines without escape sequences or carriage returns, split across chunks", () => {
        assert.equal(cleanConsoleLine("\x1b[0;32m  OK  \x1b[0m] Started x.\r"), "  OK  ] Started x.");
        assert.equal(cleanConsoleLine("\x1bc\x1b[?7l\x1b[2JSeaBIOS"), "SeaBIOS");
        assert.equal(cleanConsoleLine("\x1b[!p\x1b]104\x07\x1b[!p\x1b]104\x07[  184.4] cloud-init[351]: x"), "[  184.4] cloud-init[351]: x", "systemd's console resets");
        const s = new LineSplitter();
        assert.deepEqual(s.push("first li"), []);
        assert.deepEqual(s.push("ne\r\nsecond\nthi"), ["first line", "second"]);
        assert.deepEqual(s.flush(), ["thi"]);
        assert.deepEqual(lastLines(["a", "", "b", "c"], 2), ["b", "c"]);
    });

    it("the progress line fits the terminal", () => {
        const line = progressLine(42.4, "tcg", "cloud-init config", "x".repeat(300), 80);
        assert.ok(line.startsWith("[vm]   42s  tcg  cloud-init config "), line);
        assert.equal(line.length, 80);
        assert.ok(line.endsWith("…"));
    });
});

describe("vm: KVM or software emulation", () => {
    it("KVM when /dev/kvm opens and has not failed here; else TCG with a note saying why; --accel wins", () => {
        assert.deepEqual(chooseAccel(true, undefined), { accel: "kvm" });
        const no = chooseAccel(false, undefined);
        assert.equal(no.accel, "tcg");
        assert.match(no.note!, /no usable \/dev\/kvm: software emulation \(TCG\)/);
        const broken = chooseAccel(true, "no kernel output in 20 s");
        assert.equal(broken.accel, "tcg");
        assert.match(broken.note!, /KVM did not start a guest on this host before \(no kernel output in 20 s\)/);
        assert.deepEqual(chooseAccel(false, undefined, "kvm"), { accel: "kvm" });
        assert.equal(chooseAccel(true, undefined, "tcg").accel, "tcg");
    });

    it("one vCPU under software emulation unless asked (several race on the kernel's self-patching), two under KVM", () => {
        assert.equal(guestCpus("tcg"), 1);
        assert.equal(guestCpus("kvm"), 2);
        assert.equal(guestCpus("tcg", 4), 4);
        assert.deepEqual(qemuArgs({ accel: "tcg", memoryMiB: 512, cpus: guestCpus("tcg"), overlay: "o.qcow2", network: "none" }).join(" ").match(/-smp \d+/)?.[0], "-smp 1");
    });
});
