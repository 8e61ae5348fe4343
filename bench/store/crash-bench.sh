#!/usr/bin/env bash
# bench/store/crash-bench.sh: the server crash run of issue 7 at full length.
# Runs tests/node/crash.test.mjs (the real yoom binary, killed with SIGKILL at
# random moments while a client sends messages with client ids, then restarted
# on the same database) for ROUNDS rounds (default 200; `make test` runs 20).
# Passes when every acknowledged message is stored exactly once and
# PRAGMA integrity_check says ok.
# Env: ROUNDS (200), SEED (random; printed, to replay a failure),
#      BUILD (default build-bench-crash: a release build of yoom),
#      YOOM_BIN (use this binary instead of building one).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-200}
BUILD=${BUILD:-build-bench-crash}
if [ -z "${YOOM_BIN:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" --target yoom -j2 >/dev/null
  YOOM_BIN="$ROOT/$BUILD/yoom"
fi
export YOOM_BIN YOOM_ROOT="$ROOT" YOOM_CRASH_ROUNDS="$ROUNDS"
[ -n "${SEED:-}" ] && export YOOM_CRASH_SEED="$SEED"
echo "server crash run: $ROUNDS rounds of SIGKILL against $YOOM_BIN"
start=$(date +%s)
node --test --test-reporter=spec tests/node/crash.test.mjs
echo "done in $(( $(date +%s) - start )) s"
