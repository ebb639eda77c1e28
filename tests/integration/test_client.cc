#include "tests/integration/test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/byte_order.h"

namespace q::test {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(left.count());
}

std::string Printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

// ---- Frame ----

bool Frame::IsResponse(std::string_view text) const {
  return is_frame() && type == wire::FrameType::kResponse && data == text;
}

std::string Frame::ErrorCode() const {
  if (!IsError()) return "";
  return data.substr(0, data.find(' '));
}

std::optional<ReceivedMessage> Frame::AsMessage() const {
  if (!IsMessage()) return std::nullopt;
  auto m = wire::DecodeMessage(data);
  if (!m) return std::nullopt;
  ReceivedMessage out;
  out.timestamp = m->timestamp;
  out.attempts = m->attempts;
  out.id = std::string(m->id.view());
  out.body = std::string(m->body);
  return out;
}

std::string Frame::Describe() const {
  switch (kind) {
    case Kind::kClosed:
      return "<connection closed>";
    case Kind::kTimeout:
      return "<timeout: no frame>";
    case Kind::kFrame:
      break;
  }
  switch (type) {
    case wire::FrameType::kResponse:
      return "response \"" + Printable(data) + "\"";
    case wire::FrameType::kError:
      return "error \"" + Printable(data) + "\"";
    case wire::FrameType::kTxCheck:
      return "check-back (" + std::to_string(data.size()) + " bytes)";
    case wire::FrameType::kMessage: {
      auto m = AsMessage();
      if (!m) return "malformed message frame (" + std::to_string(data.size()) + " bytes)";
      return "message id=" + Printable(m->id) + " attempts=" + std::to_string(m->attempts) +
             " body=\"" + Printable(m->body, 64) + "\"";
    }
  }
  return "frame of unknown type " + std::to_string(static_cast<int32_t>(type)) + " \"" +
         Printable(data) + "\"";
}

::testing::AssertionResult IsResponse(const Frame& f, std::string_view text) {
  if (f.IsResponse(text)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected response \"" << text << "\", got " << f.Describe();
}

::testing::AssertionResult IsError(const Frame& f, std::string_view code) {
  if (f.IsError() && f.ErrorCode() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected error " << code << ", got " << f.Describe();
}

::testing::AssertionResult IsMessage(const Frame& f) {
  if (f.IsMessage() && f.AsMessage()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected a message frame, got " << f.Describe();
}

std::string BE32(uint32_t v) {
  std::string s;
  AppendBE32(s, v);
  return s;
}

std::string EncodeMpubBody(const std::vector<std::string>& bodies) {
  std::string out;
  AppendBE32(out, static_cast<uint32_t>(bodies.size()));
  for (const auto& b : bodies) {
    AppendBE32(out, static_cast<uint32_t>(b.size()));
    out += b;
  }
  return out;
}

// ---- TestClient ----

TestClient::~TestClient() { Close(); }

TestClient::TestClient(TestClient&& other) noexcept
    : fd_(other.fd_), in_(std::move(other.in_)), eof_(other.eof_) {
  other.fd_ = -1;
}

TestClient& TestClient::operator=(TestClient&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    in_ = std::move(other.in_);
    eof_ = other.eof_;
    other.fd_ = -1;
  }
  return *this;
}

void TestClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  in_.clear();
  eof_ = false;
}

bool TestClient::Connect(int port, Duration timeout) {
  Close();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      close(fd);
      return false;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return false;
    }
  }
  fd_ = fd;
  return true;
}

bool TestClient::SendMagic() { return Send(wire::kMagicV2); }

bool TestClient::Send(std::string_view bytes, Duration timeout) {
  if (fd_ < 0) return false;
  auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int left = MillisLeft(deadline);
      if (left == 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      int r = poll(&p, 1, left);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      if (p.revents & (POLLERR | POLLHUP)) return false;
      continue;
    }
    return false;  // EPIPE, ECONNRESET, ...
  }
  return true;
}

bool TestClient::Command(std::string_view line) {
  std::string buf(line);
  buf += '\n';
  return Send(buf);
}

bool TestClient::CommandWithBody(std::string_view line, std::string_view body) {
  std::string buf(line);
  buf += '\n';
  AppendBE32(buf, static_cast<uint32_t>(body.size()));
  buf.append(body);
  return Send(buf);
}

Frame TestClient::ReadFrame(Duration timeout, bool skip_heartbeats) {
  auto deadline = Clock::now() + timeout;
  Frame out;
  while (true) {
    size_t consumed = 0;
    if (auto f = wire::ParseFrame(in_, &consumed)) {
      out.kind = Frame::Kind::kFrame;
      out.type = f->type;
      out.data = std::string(f->data);
      in_.erase(0, consumed);
      if (skip_heartbeats && out.IsHeartbeat()) {
        Nop();
        out = Frame{};
        continue;
      }
      return out;
    }
    if (fd_ < 0 || eof_) {
      out.kind = Frame::Kind::kClosed;
      return out;
    }
    int left = MillisLeft(deadline);
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      out.kind = Frame::Kind::kTimeout;
      return out;
    }
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    eof_ = true;  // 0 = orderly close; <0 = reset or other error
  }
}

::testing::AssertionResult TestClient::ExpectClosed(Duration timeout) {
  Frame f = ReadFrame(timeout);
  if (f.closed()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected the connection to be closed, got " << f.Describe();
}

::testing::AssertionResult TestClient::ExpectNoFrame(Duration duration) {
  Frame f = ReadFrame(duration);
  if (f.timed_out()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected no frame for " << duration.count() << " ms, got " << f.Describe();
}

::testing::AssertionResult TestClient::ReadMessage(ReceivedMessage* out, Duration timeout) {
  Frame f = ReadFrame(timeout);
  auto m = f.AsMessage();
  if (!m) return ::testing::AssertionFailure() << "expected a message, got " << f.Describe();
  *out = std::move(*m);
  return ::testing::AssertionSuccess();
}

Frame TestClient::Identify(std::string_view json) {
  CommandWithBody("IDENTIFY", json);
  return ReadFrame();
}

Frame TestClient::Sub(std::string_view topic, std::string_view channel) {
  Command("SUB " + std::string(topic) + " " + std::string(channel));
  return ReadFrame();
}

Frame TestClient::Pub(std::string_view topic, std::string_view body) {
  CommandWithBody("PUB " + std::string(topic), body);
  return ReadFrame();
}

Frame TestClient::Mpub(std::string_view topic, const std::vector<std::string>& bodies) {
  CommandWithBody("MPUB " + std::string(topic), EncodeMpubBody(bodies));
  return ReadFrame();
}

Frame TestClient::Dpub(std::string_view topic, int64_t defer_ms, std::string_view body) {
  CommandWithBody("DPUB " + std::string(topic) + " " + std::to_string(defer_ms), body);
  return ReadFrame();
}

Frame TestClient::Cls() {
  Command("CLS");
  return ReadFrame();
}

bool TestClient::Rdy(int64_t count) { return Command("RDY " + std::to_string(count)); }
bool TestClient::Fin(std::string_view id) { return Command("FIN " + std::string(id)); }
bool TestClient::Req(std::string_view id, int64_t timeout_ms) {
  return Command("REQ " + std::string(id) + " " + std::to_string(timeout_ms));
}
bool TestClient::Touch(std::string_view id) { return Command("TOUCH " + std::string(id)); }
bool TestClient::Nop() { return Command("NOP"); }

}  // namespace q::test
