// TlsClient: a raw V2 client that speaks the tls_v1 upgrade step by step, so tests can see
// each stage of the negotiation (plain IDENTIFY response, handshake, OK over TLS).
//
// Promise: every call is bounded in time (asio operations run for at most the timeout,
// then the socket is cancelled). A failure is a value, never an exception.
// Threads: one thread per client.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tests/integration/test_client.h"

namespace q::test {

// The throw-away PKI of tests/make_test_certs.sh, made once per test process.
struct TestCerts {
  std::string dir;
  std::string ca, server_cert, server_key, client_cert, client_key;
  std::string other_ca, other_client_cert, other_client_key;
};
const TestCerts& Certs();

class TlsClient {
 public:
  using Duration = std::chrono::milliseconds;

  // ctx: how the client verifies qd and which certificate it presents.
  explicit TlsClient(asio::ssl::context& ctx);

  // Connects to 127.0.0.1:port and sends "  V2".
  bool Connect(int port);
  // Plain text, before the upgrade.
  bool SendPlain(const std::string& bytes);
  Frame ReadPlainFrame(Duration timeout = kDefaultTimeout);
  // Client side of the handshake; "" on success, else the reason.
  std::string Handshake(Duration timeout = kDefaultTimeout);
  // Over TLS, after the upgrade.
  bool SendTls(const std::string& bytes);
  Frame ReadTlsFrame(Duration timeout = kDefaultTimeout);
  // Plain IDENTIFY with tls_v1, the JSON response, the handshake, the OK over TLS.
  // "" on success, else what went wrong.
  std::string Upgrade(const std::string& extra_identify_json = "{}");
  // Over TLS: the next frame that is not a heartbeat (heartbeats get a NOP).
  Frame ReadTlsSkippingHeartbeats(Duration timeout = kDefaultTimeout);

 private:
  // Runs the io_context until done or timeout; cancels the socket on timeout.
  bool RunUntil(const bool& done, Duration timeout);
  template <class Stream>
  Frame ReadFrameFrom(Stream& s, Duration timeout);

  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  asio::ssl::stream<asio::ip::tcp::socket&> tls_;
};

// A client context that trusts ca (if not empty) and presents cert/key (if not empty).
std::unique_ptr<asio::ssl::context> ClientContext(const std::string& ca, const std::string& cert = "",
                                                  const std::string& key = "");

}  // namespace q::test
