#!/usr/bin/env bash
# A local S3-compatible server (Versity's versitygw, POSIX backend) on 127.0.0.1 with one bucket,
# for Pulumi's S3 state backend: what a team's shared backend looks like, on one machine.
#   s3.sh start [PORT]   start it (a free port unless given) and create the bucket; prints the backend URL
#   s3.sh stop           stop the one this script started
#   s3.sh status         exit 0 when it answers
#   s3.sh url            the backend URL of the running one
# Data and pid/port files live in $WARMRUN_S3_DIR (default $WARMRUN_CACHE/s3). Bucket and keys:
# $WARMRUN_S3_BUCKET (default warmrun-state), $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (dev
# defaults below); Pulumi reads the same two variables.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-start}
dir=${WARMRUN_S3_DIR:-$WARMRUN_CACHE/s3}
bucket=${WARMRUN_S3_BUCKET:-warmrun-state}
access=${AWS_ACCESS_KEY_ID:-warmrun-dev}
secret=${AWS_SECRET_ACCESS_KEY:-warmrun-dev-secret}
pidfile="$dir/server.pid"
portfile="$dir/server.port"

answering() { # any HTTP answer (an unsigned request gets 403) means it is up
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && answering "$(cat "$portfile")"; }
url() { echo "s3://$bucket?endpoint=http://127.0.0.1:$(cat "$portfile")&s3ForcePathStyle=true&region=us-east-1"; }
signed() { # curl with an AWS signature v4 request (the server insists on the payload hash header)
  curl -s --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@"
}

case "$cmd" in
  start)
    if running; then url; exit 0; fi
    bin=$(bash "$WARMRUN_ROOT/scripts/install-s3.sh")
    mkdir -p "$dir/data"
    port=${2:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
    echo "$port" >"$portfile"
    ROOT_ACCESS_KEY_ID="$access" ROOT_SECRET_ACCESS_KEY="$secret" \
      nohup "$bin" --port "127.0.0.1:$port" --quiet posix "$dir/data" >"$dir/server.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do answering "$port" && break; sleep 0.1; done
    answering "$port" || { log "versitygw did not come up on 127.0.0.1:$port; see $dir/server.log"; exit 1; }
    code=$(signed -o "$dir/bucket.xml" -w '%{http_code}' -X PUT "http://127.0.0.1:$port/$bucket")
    case "$code" in
      200|409) ;; # 409: it exists already (data kept from an earlier start)
      *) log "creating bucket $bucket failed ($code): $(cat "$dir/bucket.xml")"; exit 1 ;;
    esac
    log "S3 on 127.0.0.1:$port (pid $(cat "$pidfile")), bucket $bucket"
    url ;;
  stop)
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; log "stopped"; fi ;;
  status)
    if running; then echo "serving on 127.0.0.1:$(cat "$portfile")"; else echo "not running"; exit 1; fi ;;
  url)
    running || { log "not running: \`bash scripts/s3.sh start\`"; exit 1; }
    url ;;
  *) log "usage: s3.sh start [PORT]|stop|status|url"; exit 2 ;;
esac
