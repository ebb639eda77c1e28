// --statsd-address: qd pushes nsqd-named metrics over UDP; a UDP socket in the test listens.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

class UdpListener {
 public:
  UdpListener() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~UdpListener() { ::close(fd_); }
  int port() const { return port_; }
  // Collects datagrams until the text received after offset `from` contains `needle` or the
  // deadline passes; returns all text received so far.
  std::string ReceiveUntil(const std::string& needle, std::chrono::milliseconds deadline, size_t from = 0) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      packets_.emplace_back(buf, static_cast<size_t>(n));
      all_ += packets_.back() + "\n";
      if (all_.find(needle, from) != std::string::npos) break;
    }
    return all_;
  }
  const std::vector<std::string>& packets() const { return packets_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::string all_;
  std::vector<std::string> packets_;
};

class StatsdTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--statsd-address=127.0.0.1:" + std::to_string(udp_.port()), "--statsd-interval=100ms",
            "--statsd-prefix=qtest.%s", "--statsd-udp-packet-size=200", "--broadcast-address=host.example"};
  }
  UdpListener udp_;
};

TEST_F(StatsdTest, PushesTopicAndChannelMetricsWithNsqdNames) {
  ASSERT_TRUE(Post("/topic/create?topic=clicks"));
  ASSERT_TRUE(Post("/channel/create?topic=clicks&channel=archive"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Post("/pub?topic=clicks", "x"));
  std::string prefix = "qtest.host_example_" + std::to_string(qd_->http_port()) + ".";
  std::string text = udp_.ReceiveUntil(prefix + "topic.clicks.channel.archive.depth:3|g", 10000ms);
  // The memory gauge closes each push: wait for the rest of this one.
  text = udp_.ReceiveUntil(prefix + "mem.heap_in_use_bytes:", 10000ms, text.find("archive.depth:3|g"));
  EXPECT_NE(text.find(prefix + "topic.clicks.channel.archive.depth:3|g"), std::string::npos) << text;
  EXPECT_NE(text.find(prefix + "topic.clicks.depth:0|g"), std::string::npos) << text;
  EXPECT_NE(text.find(prefix + "topic.clicks.channel.archive.in_flight_count:0|g"), std::string::npos) << text;
  EXPECT_NE(text.find(prefix + "mem.heap_in_use_bytes:"), std::string::npos) << text;
  // Counters are deltas: the 3 publishes are counted once, later pushes say 0.
  int64_t counted = 0;
  std::string needle = prefix + "topic.clicks.message_count:";
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    counted += std::stoll(text.substr(at + needle.size()));
  EXPECT_EQ(counted, 3) << text;
  for (const auto& p : udp_.packets()) EXPECT_LE(p.size(), 200u) << "datagram over --statsd-udp-packet-size";
}

}  // namespace
}  // namespace q::test
