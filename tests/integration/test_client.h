// TestClient: a blocking raw-socket V2 client for integration tests.
//
// Promise: every call is bounded in time. The socket is non-blocking; sends and reads wait
// with poll() against a deadline (kDefaultTimeout unless given), so a silent or wedged qd
// makes a test fail, never hang. A peer close (EOF or reset) is reported as a value
// (Frame::Kind::kClosed), not an error; SIGPIPE is never raised (MSG_NOSIGNAL).
// Frames are decoded with the shared codec in common/wire.h.
//
// Threads: one thread per client. Not copyable; movable.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire.h"

namespace q::test {

inline constexpr std::chrono::milliseconds kDefaultTimeout{5000};

// A decoded message frame (owning copies of the id and body).
struct ReceivedMessage {
  int64_t timestamp = 0;
  uint16_t attempts = 0;
  std::string id;
  std::string body;
};

// One read result: a frame, the peer closed the connection, or nothing arrived in time.
struct Frame {
  enum class Kind { kFrame, kClosed, kTimeout };
  Kind kind = Kind::kTimeout;
  wire::FrameType type = wire::FrameType::kResponse;
  std::string data;

  bool is_frame() const { return kind == Kind::kFrame; }
  bool closed() const { return kind == Kind::kClosed; }
  bool timed_out() const { return kind == Kind::kTimeout; }
  bool IsResponse(std::string_view text) const;
  bool IsHeartbeat() const { return IsResponse(wire::kHeartbeat); }
  bool IsError() const { return is_frame() && type == wire::FrameType::kError; }
  bool IsMessage() const { return is_frame() && type == wire::FrameType::kMessage; }
  // First word of an error frame ("E_INVALID"), "" otherwise.
  std::string ErrorCode() const;
  std::optional<ReceivedMessage> AsMessage() const;
  // Human-readable, for assertion messages.
  std::string Describe() const;
};

// gtest predicates with descriptive failures.
::testing::AssertionResult IsResponse(const Frame& f, std::string_view text);
inline ::testing::AssertionResult IsOk(const Frame& f) { return IsResponse(f, wire::kOk); }
// An error frame whose code (first word) is exactly code.
::testing::AssertionResult IsError(const Frame& f, std::string_view code);
::testing::AssertionResult IsMessage(const Frame& f);

// Body of an MPUB command (without the outer size): [count][size][bytes]...
std::string EncodeMpubBody(const std::vector<std::string>& bodies);
// A 4-byte big-endian size prefix.
std::string BE32(uint32_t v);

class TestClient {
 public:
  using Duration = std::chrono::milliseconds;

  TestClient() = default;
  ~TestClient();
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // TCP connect to 127.0.0.1:port.
  bool Connect(int port, Duration timeout = kDefaultTimeout);
  // Sends "  V2".
  bool SendMagic();
  // Connect + SendMagic.
  bool ConnectV2(int port) { return Connect(port) && SendMagic(); }
  bool connected() const { return fd_ >= 0; }
  void Close();

  // Writes all bytes before the deadline. false if the peer is gone or the deadline passed.
  bool Send(std::string_view bytes, Duration timeout = kDefaultTimeout);
  // line + "\n".
  bool Command(std::string_view line);
  // line + "\n" + [4-byte size][body].
  bool CommandWithBody(std::string_view line, std::string_view body);

  // The next frame, kClosed on EOF/reset, kTimeout if none arrived in time. With
  // skip_heartbeats, _heartbeat_ frames are answered with NOP and skipped.
  Frame ReadFrame(Duration timeout = kDefaultTimeout, bool skip_heartbeats = true);
  // Success iff the peer closes the connection within timeout with no frame other than
  // heartbeats arriving first.
  ::testing::AssertionResult ExpectClosed(Duration timeout = kDefaultTimeout);
  // Success iff no frame (other than heartbeats) arrives and the connection stays open for
  // the whole duration. This is a fixed wait by nature; keep durations short.
  ::testing::AssertionResult ExpectNoFrame(Duration duration);
  // Reads the next message frame (failing on anything else) into *out.
  ::testing::AssertionResult ReadMessage(ReceivedMessage* out, Duration timeout = kDefaultTimeout);

  // Command helpers. Those returning Frame read the reply; the others send only (the
  // command has no success response).
  Frame Identify(std::string_view json);
  Frame Sub(std::string_view topic, std::string_view channel);
  Frame Pub(std::string_view topic, std::string_view body);
  Frame Mpub(std::string_view topic, const std::vector<std::string>& bodies);
  Frame Dpub(std::string_view topic, int64_t defer_ms, std::string_view body);
  Frame Cls();
  bool Rdy(int64_t count);
  bool Fin(std::string_view id);
  bool Req(std::string_view id, int64_t timeout_ms);
  bool Touch(std::string_view id);
  bool Nop();

 private:
  int fd_ = -1;
  std::string in_;  // bytes received but not yet returned as frames
  bool eof_ = false;
};

}  // namespace q::test
