#!/usr/bin/env bash
# bench/store/run.sh: store benchmark and the long crash run.
#  1. acknowledged messages per second and ack latency p50/p99 (append -> commit
#     callback) with synchronous NORMAL and FULL, 1 and 64 concurrent appenders
#     (markdown table on stdout);
#  2. the SIGKILL crash test with BENCH_ROUNDS rounds (default 200).
# Builds a release (no sanitizer) copy of the store library in $BUILD.
# Env: BUILD (default build-bench-store), MESSAGES (20000), BENCH_ROUNDS (200),
#      BENCH_DIR (where the databases go; default $BUILD/bench-data, on the disk
#      that matters for fsync).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build-bench-store}
MESSAGES=${MESSAGES:-20000}
BENCH_ROUNDS=${BENCH_ROUNDS:-200}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target ym_store ym_base test_store_crash -j2 >/dev/null
BIN="$BUILD/bench_store"
cc -std=gnu17 -O2 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I src -I include bench/store/bench_store.c \
   "$BUILD/libym_store.a" "$BUILD/libym_base.a" \
   $(pkg-config --libs sqlite3 libuv openssl) -lpthread -o "$BIN"

DATA=${BENCH_DIR:-$BUILD/bench-data}
mkdir -p "$DATA"
echo "store benchmark: $MESSAGES messages of 100 bytes, 8 rooms, SQLite $(pkg-config --modversion sqlite3), $(uname -sr), data in $DATA ($(df -T "$DATA" | awk 'NR==2{print $2}'))"
echo
echo "| sync | inflight | messages | acked msg/s | p50 ms | p99 ms | transactions | msgs/transaction |"
echo "|---|---|---|---|---|---|---|---|"
for sync in normal full; do
  for inflight in 1 64 256; do
    n=$MESSAGES
    # One appender at a time with FULL is one fsync per message: fewer messages.
    if [ "$inflight" = 1 ] && [ "$sync" = full ]; then n=$((MESSAGES / 10)); fi
    ./"$BIN" --sync "$sync" --messages "$n" --inflight "$inflight" --dir "$DATA"
  done
done
echo
echo "crash test: $BENCH_ROUNDS SIGKILL rounds"
BENCH_ROUNDS=$BENCH_ROUNDS "$BUILD/tests/test_store_crash" 2>&1 | grep -v 'migrated to schema'
