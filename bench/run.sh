#!/usr/bin/env bash
# bench/run.sh: the whole benchmark suite (`make bench`); writes docs/BENCHMARKS.md
# and its charts (docs/benchmarks/*.png). Takes a while (tens of minutes for
# the full suite); everything runs on loopback and stops by itself.
#
#  1. builds a release yoom (uses `build/yoom --bench` when the binary has that
#     flag, else bench/peers/yoom_bench_server.c on the release libraries),
#     the load generator (-O2), and fetches Bun (npm pack @oven/bun-linux-x64
#     into bench/.cache) if it is missing;
#  2. runs the scenarios against yoom, Node socket.io, Bun and Node ws
#     (bench/lib/bench.mjs: servers on CPU 0, load on CPU 1, a warm-up round
#     then BENCH_ROUNDS rounds that alternate the servers);
#  3. profiles yoom under broadcast load (perf);
#  4. runs bench/static, bench/store and bench/clip (their run.sh) if present;
#  5. writes the report (bench/lib/report.mjs).
# Env: BUILD (build-bench), BENCH_QUICK=1 (reduced sizes: a check, not a
#      result), BENCH_ROUNDS (5), BENCH_SERVERS, BENCH_SCENARIOS (see bench.mjs),
#      BENCH_OTHERS=0 (skip the other benchmarks), BENCH_PROFILE=0 (no perf),
#      BENCH_APPEND=1 (add to the earlier results instead of starting anew),
#      BENCH_RUN=0 (reuse $BUILD/results/results.jsonl: report again without
#      measuring again), BENCH_REPORT (docs/BENCHMARKS.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build-bench}
OUT=$ROOT/$BUILD/results
REPORT=${BENCH_REPORT:-docs/BENCHMARKS.md}
mkdir -p "$OUT"
log() { echo "bench: $*" >&2; }

# ---- 1. build ----
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target ym_sio -j2 >/dev/null
YOOM_BIN=${YOOM_BIN:-build/yoom}
YOOM_ABS_BIN=""   # the binary the other benchmarks measure ("" = they build their own)
if [ -x "$YOOM_BIN" ] && "$YOOM_BIN" --help 2>&1 | grep -q -- '--bench'; then
  YOOM_ABS=$(cd "$(dirname "$YOOM_BIN")" && pwd)/$(basename "$YOOM_BIN")
  YOOM_ABS_BIN=$YOOM_ABS
  YOOM_BENCH_CMD="[\"$YOOM_ABS\",\"--bench\",\"--quiet\",\"--host\",\"127.0.0.1\",\"--port\",\"{PORT}\",\"--data-dir\",\"{DIR}\",\"--max-connections\",\"30000\"]"
  YOOM_HOW="yoom --bench ($YOOM_BIN, release)"
else
  B=$BUILD
  cc -std=gnu17 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -I src -I include \
     bench/peers/yoom_bench_server.c src/main/ym_bench_mode.c \
     "$B/libym_sio.a" "$B/libym_eio.a" "$B/libym_ws.a" "$B/libym_http.a" "$B/libym_net.a" "$B/libym_base.a" \
     $(pkg-config --libs jansson libuv openssl) -lpthread -o "$B/yoom_bench_server"
  YOOM_BENCH_CMD="[\"$ROOT/$B/yoom_bench_server\",\"{PORT}\"]"
  YOOM_HOW="bench/peers/yoom_bench_server.c (yoom's release libraries + src/main/ym_bench_mode.c; the binary has no --bench yet)"
fi
make -s -C bench/loadgen OUT="$ROOT/$BUILD" >/dev/null
LOADGEN=$ROOT/$BUILD/loadgen

BUN_BIN=$ROOT/bench/.cache/package/bin/bun
if [ ! -x "$BUN_BIN" ]; then
  log "fetching Bun (npm pack @oven/bun-linux-x64)"
  mkdir -p bench/.cache
  if (cd bench/.cache && npm pack --silent @oven/bun-linux-x64 >/dev/null && tar xzf oven-bun-linux-x64-*.tgz); then :; else
    log "no Bun: its columns stay empty"
  fi
