// ConnectionOptions: what every client connection to qd negotiates — IDENTIFY's fields and
// the steps that follow it (TLS, compression, AUTH). Producer, Consumer and
// TransactionProducer options all start with these.
#pragma once
#include <chrono>
#include <string>

namespace q {

// TLS (IDENTIFY tls_v1) for a qd run with --tls-cert/--tls-key (and --tls-required or
// --tls-client-auth-policy).
struct TlsOptions {
  bool enabled = false;               // ask qd for tls_v1; the connect fails if qd does not agree
  std::string ca_file;                // PEM CA(s) that qd's certificate must chain to; "" = system CAs
  bool insecure_skip_verify = false;  // accept any certificate and name (tests, never production)
  std::string cert_file;              // client certificate (PEM) for --tls-client-auth-policy
  std::string key_file;               // its private key
};

struct ConnectionOptions {
  std::chrono::milliseconds dial_timeout{5000};  // connect and handshake, each step
  std::string client_id;
  std::string user_agent = "qclient/1.0";
  int heartbeat_interval_ms = 30000;
  // Sent with AUTH to a qd that requires it (--auth-http-address); the auth server decides
  // what the connection may do.
  std::string auth_secret;
  TlsOptions tls;
  // Compression of the whole stream after IDENTIFY (and TLS): Snappy framing, or raw DEFLATE
  // at deflate_level (1-9). At most one; the connect fails if qd does not grant it (qd's
  // --snappy / --deflate, both on by default).
  bool snappy = false;
  bool deflate = false;
  int deflate_level = 6;
};

}  // namespace q
