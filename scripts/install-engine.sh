#!/usr/bin/env bash
# Installs the Pulumi engine warmrun runs on, pinned to the @pulumi/pulumi version in
# package-lock.json (or, in an installed package, the one it resolves), and prints the directory to put first on PATH.
#
#   1. A matching `pulumi` with its Node.js language host already on PATH: used as is.
#   2. Otherwise a per-version build under $WARMRUN_CACHE/engine/v<version>/bin, built once
#      from Go modules (the CLI from github.com/pulumi/pulumi/pkg/v3, the language host from
#      scripts/engine/nodejs-host) and reused on every later run.
#
# WARMRUN_ENGINE=build forces the Go build even when a matching pulumi is on PATH.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${WARMRUN_CACHE:-$HOME/.cache/warmrun}
log() { printf 'install-engine: %s\n' "$*" >&2; }

# A checkout pins the version in package-lock.json; an installed package (no lock file) runs on
# the @pulumi/pulumi it resolves, which its package.json pins exactly.
version=$(node -e '
  const fs = require("fs"), path = require("path");
  const root = process.argv[1], lockFile = path.join(root, "package-lock.json");
  if (!fs.existsSync(lockFile)) {
    console.log(require(require.resolve("@pulumi/pulumi/package.json", { paths: [root] })).version);
    process.exit(0);
  }
  const lock = require(lockFile);
  const v = lock.packages && lock.packages["node_modules/@pulumi/pulumi"];
  if (!v) { console.error("package-lock.json has no @pulumi/pulumi"); process.exit(1); }
  console.log(v.version);' "$root")
dest="$cache/engine/v$version/bin"

write_dynamic_provider_shim() {
  # The engine runs dynamic providers as the plugin `pulumi-resource-pulumi-nodejs`, in the
  # program's directory; the provider itself ships in @pulumi/pulumi.
  cat >"$1/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
EOF
  chmod 0755 "$1/pulumi-resource-pulumi-nodejs"
}

if [ "${WARMRUN_ENGINE:-}" != build ] && command -v pulumi >/dev/null 2>&1 \
  && command -v pulumi-language-nodejs >/dev/null 2>&1; then
  have=$(pulumi version 2>/dev/null || true)
  if [ "$have" = "v$version" ]; then
    log "using pulumi $have from PATH"
    dirname "$(command -v pulumi)"
    exit 0
  fi
  log "pulumi on PATH is ${have:-unknown}, the project pins v$version: building v$version"
fi

# The language host is the project's own source: its build is keyed by that source too, so a
# changed host is rebuilt (alone, the CLI is kept) and a stale one never runs.
host_source=$(cd "$root/scripts/engine" && cat go.mod go.sum nodejs-host/*.go | sha256sum | cut -c1-16)

build_host() { # build_host DIR: the language host into DIR, from a copy of the build module
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/warmrun-host.XXXXXX")
  cp -r "$root/scripts/engine/." "$tmp/"
  (cd "$tmp" && go build -trimpath -ldflags "$ldflags" -o "$1/pulumi-language-nodejs.partial" ./nodejs-host)
  rm -rf "$tmp"
  mv "$1/pulumi-language-nodejs.partial" "$1/pulumi-language-nodejs"
  echo "$host_source" >"$1/.host-source"
}
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"

if [ -f "$dest/.complete" ]; then
  if [ "$(cat "$dest/.host-source" 2>/dev/null)" != "$host_source" ]; then
    command -v go >/dev/null 2>&1 || { log "Go is needed to rebuild the language host: install Go >= 1.25 and re-run"; exit 1; }
    log "the language host's source changed: rebuilding it in $dest"
    build_host "$dest"
  fi
  log "pulumi v$version already built in $dest"
  echo "$dest"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "Go is needed to build the Pulumi engine offline: install Go >= 1.25, or install pulumi v$version (https://www.pulumi.com/docs/install/) and re-run"
  exit 1
}

# The build module pins the CLI and the SDK the language host links against. Its go.sum is
# committed, so the build needs no checksum database; a version bump regenerates both.
build=$(mktemp -d "${TMPDIR:-/tmp}/warmrun-engine.XXXXXX")
trap 'rm -rf "$build"' EXIT
cp -r "$root/scripts/engine/." "$build/"
cd "$build"
if ! grep -q "github.com/pulumi/pulumi/pkg/v3 v$version" go.mod; then
  log "regenerating the build module for v$version"
  export GONOSUMDB=github.com/pulumi/pulumi
  go get -tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version"
  go get "github.com/pulumi/pulumi/sdk/v3@v$version"
  go mod tidy
  log "commit the new scripts/engine/go.mod and go.sum from $build"
fi

start=$(date +%s)
mkdir -p "$dest.partial"
log "building pulumi v$version (the first build takes several minutes)"
go build -trimpath -ldflags "$ldflags" -o "$dest.partial/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
go build -trimpath -ldflags "$ldflags" -o "$dest.partial/pulumi-language-nodejs" ./nodejs-host
echo "$host_source" >"$dest.partial/.host-source"
write_dynamic_provider_shim "$dest.partial"
touch "$dest.partial/.complete"
rm -rf "$dest"
mv "$dest.partial" "$dest"
log "built in $(($(date +%s) - start)) s: $("$dest/pulumi" version)"
echo "$dest"
