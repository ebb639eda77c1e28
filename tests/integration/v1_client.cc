#include "tests/integration/v1_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/byte_order.h"

namespace q::test {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

}  // namespace

std::string V1Client::Reply::Describe() const {
  switch (kind) {
    case Kind::kClosed: return "<connection closed>";
    case Kind::kTimeout: return "<timeout: no reply>";
    case Kind::kData: break;
  }
  return "\"" + data + "\"";
}

V1Client::~V1Client() { Close(); }

V1Client::V1Client(V1Client&& other) noexcept : fd_(other.fd_), in_(std::move(other.in_)), eof_(other.eof_) {
  other.fd_ = -1;
}

V1Client& V1Client::operator=(V1Client&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    in_ = std::move(other.in_);
    eof_ = other.eof_;
    other.fd_ = -1;
  }
  return *this;
}

bool V1Client::Connect(int port, Duration timeout) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return Close(), false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return Close(), false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Close(), false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  in_.clear();
  eof_ = false;
  return true;
}

std::string V1Client::local_address() const {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
}

void V1Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool V1Client::Send(std::string_view bytes, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, MillisLeft(deadline)) <= 0) return false;
  }
  return true;
}

V1Client::Reply V1Client::Read(Duration timeout) {
  auto deadline = Clock::now() + timeout;
  Reply r;
  while (true) {
    if (in_.size() >= 4) {
      uint32_t size = LoadBE32(in_.data());
      if (in_.size() >= 4 + size) {
        r.kind = Reply::Kind::kData;
        r.data = in_.substr(4, size);
        in_.erase(0, 4 + size);
        return r;
      }
    }
    if (eof_ || fd_ < 0) {
      r.kind = Reply::Kind::kClosed;
      return r;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, MillisLeft(deadline));
    if (ready == 0) return r;  // timeout
    if (ready < 0 && errno != EINTR) {
      eof_ = true;
      continue;
    }
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      eof_ = true;
    }
  }
}

V1Client::Reply V1Client::Command(std::string_view line) {
  if (!Send(std::string(line) + "\n")) return Reply{Reply::Kind::kClosed, ""};
  return Read();
}

V1Client::Reply V1Client::Identify(std::string_view json) {
  std::string bytes = "IDENTIFY\n";
  AppendBE32(bytes, static_cast<uint32_t>(json.size()));
  bytes.append(json);
  if (!Send(bytes)) return Reply{Reply::Kind::kClosed, ""};
  return Read();
}

bool V1Client::ConnectAsQd(int port, int qd_tcp_port, int qd_http_port) {
  if (!Connect(port) || !Send("  V1")) return false;
  nlohmann::json body = {{"version", "1.3.0"},         {"tcp_port", qd_tcp_port},
                         {"http_port", qd_http_port},  {"hostname", "test-host"},
                         {"broadcast_address", "127.0.0.1"}, {"topology_zone", ""},
                         {"topology_region", ""}};
  Reply r = Identify(body.dump());
  return r.kind == Reply::Kind::kData && !nlohmann::json::parse(r.data, nullptr, false).is_discarded();
}

bool V1Client::WaitClosed(Duration timeout) {
  Reply r = Read(timeout);
  return r.closed();
}

}  // namespace q::test
