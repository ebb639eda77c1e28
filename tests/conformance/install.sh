#!/usr/bin/env bash
# Installs the conformance suite's npm dependencies (nsqjs, pinned by package-lock.json).
exec bash "$(dirname "${BASH_SOURCE[0]}")/../npm_install.sh" "$(dirname "${BASH_SOURCE[0]}")" nsqjs
