#!/usr/bin/env bash
# Static file benchmark (not a test): wrk against yoom and Debian's nginx
# serving the same directory. Each server is pinned to CPU 0, wrk to CPU 1.
# Workloads: a small file over keep-alive, and a 1 MB file. Rounds alternate
# between the servers; the table shows medians and the yoom/nginx ratio.
#
#   bench/static/run.sh                 # builds build-bench/yoom (Release) if needed
#   YOOM_BIN=build/yoom ROUNDS=5 DURATION=5 CONNS=50 bench/static/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-50}"
YOOM_BIN="${YOOM_BIN:-}"
if [[ -z "$YOOM_BIN" ]]; then
  # Always brought up to date: a stale binary once measured old code here.
  YOOM_BIN="$ROOT/build-bench/yoom"
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build-bench" --target yoom -j2 >/dev/null
fi
for tool in nginx wrk taskset; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/yoom-bench-static.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# nginx workers run as an unprivileged user when started as root.
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/nginx" "$WORK/yoom-data"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 > "$WORK/www/small.html"
head -c 1000000 /dev/urandom > "$WORK/www/1mb.bin"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
YPORT="$(free_port)"
NPORT="$(free_port)"

cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  types { text/html html; application/octet-stream bin; }
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/www;
  }
}
CONF

taskset -c 0 nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/stderr" &
PIDS+=($!)
taskset -c 0 "$YOOM_BIN" --host 127.0.0.1 --port "$YPORT" --web-root "$WORK/www" \
  --data-dir "$WORK/yoom-data" --quiet --log-level warn --max-connections 10000 2>"$WORK/yoom.log" &
PIDS+=($!)

wait_port() {
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/small.html" && return 0
    sleep 0.1
  done
  echo "server on port $1 did not come up" >&2
  cat "$WORK/yoom.log" "$WORK/nginx/stderr" >&2 || true
  exit 1
}
wait_port "$YPORT"
wait_port "$NPORT"
cmp <(curl -s "http://127.0.0.1:$YPORT/1mb.bin") "$WORK/www/1mb.bin"
cmp <(curl -s "http://127.0.0.1:$NPORT/1mb.bin") "$WORK/www/1mb.bin"

# Prints requests/s for one wrk run.
run_wrk() {
  local port="$1" path="$2" conns="$3"
  taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" "http://127.0.0.1:$port$path" 2>&1 |
    awk '/^Requests\/sec:/ { print $2 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A RES
WORKLOADS=("small:/small.html:$CONNS" "1mb:/1mb.bin:$(( CONNS < 16 ? CONNS : 16 ))")
for w in "${WORKLOADS[@]}"; do
  IFS=: read -r name path conns <<<"$w"
  # Warm-up (page cache, small-file cache).
  run_wrk "$YPORT" "$path" "$conns" >/dev/null
  run_wrk "$NPORT" "$path" "$conns" >/dev/null
  for r in $(seq "$ROUNDS"); do
    if (( r % 2 )); then order="yoom nginx"; else order="nginx yoom"; fi
    for s in $order; do
      port="$YPORT"; [[ "$s" == nginx ]] && port="$NPORT"
      v="$(run_wrk "$port" "$path" "$conns")"
      RES["$name.$s"]+="$v "
      echo "round $r $name $s: $v req/s" >&2
    done
  done
done

echo
echo "| workload | connections | yoom req/s (median) | nginx req/s (median) | yoom/nginx |"
echo "|---|---|---|---|---|"
for w in "${WORKLOADS[@]}"; do
  IFS=: read -r name path conns <<<"$w"
  y="$(tr ' ' '\n' <<<"${RES[$name.yoom]}" | grep . | median)"
  n="$(tr ' ' '\n' <<<"${RES[$name.nginx]}" | grep . | median)"
  ratio="$(awk -v a="$y" -v b="$n" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  echo "| $name ($path) | $conns | $y | $n | $ratio |"
done
echo
echo "($ROUNDS alternating rounds of ${DURATION}s; servers pinned to CPU 0, wrk to CPU 1; yoom: $YOOM_BIN)"
