#!/usr/bin/env bash
# Installs what warmrun needs on a Debian/Ubuntu machine, skipping what is already there:
# system packages, the npm dependencies (npm ci, from package-lock.json), the compiled JavaScript
# (dist/, keyed by its sources), the Pulumi engine and the S3-compatible server of the team-backend tests.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"

packages=(docker-registry buildah debootstrap curl git qemu-utils e2fsprogs xorriso packer qemu-system-x86 openssh-client skopeo python3-venv busybox-static apache2-utils openssl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's package starts a registry service where systemd runs; warmrun starts its own.
fi

# Tools built or installed under $WARMRUN_CACHE, each skipped when its version is there. (A check
# reads the tool's whole answer first: under pipefail, `cmd | grep -q` fails when grep stops
# reading early, and the tool would be installed again on every run.)

# go_tool NAME MODULE VERSION PATTERN: builds MODULE@VERSION into $WARMRUN_CACHE/bin unless the
# answer of `NAME <version argument>` (VERSION_ARG) matches PATTERN.
go_tool() {
  local name=$1 module=$2 version=$3 pattern=$4
  if ! grep -q -- "$pattern" <<<"$("$WARMRUN_CACHE/bin/$name" $VERSION_ARG 2>/dev/null)"; then
    command -v go >/dev/null 2>&1 || { log "Go is needed to build $name: install Go >= 1.25 and re-run"; exit 1; }
    log "go install $module@$version"
    mkdir -p "$WARMRUN_CACHE/bin"
    GOBIN="$WARMRUN_CACHE/bin" GOFLAGS=-buildvcs=false go install "$module@$version"
  fi
}
# pip_tool NAME VERSION VENV: NAME==VERSION from PyPI in the virtualenv VENV, unless it is there.
pip_tool() {
  local name=$1 version=$2 venv=$3
  if ! grep -q "^Version: ${version}\$" <<<"$("$venv/bin/python" -m pip show "$name" 2>/dev/null)"; then
    log "pip install $name==$version into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$name==$version"
  fi
}

# ORAS, the OCI artifact client the SBOM tests read referrers with.
ORAS_VERSION=v1.3.6
VERSION_ARG=version go_tool oras oras.land/oras/cmd/oras "$ORAS_VERSION" "^Version: *${ORAS_VERSION#v}\$"
# spdx-tools (pyspdxtools), the SPDX validator the SBOM tests check documents with.
pip_tool spdx-tools 0.8.5 "$WARMRUN_CACHE/spdx-tools"
# The linters of the GitHub Action and the example workflow: actionlint and zizmor.
ACTIONLINT_VERSION=v1.7.12
VERSION_ARG=-version go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" "^${ACTIONLINT_VERSION}\$"
pip_tool zizmor 1.32.0 "$WARMRUN_CACHE/zizmor"

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

# dist/, the compiled JavaScript the program, the providers and the npm scripts run, rebuilt only
# when its sources' key changed (scripts/build-dist.js). When it cannot be built (a type error), the
# loader runs the sources through ts-node instead: a stale build never runs.
node scripts/build-dist.js || log "dist/ not rebuilt: the program and the scripts run the sources through ts-node"

use_engine
# The S3-compatible server of the team-backend tests (scripts/s3.sh), built once into $WARMRUN_CACHE/bin.
bash scripts/install-s3.sh >/dev/null
log "ready: $(pulumi version) at $(command -v pulumi)"
