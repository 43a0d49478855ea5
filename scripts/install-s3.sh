#!/usr/bin/env bash
# Installs the S3-compatible server the team-backend tests run Pulumi's S3 state backend against:
# Versity's S3 gateway (versitygw, POSIX backend), built once from Go modules into
# $WARMRUN_CACHE/bin and reused while its version matches. Prints the binary's path.
#
# The build module (scripts/s3/go.mod, go.sum committed) pins the version and every checksum,
# so the build needs the Go module proxy and nothing else.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${WARMRUN_CACHE:-$HOME/.cache/warmrun}
log() { printf 'install-s3: %s\n' "$*" >&2; }

module=github.com/versity/versitygw
version=$(awk -v m="$module" '$1 == m { print $2 }' "$root/scripts/s3/go.mod")
[ -n "$version" ] || { log "scripts/s3/go.mod does not require $module"; exit 1; }
dest="$cache/bin/versitygw"

if [ -x "$dest" ] && grep -qx "$module $version" <<<"$(go version -m "$dest" 2>/dev/null | awk '$1 == "mod" { print $2, $3 }')"; then
  echo "$dest"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "Go >= 1.25 is needed to build versitygw $version (the S3-compatible server of the team-backend tests)"
  exit 1
}

build=$(mktemp -d "${TMPDIR:-/tmp}/warmrun-s3.XXXXXX")
trap 'rm -rf "$build"' EXIT
cp "$root/scripts/s3/go.mod" "$root/scripts/s3/go.sum" "$build/"
cd "$build"
mkdir -p "$cache/bin"
start=$(date +%s)
log "building versitygw $version (once; about 3 minutes on 2 cores)"
go build -trimpath -ldflags "-s -w -X main.Version=$version" -o "$dest.partial" "$module/cmd/versitygw"
mv "$dest.partial" "$dest"
log "built in $(($(date +%s) - start)) s"
echo "$dest"
