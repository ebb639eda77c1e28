#include "client/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

namespace q {

namespace {

std::string OpenSslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

SSL_CTX* NewContext(const TlsOptions& o, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = OpenSslError("TLS: cannot create a context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  bool ok = true;
  if (o.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    ok = o.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                           : SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) == 1;
    if (!ok) *error = OpenSslError("TLS: cannot load CA file \"" + o.ca_file + "\"");
  }
  if (ok && !o.cert_file.empty()) {
    ok = SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) == 1 &&
         SSL_CTX_use_PrivateKey_file(ctx, (o.key_file.empty() ? o.cert_file : o.key_file).c_str(),
                                     SSL_FILETYPE_PEM) == 1;
    if (!ok) *error = OpenSslError("TLS: cannot load client certificate \"" + o.cert_file + "\"");
  }
  if (!ok) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

std::unique_ptr<TlsSession> TlsSession::Handshake(int fd, const std::string& host, const TlsOptions& o,
                                                  std::string* error) {
  SSL_CTX* ctx = NewContext(o, error);
  if (!ctx) return nullptr;
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    *error = OpenSslError("TLS: out of memory");
    if (ssl) SSL_free(ssl);
    if (in) BIO_free(in);
    if (out) BIO_free(out);
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_set_bio(ssl, in, out);  // ssl owns both from here
  std::unique_ptr<TlsSession> s(new TlsSession(fd, ctx, ssl, in, out));
  if (!o.insecure_skip_verify) {
    if (IsIpAddress(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    }
  }
  SSL_set_connect_state(ssl);
  while (true) {
    int rc = SSL_do_handshake(ssl);
    int err = SSL_get_error(ssl, rc);
    {
      std::lock_guard lock(s->send_mu_);
      if (!s->SendPendingLocked()) {
        *error = "TLS handshake: send failed";
        return nullptr;
      }
    }
    if (rc == 1) break;
    if (err != SSL_ERROR_WANT_READ) {
      long verify = SSL_get_verify_result(ssl);
      *error = verify != X509_V_OK
                   ? std::string("TLS handshake: qd's certificate: ") + X509_verify_cert_error_string(verify)
                   : OpenSslError("TLS handshake failed");
      return nullptr;
    }
    if (!s->ReceiveRaw()) {
      *error = "TLS handshake: qd closed the connection or did not answer in time";
      return nullptr;
    }
  }
  return s;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // frees in_ and out_
  SSL_CTX_free(ctx_);
}

bool TlsSession::SendPendingLocked() {
  char buf[16 * 1024];
  while (true) {
    int n;
    {
      std::lock_guard lock(mu_);
      n = BIO_read(out_, buf, sizeof buf);
    }
    if (n <= 0) return true;
    std::string_view bytes(buf, static_cast<size_t>(n));
    while (!bytes.empty()) {
      ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
  }
}

bool TlsSession::ReceiveRaw() {
  char buf[16 * 1024];
  ssize_t n;
  do {
    n = recv(fd_, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  std::lock_guard lock(mu_);
  return BIO_write(in_, buf, static_cast<int>(n)) == n;
}

ssize_t TlsSession::Read(char* buf, size_t len) {
  while (true) {
    int n;
    int err;
    bool output;
    {
      std::lock_guard lock(mu_);
      n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30)));
      err = SSL_get_error(ssl_, n);
      output = BIO_ctrl_pending(out_) > 0;
    }
    // Reading can make OpenSSL answer (a TLS 1.3 key update): send it in order with writes.
    if (output) {
      std::lock_guard lock(send_mu_);
      if (!SendPendingLocked()) return -1;
    }
    if (n > 0) return n;
    if (err == SSL_ERROR_ZERO_RETURN) return 0;
    if (err != SSL_ERROR_WANT_READ) return -1;
    if (!ReceiveRaw()) return -1;
  }
}

bool TlsSession::Write(std::string_view plain) {
  std::lock_guard send_lock(send_mu_);
  while (!plain.empty()) {
    int n;
    {
      std::lock_guard lock(mu_);
      n = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<size_t>(plain.size(), 1 << 30)));
    }
    if (n <= 0) return false;
    plain.remove_prefix(static_cast<size_t>(n));
    if (!SendPendingLocked()) return false;
  }
  return true;
}

}  // namespace q
