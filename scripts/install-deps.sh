#!/usr/bin/env bash
# Installs what yoom needs to build, test and benchmark: Debian packages with
# apt-get, npm packages with npm. Idempotent: skips what is present. Uses sudo
# only when not root. Nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git
  libuv1-dev libssl-dev libjansson-dev libsqlite3-dev sqlite3
  libturbojpeg0-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  clang libclang-rt-14-dev
  nodejs npm
  chromium fonts-dejavu-core
  iproute2 procps curl
)
# Only for `make bench`; installed there, not on every run.
if [[ "${YM_BENCH_DEPS:-0}" == 1 ]]; then
  APT_PACKAGES+=(wrk nginx-light gnuplot-nox ffmpeg valgrind linux-perf)
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node may come from elsewhere (nvm, nodesource): accept any node >= 18 with npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (package.json / package-lock.json): the socket.io client bundle
# we serve, the test clients, playwright-core, and the benchmark peers.
stamp=node_modules/.yoom-installed
if [[ ! -f $stamp || package.json -nt $stamp || package-lock.json -nt $stamp ]]; then
  echo "install-deps: npm ci"
  if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund --loglevel=error
  else npm install --no-audit --no-fund --loglevel=error; fi
  touch "$stamp"
fi
