// TlsLayer: the server end of one TLS session, kept entirely in memory. It turns received
// socket bytes into plaintext and plaintext into bytes to send; the connection does all
// socket I/O itself. Because it owns no socket and no executor, it moves with its
// connection from shard to shard (SUB) exactly like the compression layer does.
//
// Not thread-safe: used only on its connection's shard.
#pragma once
#include <openssl/ssl.h>

#include <string>
#include <string_view>

namespace q {

class TlsLayer {
 public:
  enum class Step { kDone, kWantRead, kFailed };

  explicit TlsLayer(SSL_CTX* ctx);
  ~TlsLayer();
  TlsLayer(const TlsLayer&) = delete;
  TlsLayer& operator=(const TlsLayer&) = delete;

  // Feeds received bytes (possibly none) to the handshake. kWantRead: send TakeOutput()
  // and come back with more bytes. kFailed: error() says why; TakeOutput() may hold an alert.
  Step Handshake(std::string_view received);
  // Appends the plaintext of received bytes to *plain. False when the stream is corrupt
  // or the peer closed the session (error() says which).
  bool Decrypt(std::string_view received, std::string* plain);
  // Appends the records for plain, and any other pending record, to *out.
  bool Encrypt(std::string_view plain, std::string* out);
  // Appends bytes the session wants sent on its own (handshake, alerts, tickets, key updates).
  void TakeOutput(std::string* out);
  bool HasOutput() const;

  const std::string& error() const { return error_; }
  // After the handshake: "TLS1.2"-style version, IANA cipher name, the client
  // certificate's subject CN ("" without one).
  std::string Version() const;
  std::string Cipher() const;
  std::string PeerCommonName() const;
  bool PeerHasCertificate() const;

 private:
  void SetError(int ret, const char* what);

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // received bytes waiting for OpenSSL (owned by ssl_)
  BIO* out_ = nullptr;  // bytes OpenSSL produced for the peer (owned by ssl_)
  std::string error_;
};

}  // namespace q
