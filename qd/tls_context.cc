#include "qd/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace q {

namespace {

std::string LastSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// "require": a client must present a certificate, but nobody vouches for it (Go's
// RequireAnyClientCert), so every chain is accepted.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

bool TlsConfigured(const Options& o) { return !o.tls_cert.empty() || !o.tls_key.empty(); }

int TlsMinVersion(const std::string& name) {
  if (name == "ssl3.0") return SSL3_VERSION;
  if (name == "tls1.0") return TLS1_VERSION;
  if (name == "tls1.1") return TLS1_1_VERSION;
  if (name == "tls1.2") return TLS1_2_VERSION;
  if (name == "tls1.3") return TLS1_3_VERSION;
  return 0;
}

bool ConfigureServerTls(SSL_CTX* ctx, const Options& o, std::string* error) {
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, o.tls_cert.c_str()) != 1) {
    *error = "cannot load --tls-cert \"" + o.tls_cert + "\": " + LastSslError();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "cannot load --tls-key \"" + o.tls_key + "\": " + LastSslError();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "--tls-key does not match --tls-cert: " + LastSslError();
    return false;
  }
  if (!o.tls_root_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.tls_root_ca_file.c_str(), nullptr) != 1) {
      *error = "cannot load --tls-root-ca-file \"" + o.tls_root_ca_file + "\": " + LastSslError();
      return false;
    }
    // Tell clients which CAs their certificate should come from.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_root_ca_file.c_str());
    if (names) SSL_CTX_set_client_CA_list(ctx, names);
  }
  const std::string& policy = o.tls_client_auth_policy;
  if (policy == "require") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, AcceptAnyCertificate);
  } else if (policy == "require-verify") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else if (policy.empty()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    *error = "--tls-client-auth-policy must be require or require-verify";
    return false;
  }
  int min_version = TlsMinVersion(o.tls_min_version);
  if (min_version == 0) {
    *error = "unknown --tls-min-version \"" + o.tls_min_version + "\"";
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  // Renegotiation would let a peer re-run the handshake under our buffering; nsqd's Go
  // server never allows it either.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  return true;
}

}  // namespace q
