#!/bin/sh
# The lab operator account (no password: SSH keys only, installed at first boot by the lab).
set -eu
id lab >/dev/null 2>&1 || useradd --create-home --shell /bin/bash lab
install -d -m 0700 -o lab -g lab /home/lab/.ssh
