#!/usr/bin/env bash
# Installs the browser suite's npm dependencies (playwright-core, pinned by package-lock.json)
# into tests/browser/node_modules with `npm ci`, unless they are already up to date.
# Safe to run repeatedly and concurrently.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser/install.sh: node and npm are required (see scripts/install-deps.sh)" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install; if it is newer than both
# package.json and package-lock.json and playwright-core is present, the tree is current.
up_to_date() {
  local marker=node_modules/.package-lock.json
  [[ -f $marker && -f node_modules/playwright-core/package.json ]] &&
    [[ ! package-lock.json -nt $marker && ! package.json -nt $marker ]]
}

install() {
  if up_to_date; then
    echo "browser/install.sh: node_modules up to date"
    return 0
  fi
  echo "browser/install.sh: npm ci"
  npm ci --no-audit --no-fund
}

if command -v flock >/dev/null; then
  # Serialise concurrent callers (e.g. parallel ctest + a manual run).
  exec 9>"${TMPDIR:-/tmp}/qadmin-browser-npm.lock"
  flock 9
fi
install
