#!/usr/bin/env bash
# Makes a throw-away PKI for the TLS tests in directory $1: a CA with a server certificate
# (localhost / 127.0.0.1) and a client certificate, plus a second, untrusted CA with its own
# client certificate. EC keys, so it takes milliseconds. Valid for two days.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() {  # name ca subject extensions
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca qd-test-ca
ca other-ca qd-test-other-ca
leaf server ca localhost $'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'
leaf client ca qd-test-client 'extendedKeyUsage=clientAuth'
leaf other-client other-ca qd-test-other-client 'extendedKeyUsage=clientAuth'
