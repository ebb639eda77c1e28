#!/usr/bin/env bash
# Installs the browser suite's npm dependencies (playwright-core, pinned by package-lock.json).
exec bash "$(dirname "${BASH_SOURCE[0]}")/../npm_install.sh" "$(dirname "${BASH_SOURCE[0]}")" playwright-core
