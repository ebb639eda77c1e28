#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local cluster on loopback with default
# ports: qlookupd (TCP 4160, HTTP 4161) and qd (TCP 4150, HTTP 4151) registered with it.
# Data goes to ./data/qd. Ctrl-C stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target qd qlookupd
mkdir -p data/qd
build/release/lookupd/qlookupd --tcp-address=127.0.0.1:4160 --http-address=127.0.0.1:4161 \
  --broadcast-address=127.0.0.1 &
lookupd=$!
build/release/qd/qd --tcp-address=127.0.0.1:4150 --http-address=127.0.0.1:4151 \
  --broadcast-address=127.0.0.1 --data-path=data/qd --lookupd-tcp-address=127.0.0.1:4160 "$@" &
qd=$!
trap 'kill -TERM $qd $lookupd 2>/dev/null; wait' INT TERM
cat <<MSG
local cluster running:
  qlookupd  TCP 127.0.0.1:4160  HTTP http://127.0.0.1:4161   (try: curl http://127.0.0.1:4161/nodes)
  qd        TCP 127.0.0.1:4150  HTTP http://127.0.0.1:4151   (try: curl -d hello 'http://127.0.0.1:4151/pub?topic=test')
Ctrl-C stops both.
MSG
wait -n $qd $lookupd || true
kill -TERM $qd $lookupd 2>/dev/null || true
wait
