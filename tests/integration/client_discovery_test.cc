// The consumer's lookupd discovery, consumer-wide backoff and reconnects after a qd restart,
// against real qd and qlookupd processes.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "q/consumer.h"
#include "q/producer.h"
#include "tests/integration/lookupd_process.h"
#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

std::string TcpAddr(QdProcess& qd) { return "127.0.0.1:" + std::to_string(qd.tcp_port()); }

// Sum of ready_count over the clients of topic/channel on qd (-1 if the channel is missing).
int64_t TotalReady(QdProcess& qd, const std::string& topic, const std::string& channel) {
  httplib::Client cli("127.0.0.1", qd.http_port());
  cli.set_read_timeout(5, 0);
  auto res = cli.Get("/stats?format=json&topic=" + topic);
  if (!res || res->status != 200) return -1;
  json j = json::parse(res->body, nullptr, false);
  if (!j.is_object()) return -1;
  const json* t = FindByName(j["topics"], "topic_name", topic);
  if (!t) return -1;
  const json* c = FindByName((*t)["channels"], "channel_name", channel);
  if (!c || !c->contains("clients")) return -1;
  int64_t sum = 0;
  for (const auto& cl : (*c)["clients"]) sum += Val<int64_t>(cl, "ready_count", 0);
  return sum;
}

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(lookupd_.Start()) << lookupd_.log(); }
  std::unique_ptr<QdProcess> StartQd() {
    auto qd = std::make_unique<QdProcess>(std::vector<std::string>{
        "--lookupd-tcp-address=" + lookupd_.tcp_address(), "--broadcast-address=127.0.0.1"});
    EXPECT_TRUE(qd->Start()) << qd->log();
    return qd;
  }
  // Waits until lookupd lists `producers` qd for topic.
  bool WaitForProducers(const std::string& topic, size_t producers) {
    return WaitFor([&] {
      httplib::Client cli("127.0.0.1", lookupd_.http_port());
      auto res = cli.Get("/lookup?topic=" + topic);
      if (!res || res->status != 200) return false;
      json j = json::parse(res->body, nullptr, false);
      return j.is_object() && j["producers"].is_array() && j["producers"].size() == producers;
    }, 10s);
  }
  LookupdProcess lookupd_;
};

TEST_F(DiscoveryTest, ConsumerFindsAQdThatAppearsLaterAndDoesNotRedialAVanishedOne) {
  auto a = StartQd();
  Producer pa(TcpAddr(*a));
  ASSERT_TRUE(pa.Publish("t", "from-a").get().ok());
  ASSERT_TRUE(WaitForProducers("t", 1));

  Consumer::Options o;
  o.max_in_flight = 10;
  o.lookupd_poll_interval = 200ms;
  std::mutex mu;
  std::set<std::string> bodies;
  Consumer consumer("t", "c", [&](Delivery& m) {
    std::lock_guard lock(mu);
    bodies.insert(m.body());
    return true;
  }, o);
  ASSERT_TRUE(consumer.ConnectToLookupd(lookupd_.http_address()).ok());
  EXPECT_EQ(consumer.stats().connections, 1);

  auto b = StartQd();
  Producer pb(TcpAddr(*b));
  ASSERT_TRUE(pb.Publish("t", "from-b").get().ok());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().connections == 2; }, 10s));
  EXPECT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return bodies == std::set<std::string>{"from-a", "from-b"};
  }, 10s));

  // A goes away: its connection closes, lookupd no longer lists it, nothing redials it.
  pa.Stop();
  ASSERT_TRUE(a->Stop());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().connections == 1; }, 10s));
  ASSERT_TRUE(WaitForProducers("t", 1));
  std::this_thread::sleep_for(600ms);  // three poll rounds: A must stay gone
  EXPECT_EQ(consumer.stats().connections, 1);
  ASSERT_TRUE(pb.Publish("t", "from-b-again").get().ok());
  EXPECT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return bodies.count("from-b-again") == 1;
  }, 10s));
  consumer.Stop();
}

TEST_F(DiscoveryTest, UnknownTopicIsNotAnErrorAndUnreachableLookupdIs) {
  Consumer::Options o;
  o.lookupd_poll_interval = 200ms;
  Consumer consumer("nobody-has-it", "c", [](Delivery&) { return true; }, o);
  EXPECT_TRUE(consumer.ConnectToLookupd(lookupd_.http_address()).ok());
  EXPECT_EQ(consumer.stats().connections, 0);
  // Later: a qd registers the topic and the poll finds it.
  auto a = StartQd();
  Producer pa(TcpAddr(*a));
  ASSERT_TRUE(pa.Publish("nobody-has-it", "x").get().ok());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().connections == 1; }, 10s));

  Consumer other("t", "c", [](Delivery&) { return true; });
  Status s = other.ConnectToLookupd("127.0.0.1:1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s.message();
  consumer.Stop();
  other.Stop();
}

class BackoffTest : public QdFixture {};

