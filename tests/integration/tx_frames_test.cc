// TransactionProducer against a scripted fake qd on loopback: frame orders a real qd produces
// only by chance — a check-back frame (type 3) and a heartbeat arriving between a TXPUB and
// its OK — must not be taken for the answer, and each must be handled.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/byte_order.h"
#include "q/transaction_producer.h"

namespace q::test {
namespace {

// One accepted connection read with a 5s timeout per recv (a stuck test fails, never hangs).
class FakeConn {
 public:
  explicit FakeConn(int fd) : fd_(fd) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~FakeConn() { close(fd_); }

  bool Read(size_t n, std::string* out) {
    while (buf_.size() < n) {
      char tmp[4096];
      ssize_t r = recv(fd_, tmp, sizeof(tmp), 0);
      if (r <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(r));
    }
    *out = buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }
  bool ReadLine(std::string* line) {
    while (buf_.find('\n') == std::string::npos) {
      char tmp[4096];
      ssize_t r = recv(fd_, tmp, sizeof(tmp), 0);
      if (r <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(r));
    }
    size_t nl = buf_.find('\n');
    *line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    return true;
  }
  // [4-byte size][data], as IDENTIFY and TXPUB bodies are sent.
  bool ReadSized(std::string* data) {
    std::string size;
    return Read(4, &size) && Read(LoadBE32(size.data()), data);
  }
  void SendFrame(int32_t type, std::string_view data) {
    std::string out;
    AppendBE32(out, static_cast<uint32_t>(4 + data.size()));
    AppendBE32(out, static_cast<uint32_t>(type));
    out.append(data);
    ASSERT_EQ(send(fd_, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
  }

 private:
  int fd_;
  std::string buf_;
};

class FakeQd {
 public:
  FakeQd() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listen_fd_, 4);
    socklen_t len = sizeof(a);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{5, 0};
    setsockopt(listen_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));  // bounds accept()
  }
  ~FakeQd() { close(listen_fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Accepts one client and answers its magic and IDENTIFY (echoing tx_group).
  std::unique_ptr<FakeConn> Accept(std::string* tx_group) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return nullptr;
    auto c = std::make_unique<FakeConn>(fd);
    std::string magic, line, json;
    if (!c->Read(4, &magic) || magic != "  V2" || !c->ReadLine(&line) || line != "IDENTIFY" ||
        !c->ReadSized(&json)) {
      return nullptr;
    }
    auto j = nlohmann::json::parse(json, nullptr, false);
    *tx_group = j.value("tx_group", "");
    c->SendFrame(0, nlohmann::json{{"tx_group", *tx_group}, {"max_rdy_count", 2500}}.dump());
    return c;
  }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
};

std::string CheckBackPayload(std::string_view topic, std::string_view txid, uint16_t checks,
                             std::string_view body) {
  std::string p;
  AppendBE16(p, static_cast<uint16_t>(topic.size()));
  p.append(topic);
  AppendBE16(p, static_cast<uint16_t>(txid.size()));
  p.append(txid);
  AppendBE16(p, checks);
  AppendBE64(p, 1764133700000000000ull);
  p.append("0123456789abcdef");
  p.append(body);
  return p;
}

TEST(TxFrames, CheckBackAndHeartbeatBetweenTxpubAndItsOkAreNotTheAnswer) {
  FakeQd qd;
  TransactionProducer::Options o;
  o.command_timeout = std::chrono::seconds(5);
  std::vector<CheckBack> checks;
  std::mutex mu;
  TransactionProducer producer(qd.address(), "orders-svc", [&](const CheckBack& c) {
    std::lock_guard lock(mu);
    checks.push_back(c);
    return TransactionState::kRollback;
  }, o);

  std::vector<std::string> lines;  // what the fake saw after IDENTIFY
  std::string group, txpub_body;
  std::thread server([&] {
    std::string group_seen;
    auto c = qd.Accept(&group_seen);
    ASSERT_TRUE(c) << "no client or bad handshake";
    group = group_seen;
    std::string line;
    ASSERT_TRUE(c->ReadLine(&line));
    lines.push_back(line);
    ASSERT_TRUE(c->ReadSized(&txpub_body));
    // Before the OK: a check-back for an older half message and a heartbeat.
    c->SendFrame(3, CheckBackPayload("orders", "o-old", 4, "old body"));
    c->SendFrame(0, "_heartbeat_");
    c->SendFrame(0, "OK");
    // Now, in some order: NOP (heartbeat), TXROLLBACK o-old (check answer), TXCOMMIT o-1.
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c->ReadLine(&line)) << "after " << i << " lines";
      lines.push_back(line);
      if (line != "NOP") c->SendFrame(0, "OK");
    }
  });
  auto r = producer.Send("orders", "new body",
                         [](const std::string&) { return TransactionState::kCommit; }, "o-1");
  server.join();
  EXPECT_EQ(r.outcome, TransactionProducer::Outcome::kCommitted) << r.status.message();
  EXPECT_EQ(group, "orders-svc");
  EXPECT_EQ(txpub_body, "new body");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "TXPUB orders o-1");
  std::vector<std::string> rest(lines.begin() + 1, lines.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (std::vector<std::string>{"NOP", "TXCOMMIT orders o-1", "TXROLLBACK orders o-old"}));
  std::lock_guard lock(mu);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].txid, "o-old");
  EXPECT_EQ(checks[0].checks, 4);
  EXPECT_EQ(checks[0].body, "old body");
}

