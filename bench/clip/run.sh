#!/bin/sh
# bench/clip/run.sh: yoom's clip encoder against seed 000's ffmpeg pipeline,
# side by side in one run. Builds bench_clip optimised (no sanitizers) from
# the base and media sources, then prints a markdown table.
#
#   bench/clip/run.sh [rounds] [dir-to-keep-sample-clips]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/yoom-bench-clip-build
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed for the seed pipeline" >&2; exit 1; }

# shellcheck disable=SC2046
cc -std=gnu17 -O2 -D_GNU_SOURCE -I"$root/src" \
   "$root/bench/clip/bench_clip.c" "$root"/src/media/*.c "$root"/src/base/*.c \
   $(pkg-config --cflags --libs libturbojpeg libavformat libavcodec libavutil libswscale libuv openssl) \
   -lpthread -o "$out/bench_clip"

"$out/bench_clip" "${1:-15}" ${2:+"$2"}
