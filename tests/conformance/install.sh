#!/usr/bin/env bash
# Installs the conformance suite's npm dependencies (nsqjs, pinned by package-lock.json)
# into tests/conformance/node_modules with `npm ci`, unless they are already up to date.
# Safe to run repeatedly and concurrently.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "conformance/install.sh: node and npm are required (see scripts/install-deps.sh)" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install; if it is newer than both
# package.json and package-lock.json and nsqjs is present, the tree is current.
up_to_date() {
  local marker=node_modules/.package-lock.json
  [[ -f $marker && -f node_modules/nsqjs/package.json ]] &&
    [[ ! package-lock.json -nt $marker && ! package.json -nt $marker ]]
}

install() {
  if up_to_date; then
    echo "conformance/install.sh: node_modules up to date"
    return 0
  fi
  echo "conformance/install.sh: npm ci"
  npm ci --no-audit --no-fund
}

if command -v flock >/dev/null; then
  # Serialise concurrent callers (e.g. parallel ctest + a manual run).
  exec 9>"${TMPDIR:-/tmp}/qd-conformance-npm.lock"
  flock 9
fi
install
