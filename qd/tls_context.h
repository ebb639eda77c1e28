// The server side of TLS as nsqd configures it (spec: tcp-protocol.md §6, qd-http-api.md §7):
// the certificate and key, an optional CA for client certificates, the client certificate
// policy and the lowest protocol version. One configuration serves both the TCP protocol's
// tls_v1 upgrade and the HTTPS listener, so the two can never disagree.
#pragma once
#include <openssl/ssl.h>

#include <string>

#include "qd/options.h"

namespace q {

// Whether TLS is configured at all: nsqd turns it on when a cert or a key is given.
bool TlsConfigured(const Options& o);

// Loads --tls-cert/--tls-key/--tls-root-ca-file into ctx and applies
// --tls-client-auth-policy and --tls-min-version. False with *error if a file cannot be
// used or a value is unknown.
bool ConfigureServerTls(SSL_CTX* ctx, const Options& o, std::string* error);

// The lowest protocol version for a --tls-min-version value; 0 if the value is unknown.
int TlsMinVersion(const std::string& name);

}  // namespace q
