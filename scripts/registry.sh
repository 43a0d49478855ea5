#!/usr/bin/env bash
# The local OCI registry (Debian's docker-registry, distribution v2) on 127.0.0.1.
#   registry.sh start [PORT]   start it unless something already serves /v2/ there (default 5000)
#   registry.sh stop  [PORT]   stop the one this script started
#   registry.sh status [PORT]
# Its blobs live under $WARMRUN_CACHE/registry, so they survive between runs: that is the cache.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-start}
port=${2:-${WARMRUN_REGISTRY_PORT:-5000}}
dir="$WARMRUN_CACHE/registry"
pidfile="$dir/registry-$port.pid"

serving() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/" 2>/dev/null; }

case "$cmd" in
  start)
    if serving; then log "a registry already serves 127.0.0.1:$port"; exit 0; fi
    command -v docker-registry >/dev/null 2>&1 || { log "docker-registry is not installed: install Debian's docker-registry package (apt-get install docker-registry; in a warmrun checkout \`npm run setup\` does it)"; exit 1; }
    mkdir -p "$dir/data"
    cat >"$dir/config-$port.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
    nohup docker-registry serve "$dir/config-$port.yml" >"$dir/registry-$port.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do serving && { log "registry on 127.0.0.1:$port (pid $(cat "$pidfile"))"; exit 0; }; sleep 0.2; done
    log "the registry did not come up; see $dir/registry-$port.log"; exit 1 ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; log "stopped"; fi ;;
  status)
    if serving; then echo "serving on 127.0.0.1:$port"; else echo "not serving on 127.0.0.1:$port"; exit 1; fi ;;
  *) log "usage: registry.sh start|stop|status [PORT]"; exit 2 ;;
esac