TEST(TxFrames, LostAnswerIsRetriedOnANewConnection) {
  FakeQd qd;
  TransactionProducer::Options o;
  o.command_timeout = std::chrono::seconds(5);
  o.reconnect_backoff_min = std::chrono::milliseconds(10);
  TransactionProducer producer(qd.address(), "orders-svc", nullptr, o);
  std::vector<std::string> lines;
  std::thread server([&] {
    std::string group, body, line;
    {
      // The first connection dies after reading the TXPUB, before answering it.
      auto c = qd.Accept(&group);
      ASSERT_TRUE(c);
      ASSERT_TRUE(c->ReadLine(&line));
      lines.push_back(line);
      ASSERT_TRUE(c->ReadSized(&body));
    }
    auto c = qd.Accept(&group);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->ReadLine(&line));  // the same TXPUB again (idempotent in qd)
    lines.push_back(line);
    ASSERT_TRUE(c->ReadSized(&body));
    c->SendFrame(0, "OK");
    ASSERT_TRUE(c->ReadLine(&line));
    lines.push_back(line);
    c->SendFrame(1, "E_TX_DECIDED TXROLLBACK o-2 was committed");
  });
  auto r = producer.Send("orders", "b", [](const std::string&) { return TransactionState::kRollback; },
                         "o-2");
  server.join();
  EXPECT_EQ(r.outcome, TransactionProducer::Outcome::kRefused);
  EXPECT_EQ(r.status.message(), "TXROLLBACK: E_TX_DECIDED TXROLLBACK o-2 was committed");
  EXPECT_EQ(lines, (std::vector<std::string>{"TXPUB orders o-2", "TXPUB orders o-2",
                                             "TXROLLBACK orders o-2"}));
}

TEST(TxFrames, QdWithoutTransactionsIsReportedAtConnect) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  listen(fd, 4);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::thread server([&] {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(c, 0);
    FakeConn conn(c);
    std::string magic, line, json;
    ASSERT_TRUE(conn.Read(4, &magic) && conn.ReadLine(&line) && conn.ReadSized(&json));
    conn.SendFrame(0, R"({"max_rdy_count":2500})");  // an older qd: no tx_group echoed
  });
  TransactionProducer::Options o;
  o.reconnect_backoff_min = std::chrono::seconds(5);  // one attempt within the test
  o.command_timeout = std::chrono::seconds(1);
  TransactionProducer producer(address, "orders-svc", nullptr, o);
  auto r = producer.Send("orders", "b", [](const std::string&) { return TransactionState::kCommit; });
  server.join();
  close(fd);
  EXPECT_EQ(r.outcome, TransactionProducer::Outcome::kNotPublished);
  EXPECT_EQ(r.status.message(),
            "TXPUB: timed out waiting for a connection (connect " + address +
                ": IDENTIFY: qd did not accept tx_group (no transaction support?))");
}

}  // namespace
}  // namespace q::test
