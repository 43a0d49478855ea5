#!/usr/bin/env bash
# npm run bench: installs what is missing (setup.sh), starts the local registry, prints every
# figure of bench/ next to its baseline. Arguments go to bench/run.ts.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"

bash scripts/setup.sh
use_engine
bash scripts/registry.sh start 5000
npx ts-node --transpile-only bench/run.ts "$@"
