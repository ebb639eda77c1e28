// V1Client: a blocking raw-socket client of qlookupd's TCP protocol V1, for integration tests
// (it plays qd). Replies are [4-byte size][data] with no frame type, unlike V2.
//
// Promise: every call is bounded in time (poll() against a deadline); a peer close is a
// value (Reply::kClosed), never a hang. SIGPIPE is never raised (MSG_NOSIGNAL).
// Threads: one thread per client. Movable, not copyable.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace q::test {

class V1Client {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kTimeout{5000};

  struct Reply {
    enum class Kind { kData, kClosed, kTimeout };
    Kind kind = Kind::kTimeout;
    std::string data;
    bool ok() const { return kind == Kind::kData && data == "OK"; }
    bool closed() const { return kind == Kind::kClosed; }
    // For assertion messages.
    std::string Describe() const;
  };

  V1Client() = default;
  ~V1Client();
  V1Client(V1Client&& other) noexcept;
  V1Client& operator=(V1Client&& other) noexcept;
  V1Client(const V1Client&) = delete;
  V1Client& operator=(const V1Client&) = delete;

  // TCP connect to 127.0.0.1:port (no magic sent).
  bool Connect(int port, Duration timeout = kTimeout);
  // "ip:port" of this end, which qlookupd uses as the peer's id and remote_address.
  std::string local_address() const;
  void Close();

  bool Send(std::string_view bytes, Duration timeout = kTimeout);
  // The next reply, or kClosed / kTimeout.
  Reply Read(Duration timeout = kTimeout);
  // Sends line + "\n" and reads the reply.
  Reply Command(std::string_view line);
  // Sends "IDENTIFY\n" + [size][json] and reads the reply.
  Reply Identify(std::string_view json);
  // Connect + magic + IDENTIFY as a qd would, with the given ports; true if the reply is JSON.
  bool ConnectAsQd(int port, int qd_tcp_port, int qd_http_port);
  // True if the peer closes within timeout (nothing else arrives first).
  bool WaitClosed(Duration timeout = kTimeout);

 private:
  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
};

}  // namespace q::test
