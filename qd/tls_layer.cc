#include "qd/tls_layer.h"

#include <openssl/err.h>
#include <algorithm>
#include <openssl/x509.h>

namespace q {

TlsLayer::TlsLayer(SSL_CTX* ctx) : ssl_(SSL_new(ctx)), in_(BIO_new(BIO_s_mem())), out_(BIO_new(BIO_s_mem())) {
  // An empty memory BIO means "no data yet", not end of stream.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_mem_eof_return(out_, -1);
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_accept_state(ssl_);
}

TlsLayer::~TlsLayer() { SSL_free(ssl_); }

void TlsLayer::SetError(int ret, const char* what) {
  int code = SSL_get_error(ssl_, ret);
  std::string detail;
  if (code == SSL_ERROR_ZERO_RETURN) {
    detail = "closed by peer";
  } else if (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail = buf;
  } else {
    detail = "ssl error " + std::to_string(code);
  }
  ERR_clear_error();
  error_ = std::string(what) + ": " + detail;
}

TlsLayer::Step TlsLayer::Handshake(std::string_view received) {
  if (!received.empty()) BIO_write(in_, received.data(), static_cast<int>(received.size()));
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) return Step::kDone;
  if (SSL_get_error(ssl_, ret) == SSL_ERROR_WANT_READ) return Step::kWantRead;
  SetError(ret, "handshake");
  return Step::kFailed;
}

bool TlsLayer::Decrypt(std::string_view received, std::string* plain) {
  if (!received.empty()) BIO_write(in_, received.data(), static_cast<int>(received.size()));
  char buf[16 * 1024];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ) return true;
    SetError(n, "read");
    return false;
  }
}

bool TlsLayer::Encrypt(std::string_view plain, std::string* out) {
  while (!plain.empty()) {
    ERR_clear_error();
    // The memory BIO grows as needed, so a write never stops half way.
    int n = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<size_t>(plain.size(), 1 << 30)));
    if (n <= 0) {
      SetError(n, "write");
      return false;
    }
    plain.remove_prefix(static_cast<size_t>(n));
  }
  TakeOutput(out);
  return true;
}

void TlsLayer::TakeOutput(std::string* out) {
  size_t pending = BIO_ctrl_pending(out_);
  if (pending == 0) return;
  size_t at = out->size();
  out->resize(at + pending);
  int n = BIO_read(out_, out->data() + at, static_cast<int>(pending));
  out->resize(at + (n > 0 ? static_cast<size_t>(n) : 0));
}

bool TlsLayer::HasOutput() const { return BIO_ctrl_pending(out_) > 0; }

std::string TlsLayer::Version() const {
  // nsqd reports Go's names.
  switch (SSL_version(ssl_)) {
    case SSL3_VERSION: return "SSL3.0";
    case TLS1_VERSION: return "TLS1.0";
    case TLS1_1_VERSION: return "TLS1.1";
    case TLS1_2_VERSION: return "TLS1.2";
    case TLS1_3_VERSION: return "TLS1.3";
    default: return SSL_get_version(ssl_);
  }
}

std::string TlsLayer::Cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  const char* name = c ? SSL_CIPHER_standard_name(c) : nullptr;
  return name ? name : "";
}

bool TlsLayer::PeerHasCertificate() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return false;
  X509_free(cert);
  return true;
}

std::string TlsLayer::PeerCommonName() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  std::string cn;
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len > 0) cn.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  X509_free(cert);
  return cn;
}

}  // namespace q
