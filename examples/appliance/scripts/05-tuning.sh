#!/bin/sh
# Kernel and journal settings of the lab.
set -eu
cat >/etc/sysctl.d/90-lab.conf <<'CONF'
vm.swappiness = 10
net.ipv4.ip_forward = 1
CONF
install -d /etc/systemd/journald.conf.d
printf '[Journal]\nSystemMaxUse=64M\n' >/etc/systemd/journald.conf.d/lab.conf
