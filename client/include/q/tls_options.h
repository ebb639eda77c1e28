// TlsOptions: how a client connection upgrades to TLS (IDENTIFY tls_v1), for a qd run with
// --tls-cert/--tls-key (and --tls-required or --tls-client-auth-policy).
#pragma once
#include <string>

namespace q {

struct TlsOptions {
  bool enabled = false;               // ask qd for tls_v1; the connect fails if qd does not agree
  std::string ca_file;                // PEM CA(s) that qd's certificate must chain to; "" = system CAs
  bool insecure_skip_verify = false;  // accept any certificate and name (tests, never production)
  std::string cert_file;              // client certificate (PEM) for --tls-client-auth-policy
  std::string key_file;               // its private key
};

}  // namespace q
