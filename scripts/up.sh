#!/usr/bin/env bash
# The main job: `pulumi up` of a stack (default dev) against the local registry and the local
# state backend. Extra arguments go to `pulumi up`; `--recover` (not passed on) first recovers
# from an interrupted earlier up (stale lock, pending creates: scripts/recover.ts).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WARMRUN_ROOT"
stack=${WARMRUN_STACK:-dev}

recover=()
args=()
for a in "$@"; do
  if [ "$a" = --recover ]; then recover=(--recover); else args+=("$a"); fi
done

bash scripts/setup.sh
use_engine
if [ "$stack" = dev ]; then bash scripts/registry.sh start 5000; fi
case "$PULUMI_BACKEND_URL" in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac
pulumi stack select --create "$stack" >/dev/null

# An interrupted up leaves a lock (file backend) or pending operations in the state: only then
# does the check below start Node.js. Other backends are always asked.
check=true
case "$PULUMI_BACKEND_URL" in
  file://*)
    dir=${PULUMI_BACKEND_URL#file://}
    check=false
    if [ -n "$(find "$dir/.pulumi/locks" -path "*/$stack/*.json" 2>/dev/null | head -n 1)" ] ||
       grep -qs '"pending_operations"' "$dir"/.pulumi/stacks/*/"$stack".json "$dir"/.pulumi/stacks/"$stack".json; then
      check=true
    fi ;;
esac
if $check; then
  node loader/run.js scripts/recover --stack "$stack" ${recover[@]+"${recover[@]}"} -- ${args[@]+"${args[@]}"}
fi
pulumi up --yes --stack "$stack" ${args[@]+"${args[@]}"}
