#!/usr/bin/env bash
# The whole test suite: installs what is missing (setup.sh), type-checks, then runs unit,
# integration (real registry) and end-to-end (real Pulumi engine) tests in one mocha run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"

bash scripts/setup.sh
use_engine
log "type-checking"
npx tsc --noEmit -p tsconfig.json

out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
npx mocha --timeout 300000 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts' "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -oE '^ +[0-9]+ passing' "$out" | grep -oE '[0-9]+' | tail -n 1 || true)
failed=$(grep -oE '^ +[0-9]+ failing' "$out" | grep -oE '[0-9]+' | tail -n 1 || true)
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
