#!/usr/bin/env bash
# Installs one Node test suite's npm dependencies (pinned by its package-lock.json) into
# <suite dir>/node_modules with `npm ci`, unless they are already up to date.
# Safe to run repeatedly and concurrently.
# Usage: npm_install.sh <suite dir> <a package the suite needs, checked for presence>
set -euo pipefail
suite_dir=$1
package=$2
name="$(basename "$suite_dir")/install.sh"
cd "$suite_dir"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "$name: node and npm are required (see scripts/install-deps.sh)" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install; if it is newer than both
# package.json and package-lock.json and the package is present, the tree is current.
up_to_date() {
  local marker=node_modules/.package-lock.json
  [[ -f $marker && -f node_modules/$package/package.json ]] &&
    [[ ! package-lock.json -nt $marker && ! package.json -nt $marker ]]
}

install() {
  if up_to_date; then
    echo "$name: node_modules up to date"
    return 0
  fi
  echo "$name: npm ci"
  npm ci --no-audit --no-fund
}

if command -v flock >/dev/null; then
  # Serialise concurrent callers (e.g. parallel ctest + a manual run).
  exec 9>"${TMPDIR:-/tmp}/q-$(basename "$PWD")-npm.lock"
  flock 9
fi
install
