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
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/wire.h"
#include "q/status.h"
#include "q/connection_options.h"

namespace q {

struct IdentifyOptions {
  ConnectionOptions connection;  // fields, TLS, compression, AUTH
  int msg_timeout_ms = 0;  // 0: not sent
  int output_buffer_timeout_ms = 0;  // 0: not sent (qd's default, 250 ms); -1: no delay
  std::string tx_group;    // empty: not sent; else Dial fails unless qd echoes it back
};

class StreamCodec;
class TlsSession;

class Connection {
 public:
  // identify.connection.dial_timeout bounds the connect and each handshake read.
  static std::unique_ptr<Connection> Dial(const std::string& address, const IdentifyOptions& identify,
                                          Status* status);
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
  int max_rdy_count() const { return max_rdy_count_; }

 private:
  Connection(int fd, std::string address);

  static constexpr size_t kMaxPending = 8 * 1024;
  bool SendLocked(std::string_view bytes);
  bool Authenticate(const std::string& secret, Status* status);
  bool UpgradeToTls(const std::string& host, const TlsOptions& options, Status* status);
  bool StartCompression(bool snappy, int deflate_level, Status* status);
  // One read of the socket (through TLS when upgraded), as recv().
  ssize_t RawRead(char* buf, size_t len);
  // Appends what one read brings to read_buf_ (decompressed when compression is on).
  bool ReadMore();

  int fd_;
  std::string address_;
  int max_rdy_count_ = 2500;
  std::unique_ptr<TlsSession> tls_;  // set once upgraded: all bytes go through it
  // Set once compression started: codec_out_ under write_mu_, codec_in_ by the reader.
  std::unique_ptr<StreamCodec> codec_out_;
  std::unique_ptr<StreamCodec> codec_in_;
  std::string raw_;  // compressed bytes as read
  std::mutex write_mu_;
  std::string pending_;  // guarded by write_mu_
  std::string read_buf_;
  size_t read_pos_ = 0;  // start of unconsumed data in read_buf_
};

}  // namespace q
