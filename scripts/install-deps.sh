#!/usr/bin/env bash
# Installs every Debian package the build and the tests need. Safe to run again.
set -euo pipefail
# openssl: the TLS tests make their certificates; prometheus: its promtool lints /metrics.
pkgs=(build-essential cmake ninja-build pkg-config
      libasio-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev googletest libbenchmark-dev libsnappy-dev zlib1g-dev libssl-dev openssl prometheus
      nodejs npm curl chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node comes with the machine on some images (not from Debian): accept any node >= 18 there.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