// One message fails twice then succeeds; ready_count on qd must go 5 → 0 (pause) → 1 (probe)
// → ... and back to 5 only after enough successes.
TEST_F(BackoffTest, FailuresPauseAllRdyThenProbeWithOneAndSuccessesRestoreIt) {
  Consumer::Options o;
  o.max_in_flight = 5;
  o.requeue_delay = 0ms;
  o.backoff_multiplier = 150ms;  // pauses of 150-300 ms, then 300-600 ms
  o.max_backoff_duration = 5000ms;
  std::atomic<int> calls{0};
  Consumer consumer("t", "c", [&](Delivery& m) {
    ++calls;
    return m.body() != "m1" || m.attempts() >= 3;
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd("127.0.0.1:" + std::to_string(qd_->tcp_port())).ok());
  ASSERT_TRUE(WaitFor([&] { return TotalReady(*qd_, "t", "c") == 5; }, 5s));

  // Sample qd's view of RDY: the distinct values in the order seen.
  std::atomic<bool> sampling{true};
  std::mutex seen_mu;
  std::vector<int64_t> seen;
  std::thread sampler([&] {
    while (sampling) {
      int64_t r = TotalReady(*qd_, "t", "c");
      std::lock_guard lock(seen_mu);
      if (seen.empty() || seen.back() != r) seen.push_back(r);
      std::this_thread::sleep_for(5ms);
    }
  });
  Producer p("127.0.0.1:" + std::to_string(qd_->tcp_port()));
  ASSERT_TRUE(p.Publish("t", "m1").get().ok());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().finished == 1; }, 10s));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(consumer.stats().requeued, 2u);
  // The success at level 2 leaves level 1: one more pause, then a probe that waits for work.
  EXPECT_TRUE(WaitFor([&] {
    auto s = consumer.stats();
    return s.backoff_level == 1 && !s.backoff_paused && TotalReady(*qd_, "t", "c") == 1;
  }, 5s));
  // The sampler must have seen the probe too before m2 ends it.
  EXPECT_TRUE(WaitFor([&] { std::lock_guard l(seen_mu); return seen.back() == 1; }, 5s));
  ASSERT_TRUE(p.Publish("t", "m2").get().ok());
  EXPECT_TRUE(WaitFor([&] { return TotalReady(*qd_, "t", "c") == 5; }, 5s));
  EXPECT_EQ(consumer.stats().backoff_level, 0);
  EXPECT_TRUE(WaitFor([&] { std::lock_guard l(seen_mu); return seen.back() == 5; }, 5s));
  sampling = false;
  sampler.join();
  // 5, then the pause (0) and the probe (1) before anything else, and 5 again at the end.
  ASSERT_GE(seen.size(), 3u) << ::testing::PrintToString(seen);
  EXPECT_EQ(seen.front(), 5);
  EXPECT_EQ(seen.back(), 5);
  auto zero = std::find(seen.begin(), seen.end(), 0);
  ASSERT_NE(zero, seen.end()) << ::testing::PrintToString(seen);
  EXPECT_NE(std::find(zero, seen.end(), 1), seen.end()) << ::testing::PrintToString(seen);
  for (int64_t r : seen) EXPECT_TRUE(r == 0 || r == 1 || r == 5) << r;
  consumer.Stop();
}

TEST_F(BackoffTest, RequeueWithoutBackoffKeepsFullRdy) {
  Consumer::Options o;
  o.max_in_flight = 4;
  std::atomic<int> calls{0};
  Consumer consumer("t", "c", [&](Delivery& m) {
    if (++calls == 1) m.RequeueWithoutBackoff(0ms);
    return true;
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd("127.0.0.1:" + std::to_string(qd_->tcp_port())).ok());
  Producer p("127.0.0.1:" + std::to_string(qd_->tcp_port()));
  ASSERT_TRUE(p.Publish("t", "m").get().ok());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().finished == 1; }, 10s));
  EXPECT_EQ(consumer.stats().backoff_level, 0);
  EXPECT_EQ(TotalReady(*qd_, "t", "c"), 4);
  consumer.Stop();
}

// qd restarts on the same ports: the producer's next publishes and the consumer's redial
// reconnect by themselves.
TEST(ReconnectTest, ProducerAndConsumerReconnectAfterQdRestart) {
  auto first = std::make_unique<QdProcess>();
  ASSERT_TRUE(first->Start()) << first->log();
  int tcp = first->tcp_port();
  std::string addr = "127.0.0.1:" + std::to_string(tcp);
  Producer::Options po;
  po.reconnect_backoff_min = 50ms;
  po.reconnect_backoff_max = 200ms;
  Producer producer(addr, po);
  Consumer::Options co;
  co.reconnect_backoff_min = 50ms;
  co.reconnect_backoff_max = 200ms;
  std::mutex mu;
  std::set<std::string> bodies;
  Consumer consumer("t", "c", [&](Delivery& m) {
    std::lock_guard lock(mu);
    bodies.insert(m.body());
    return true;
  }, co);
  ASSERT_TRUE(consumer.ConnectToQd(addr).ok());
  ASSERT_TRUE(producer.Publish("t", "before").get().ok());
  ASSERT_TRUE(WaitFor([&] { std::lock_guard l(mu); return bodies.count("before") == 1; }, 10s));

  ASSERT_TRUE(first->Stop());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().connections == 0; }, 10s));
  // The port just released may be taken by another test's port-0 bind; retry a little (as
  // LookupdProcess does).
  std::unique_ptr<QdProcess> second;
  for (int attempt = 0; attempt < 5; ++attempt) {
    second = std::make_unique<QdProcess>(
        QD_BINARY,
        std::vector<std::string>{"--tcp-address=" + addr, "--http-address=127.0.0.1:0",
                                 "--data-path=" + first->data_path()},
        std::vector<std::string>{});
    if (second->Start()) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(second->IsRunning()) << second->log();
  // The first publish after the restart may fail on the dead connection; a later one succeeds.
  EXPECT_TRUE(WaitFor([&] { return producer.Publish("t", "after").get().ok(); }, 10s, 100ms));
  EXPECT_TRUE(WaitFor([&] { std::lock_guard l(mu); return bodies.count("after") == 1; }, 10s));
  EXPECT_EQ(consumer.stats().connections, 1);
  consumer.Stop();
  producer.Stop();
  EXPECT_TRUE(second->Stop());
}

}  // namespace
}  // namespace q::test
