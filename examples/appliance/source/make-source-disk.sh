#!/usr/bin/env bash
# Makes the appliance example's source disk: a debootstrap'd Debian tree (systemd, OpenSSH, a
# cloud kernel, DHCP through systemd-networkd) written into ext4 with `mke2fs -d` (no loop mount)
# and converted to qcow2, plus the kernel and initrd for direct kernel boot.
#
# The result is cached under $WARMRUN_CACHE/appliance-source/<inputs key>/ (the key covers this
# script, the suite, the package list and the mirror), so it is rebuilt only when those change.
# Prints the directory holding disk.qcow2, vmlinuz, initrd.img. Needs root (debootstrap).
#
#   make-source-disk.sh [--link DIR]   also points DIR (a symlink) at the cached directory
set -euo pipefail

suite=${SOURCE_SUITE:-bookworm}
mirror=${SOURCE_MIRROR:-}
size=${SOURCE_DISK_SIZE:-1536M}
packages=systemd-sysv,udev,dbus,openssh-server,linux-image-cloud-amd64,locales,man-db,less
cache=${WARMRUN_CACHE:-$HOME/.cache/warmrun}/appliance-source

link=""
if [ "${1:-}" = "--link" ]; then link=$2; fi

self=$(readlink -f "${BASH_SOURCE[0]}")
key=$( { sha256sum <"$self"; echo "$suite $mirror $size $packages"; } | sha256sum | cut -c1-24)
out=$cache/$key

if [ ! -f "$out/.complete" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "make-source-disk.sh: debootstrap needs root" >&2; exit 1; }
  for tool in debootstrap mke2fs qemu-img; do
    command -v "$tool" >/dev/null || { echo "make-source-disk.sh: $tool is not installed: run \`npm run setup\`" >&2; exit 1; }
  done
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.work-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tree=$work/tree
  echo "make-source-disk.sh: debootstrap $suite into $tree" >&2
  debootstrap --variant=minbase --arch=amd64 --include="$packages" "$suite" "$tree" ${mirror:+"$mirror"} >&2

  echo appliance >"$tree/etc/hostname"
  printf '/dev/vda / ext4 defaults,discard 0 1\n' >"$tree/etc/fstab"
  cat >"$tree/etc/systemd/network/10-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NET
  ln -sf /lib/systemd/system/systemd-networkd.service "$tree/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
  # The build's throwaway SSH public key arrives on the kernel command line
  # (warmrun.sshkey=<base64 of an ssh-ed25519 key>); nothing secret is ever in the disk.
  mkdir -p "$tree/usr/local/sbin"
  cat >"$tree/usr/local/sbin/authorize-boot-key" <<'SH'
#!/bin/sh
key=$(sed -n 's/.*warmrun\.sshkey=\([^ ]*\).*/\1/p' /proc/cmdline)
[ -n "$key" ] || exit 0
install -d -m 0700 /root/.ssh
echo "ssh-ed25519 $key build" >/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
SH
  chmod 0755 "$tree/usr/local/sbin/authorize-boot-key"
  cat >"$tree/etc/systemd/system/authorize-boot-key.service" <<'UNIT'
[Unit]
Description=Authorize the SSH key given on the kernel command line
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/authorize-boot-key

[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/authorize-boot-key.service "$tree/etc/systemd/system/multi-user.target.wants/authorize-boot-key.service"
  # Host keys of its own, made once here, so every boot of the build finds them.
  rm -f "$tree/etc/ssh/ssh_host_"*
  chroot "$tree" ssh-keygen -A >/dev/null

  cp -L "$tree"/boot/vmlinuz-* "$work/vmlinuz"
  cp -L "$tree"/boot/initrd.img-* "$work/initrd.img"
  mke2fs -q -t ext4 -L root -d "$tree" "$work/disk.raw" "$size" >&2  # stdout carries only the result
  qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2" >&2
  rm -rf "$tree" "$work/disk.raw"
  rm -rf "$out"
  mv "$work" "$out"
  trap - EXIT
  touch "$out/.complete"
fi

if [ -n "$link" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$out" "$link"
fi
echo "$out"
