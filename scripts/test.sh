#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite twice: an optimised build,
# then the same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
tests/conformance/install.sh
tests/browser/install.sh

cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release

cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan
