// Connection: one blocking TCP connection to qd speaking V2, used by Producer and Consumer.
//
// Dial() connects (with a timeout), sends the magic and IDENTIFY (feature negotiation, no
// compression), reads IDENTIFY's answer, upgrades to TLS when asked to, and, when qd requires
// it, authenticates with AUTH before returning. Reads keep the dial timeout
// (so a handshake step like SUB cannot hang) until SetReadTimeout(0) — call it before handing
// the connection to a long-lived reader thread (qd's heartbeats keep a live one talking).
// Threads: Write() and Shutdown() may be called from any thread (writes are serialised by a
// mutex, each Write is sent whole); ReadFrame() from one reader thread only. Shutdown()
// unblocks a reader or writer blocked in the socket; the fd is closed by the destructor.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/wire.h"
#include "q/status.h"
#include "q/tls_options.h"

namespace q {

struct IdentifyOptions {
  std::string client_id;
  std::string user_agent;
  int heartbeat_interval_ms = 30000;
  int msg_timeout_ms = 0;  // 0: not sent
  int output_buffer_timeout_ms = 0;  // 0: not sent (qd's default, 250 ms); -1: no delay
  std::string tx_group;    // empty: not sent; else Dial fails unless qd echoes it back
  // Sent with AUTH when qd answers IDENTIFY with auth_required (qd run with
  // --auth-http-address); Dial fails when qd requires it and this is empty.
  std::string auth_secret;
  // tls.enabled: IDENTIFY asks for tls_v1 and the connection upgrades before anything else;
  // Dial fails when qd does not agree or its certificate does not verify.
  TlsOptions tls;
};

class TlsSession;

class Connection {
 public:
  static std::unique_ptr<Connection> Dial(const std::string& address,
                                          const IdentifyOptions& identify,
                                          std::chrono::milliseconds timeout, Status* status);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends all of bytes (after anything Buffer()ed); false once the connection failed or was
  // shut down.
  bool Write(std::string_view bytes);
  // Queues bytes for the next Write or Flush, so that many FINs cost one send(); sends by
  // itself once kMaxPending bytes wait.
  void Buffer(std::string_view bytes);
  bool Flush();
  // Blocks for the next frame; data stays valid until the next ReadFrame. false on EOF/error.
  bool ReadFrame(wire::FrameType* type, std::string_view* data);
  // When the frame is qd's heartbeat, answers it with NOP and returns true.
  bool AnswerHeartbeat(wire::FrameType type, std::string_view data);
  // 0: block forever.
  void SetReadTimeout(std::chrono::milliseconds timeout);
  void Shutdown();

  const std::string& address() const { return address_; }
  // Who the auth server said this connection is ("" without AUTH).
  const std::string& auth_identity() const { return auth_identity_; }
  int max_rdy_count() const { return max_rdy_count_; }

 private:
  Connection(int fd, std::string address);

  static constexpr size_t kMaxPending = 8 * 1024;
  bool SendLocked(std::string_view bytes);
  bool Authenticate(const std::string& secret, Status* status);
  bool UpgradeToTls(const std::string& host, const TlsOptions& options, Status* status);

  int fd_;
  std::string address_;
  int max_rdy_count_ = 2500;
  std::string auth_identity_;
  bool tls_v1_granted_ = false;
  std::unique_ptr<TlsSession> tls_;  // set once upgraded: all bytes go through it
  std::mutex write_mu_;
  std::string pending_;  // guarded by write_mu_
  std::string read_buf_;
  size_t read_pos_ = 0;  // start of unconsumed data in read_buf_
};

}  // namespace q
