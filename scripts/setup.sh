#!/usr/bin/env bash
# Installs what warmrun needs on a Debian/Ubuntu machine, skipping what is already there:
# system packages, the npm dependencies (npm ci, from package-lock.json), the Pulumi engine.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"

packages=(docker-registry buildah debootstrap curl git qemu-utils e2fsprogs xorriso packer qemu-system-x86 openssh-client skopeo)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's package starts a registry service where systemd runs; warmrun starts its own.
fi

# Rust (cargo, rustc, rustup) comes with the machine: the differential test of the CargoDepsImage key
# asks cargo itself. Debian's cargo is too old for it, so it is not installed from apt; say so early.
if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
  log "cargo or rustup not found: test/integration/cargo-units-vs-cargo.test.ts needs them; install Rust with rustup (https://rustup.rs)"
fi

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.warmrun-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

use_engine
log "ready: $(pulumi version) at $(command -v pulumi)"
