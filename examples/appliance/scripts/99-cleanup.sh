#!/bin/sh
# Makes the image small before it is compacted: package caches and lists, documentation, unused
# locales, logs and the journal, the build's SSH key; then frees the unused blocks (fstrim) so
# the compaction leaves them out, or, with ZERO_FILL=true, zeroes them for disks without discard.
set -eu
if [ "${CLEANUP:-true}" != true ]; then
  echo "cleanup skipped (CLEANUP=$CLEANUP)"
  exit 0
fi
used() { df --output=used -B1M / | tail -n 1 | tr -d ' '; }
before=$(used)
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/cache/man/*
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/lintian/*
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en' ! -name 'en_US' ! -name 'locale.alias' -exec rm -rf {} +
cat >/etc/dpkg/dpkg.cfg.d/01-lab-nodoc <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
CFG
journalctl --rotate >/dev/null 2>&1 || true
journalctl --vacuum-time=1s >/dev/null 2>&1 || true
rm -rf /var/log/journal/*
find /var/log -type f -exec truncate -s 0 {} +
rm -rf /tmp/* /var/tmp/*
rm -f /root/.ssh/authorized_keys /root/.bash_history
if [ "${ZERO_FILL:-false}" = true ]; then
  dd if=/dev/zero of=/zero.fill bs=1M 2>/dev/null || true
  rm -f /zero.fill
fi
sync
fstrim -v /
echo "cleanup freed $((before - $(used))) MiB"
