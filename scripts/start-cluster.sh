#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local cluster on loopback with default
# ports: qlookupd (TCP 4160, HTTP 4161), qd (TCP 4150, HTTP 4151) registered with it, and
# qadmin (HTTP 4171). Data goes to ./data/qd. Ctrl-C stops them all cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target qd qlookupd qadmin
mkdir -p data/qd
build/release/lookupd/qlookupd --tcp-address=127.0.0.1:4160 --http-address=127.0.0.1:4161 \
  --broadcast-address=127.0.0.1 &
lookupd=$!
build/release/qd/qd --tcp-address=127.0.0.1:4150 --http-address=127.0.0.1:4151 \
  --broadcast-address=127.0.0.1 --data-path=data/qd --lookupd-tcp-address=127.0.0.1:4160 "$@" &
qd=$!
build/release/admin/qadmin --http-address=127.0.0.1:4171 --lookupd-http-address=127.0.0.1:4161 &
admin=$!
trap 'kill -TERM $qd $lookupd $admin 2>/dev/null; wait' INT TERM
cat <<MSG
local cluster running:
  qlookupd  TCP 127.0.0.1:4160  HTTP http://127.0.0.1:4161   (try: curl http://127.0.0.1:4161/nodes)
  qd        TCP 127.0.0.1:4150  HTTP http://127.0.0.1:4151   (try: curl -d hello 'http://127.0.0.1:4151/pub?topic=test')
  qadmin    http://127.0.0.1:4171/   (the web UI)
Ctrl-C stops them all.
MSG
wait -n $qd $lookupd $admin || true
kill -TERM $qd $lookupd $admin 2>/dev/null || true
wait
