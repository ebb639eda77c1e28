// TlsSession: the client side of qd's tls_v1 upgrade on a connected, blocking socket.
//
// OpenSSL only sees memory buffers; the socket is read and written here with recv/send
// (MSG_NOSIGNAL: a peer that went away must not SIGPIPE the application). So, as on a plain
// connection, one thread may block in Read() while others Write(): the SSL object is touched
// under a short lock, never across a blocking socket call.
//
// Thread-safety: Read() from one reader thread; Write() from any thread (serialised here).
#pragma once
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "q/connection_options.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace q {

class TlsSession {
 public:
  // Runs the handshake over fd (whose SO_RCVTIMEO bounds each read); host is checked against
  // qd's certificate (a name or an IP address) unless options.insecure_skip_verify.
  static std::unique_ptr<TlsSession> Handshake(int fd, const std::string& host, const TlsOptions& options,
                                               std::string* error);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // As recv(): plaintext bytes read (> 0), 0 when qd closed the session, < 0 on error or
  // timeout.
  ssize_t Read(char* buf, size_t len);
  // Encrypts and sends all of plain; false once the connection failed.
  bool Write(std::string_view plain);

 private:
  TlsSession(int fd, SSL_CTX* ctx, SSL* ssl, BIO* in, BIO* out) : fd_(fd), ctx_(ctx), ssl_(ssl), in_(in), out_(out) {}
  // Sends what OpenSSL wrote to out_. Caller holds send_mu_.
  bool SendPendingLocked();
  // Moves raw bytes from the socket into in_ (blocking); false on EOF/error/timeout.
  bool ReceiveRaw();

  int fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  BIO* in_;   // bytes from qd, for OpenSSL to decrypt
  BIO* out_;  // bytes OpenSSL produced, to send to qd
  std::mutex send_mu_;  // order of sends = order OpenSSL produced the records; before mu_
  std::mutex mu_;       // the SSL object and its BIOs
};

}  // namespace q
