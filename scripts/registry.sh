#!/usr/bin/env bash
# The local OCI registry (Debian's docker-registry, distribution v2) on 127.0.0.1.
#   registry.sh start [PORT]   start it unless something already serves /v2/ there (default 5000)
#   registry.sh stop  [PORT]   stop the one this script started
#   registry.sh status [PORT]
#   registry.sh gc [PORT]      the registry's own blob garbage collection (after `npm run gc -- --yes`
#                              deleted manifests): stops the registry, collects, prints the bytes
#                              freed on disk, starts it again if it was running
# Its blobs live under $WARMRUN_CACHE/registry, so they survive between runs: that is the cache.
# Deletes are enabled, so retention (`npm run gc`) can delete manifests by digest.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-start}
port=${2:-${WARMRUN_REGISTRY_PORT:-5000}}
dir="$WARMRUN_CACHE/registry"
pidfile="$dir/registry-$port.pid"
config="$dir/config-$port.yml"

serving() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/" 2>/dev/null; }

need_registry() {
  command -v docker-registry >/dev/null 2>&1 || { log "docker-registry is not installed: install Debian's docker-registry package (apt-get install docker-registry; in a warmrun checkout \`npm run setup\` does it)"; exit 1; }
}

write_config() {
  mkdir -p "$dir/data"
  cat >"$config" <<YAML
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
}

start() {
  if serving; then log "a registry already serves 127.0.0.1:$port"; return 0; fi
  need_registry
  write_config
  REGISTRY_STORAGE_DELETE_ENABLED=true nohup docker-registry serve "$config" >"$dir/registry-$port.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 50); do serving && { log "registry on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; }; sleep 0.2; done
  log "the registry did not come up; see $dir/registry-$port.log"; exit 1
}

stop() {
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
    log "stopped"
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status)
    if serving; then echo "serving on 127.0.0.1:$port"; else echo "not serving on 127.0.0.1:$port"; exit 1; fi ;;
  gc)
    need_registry
    running=false
    if serving; then
      [ -f "$pidfile" ] || { log "a registry this script did not start serves 127.0.0.1:$port: stop it, then run gc again"; exit 1; }
      running=true
      stop
    fi
    [ -d "$dir/data" ] || { log "no registry data in $dir/data: nothing to collect"; exit 0; }
    [ -f "$config" ] || write_config
    before=$(du -sb "$dir/data" | cut -f1)
    # Marks every blob a manifest of any repository references, then deletes the rest.
    if ! docker-registry garbage-collect "$config" >"$dir/gc-$port.log" 2>&1; then
      log "garbage-collect failed; see $dir/gc-$port.log"
      if $running; then start; fi
      exit 1
    fi
    after=$(du -sb "$dir/data" | cut -f1)
    echo "freed $((before - after)) bytes on disk ($before -> $after bytes in $dir/data)"
    if $running; then start; fi ;;
  *) log "usage: registry.sh start|stop|status|gc [PORT]"; exit 2 ;;
esac
