#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local qd on loopback with nsqd's default
# ports (TCP 4150, HTTP 4151), data in ./data/qd. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p data/qd
echo "qd: TCP 127.0.0.1:4150, HTTP http://127.0.0.1:4151 (try: curl -d hello 'http://127.0.0.1:4151/pub?topic=test')"
exec build/release/qd/qd --tcp-address=127.0.0.1:4150 --http-address=127.0.0.1:4151 \
  --broadcast-address=127.0.0.1 --data-path=data/qd "$@"