fi
[ -x "$BUN_BIN" ] || BUN_BIN=""

# ---- 2. scenarios ----
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "${BENCH_RUN:-1}" = 1 ]; then
  LOADGEN=$LOADGEN YOOM_BENCH_CMD=$YOOM_BENCH_CMD BUN=$BUN_BIN BENCH_OUT=$OUT node bench/lib/bench.mjs
elif [ ! -s "$OUT/results.jsonl" ]; then
  log "BENCH_RUN=0 but no $OUT/results.jsonl to report"; exit 1
fi

# ---- 3. profile yoom under broadcast load ----
# A flat profile (release code has no frame pointers, so no call graphs): one
# room of 1,000, 64 B messages at a rate yoom sustains.
PROFILE=$OUT/profile.txt
if command -v perf >/dev/null 2>&1 && [ "${BENCH_PROFILE:-1}" = 1 ]; then
  : > "$PROFILE"
  cmdjson=${YOOM_BENCH_CMD//\{PORT\}/0}
  cmdjson=${cmdjson//\{DIR\}/$OUT}
  mapfile -t CMD < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$cmdjson")
  taskset -c 0 "${CMD[@]}" 2> "$OUT/profile-server.err" &
  SPID=$!
  for _ in $(seq 100); do grep -q 'listening on' "$OUT/profile-server.err" 2>/dev/null && break; sleep 0.1; done
  PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\)\/.*/\1/p' "$OUT/profile-server.err" | head -1)
  if [ -n "$PORT" ]; then
    taskset -c 1 "$LOADGEN" --port "$PORT" --clients 1000 --procs 2 --senders 1 --rate 200 --size 64 \
      --warmup 1 --duration 6 > "$OUT/profile-load.json" 2>/dev/null &
    LPID=$!
    sleep 2.5
    perf record -F 999 -p "$SPID" -o "$OUT/perf.data" -- sleep 4 >/dev/null 2>&1 || true
    wait "$LPID" || true
    {
      echo "by object (kernel = [kernel.kallsyms]):"
      perf report -i "$OUT/perf.data" --stdio --no-children --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
      echo
      echo "by symbol:"
      perf report -i "$OUT/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.7 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//' | head -45
    } > "$PROFILE" || true
  fi
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
fi

# ---- 4. the other benchmarks ----
# BENCH_OTHERS: 1 (all), 0 (none) or a list such as "static,clip"; each
# writes its own part, so running one again keeps the others' last output.
OTHERS_LIST=${BENCH_OTHERS:-1}
[ "$OTHERS_LIST" = 1 ] && OTHERS_LIST="static store clip"
[ "$OTHERS_LIST" = 0 ] && OTHERS_LIST=""
for b in ${OTHERS_LIST//,/ }; do
  if [ -f "bench/$b/run.sh" ]; then
    log "running bench/$b/run.sh"
    {
      echo "## bench/$b"
      echo
      echo "Output of \`bench/$b/run.sh\`:"
      echo
      # Their own knobs only: BUILD and BENCH_ROUNDS mean other things there;
      # the yoom binary is the one measured above.
      if ! env -u BUILD -u BENCH_ROUNDS YOOM_BIN="$YOOM_ABS_BIN" bash "bench/$b/run.sh" 2> "$OUT/$b.err"; then
        echo
        echo "**bench/$b/run.sh failed**; last lines of its stderr:"
        echo '```'
        tail -20 "$OUT/$b.err"
        echo '```'
      fi
      echo
    } > "$OUT/others-$b.md"
  fi
done
OTHERS=$OUT/others.md
: > "$OTHERS"
for b in static store clip; do
  if [ -f "$OUT/others-$b.md" ]; then cat "$OUT/others-$b.md" >> "$OTHERS"; fi
done

# ---- 5. report ----
mkdir -p docs/benchmarks
YOOM_HOW=$YOOM_HOW node bench/lib/report.mjs "$OUT" docs/benchmarks > "$REPORT.tmp"
mv "$REPORT.tmp" "$REPORT"
log "wrote $REPORT"
