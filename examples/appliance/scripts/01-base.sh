#!/bin/sh
# Identity of the appliance: host name, time zone, release file, message of the day.
set -eu
echo "$LAB_NAME" >/etc/hostname
ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime
cat >/etc/lab-release <<REL
NAME=$LAB_NAME
BUILT_BY=packer
REL
echo "Welcome to $LAB_NAME" >/etc/motd
