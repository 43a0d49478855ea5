#!/bin/sh
# The lab agent: a small service that records each boot.
set -eu
cat >/etc/systemd/system/lab-agent.service <<'UNIT'
[Unit]
Description=Lab agent
After=network-online.target

[Service]
Type=oneshot
ExecStart=/opt/lab/bin/lab-agent
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
UNIT
systemctl enable lab-agent.service
