#!/usr/bin/env bash
# The main job: `pulumi up` of a stack (default dev) against the local registry and the local
# state backend. Extra arguments go to `pulumi up`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"
stack=${WARMRUN_STACK:-dev}

bash scripts/setup.sh
use_engine
if [ "$stack" = dev ]; then bash scripts/registry.sh start 5000; fi
case "$PULUMI_BACKEND_URL" in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac
pulumi stack select --create "$stack" >/dev/null
pulumi up --yes --stack "$stack" "$@"
