# Shared settings of the project's scripts; sourced, not run.
# shellcheck shell=bash
WARMRUN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export WARMRUN_CACHE=${WARMRUN_CACHE:-$HOME/.cache/warmrun}

# Local file state backend by default; any Pulumi backend through PULUMI_BACKEND_URL or `pulumi login`.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$WARMRUN_ROOT/.pulumi-state}
# Dev default passphrase for the local secrets provider; set your own for anything shared.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-warmrun-dev}
export PULUMI_SKIP_UPDATE_CHECK=true

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# Puts the pinned engine first on PATH (installing or building it once).
use_engine() {
  local dir
  dir=$(bash "$WARMRUN_ROOT/scripts/install-engine.sh")
  export PATH="$dir:$PATH"
  case "$dir" in
    "$WARMRUN_CACHE"/*) export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true ;;
  esac
}
