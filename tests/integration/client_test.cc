// The client library (Producer, Consumer) and qctl against a real qd.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "q/consumer.h"
#include "q/producer.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/received_bodies.h"

namespace q::test {
namespace {

class ClientTest : public QdFixture {
 protected:
  std::string Addr() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }
};

TEST_F(ClientTest, PubMpubDpubEachReceivedExactlyOnce) {
  Producer producer(Addr());
  std::vector<std::future<Status>> results;
  int n = 0;
  for (int i = 0; i < 400; ++i) results.push_back(producer.Publish("t", "m" + std::to_string(n++)));
  for (int b = 0; b < 50; ++b) {
    std::vector<std::string> batch;
    for (int i = 0; i < 10; ++i) batch.push_back("m" + std::to_string(n++));
    results.push_back(producer.MultiPublish("t", batch));
  }
  for (int i = 0; i < 100; ++i) {
    results.push_back(producer.DeferredPublish("t", 100ms, "m" + std::to_string(n++)));
  }
  ASSERT_TRUE(AllPublished(results, 10s));

  ReceivedBodies got;
  Consumer::Options o;
  o.max_in_flight = 50;
  o.concurrency = 4;
  Consumer consumer("t", "c", [&](Delivery& m) { return got.Add(m.body()); }, o);
  Status s = consumer.ConnectToQd(Addr());
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::string> all;
  for (int i = 0; i < 1000; ++i) all.push_back("m" + std::to_string(i));
  EXPECT_TRUE(got.WaitForBodies(all, 20s)) << got.distinct();
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  consumer.Stop();
  EXPECT_EQ(got.duplicates(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got.count(all[i]), 1) << i;
  EXPECT_EQ(consumer.stats().finished, 1000u);
  EXPECT_EQ(consumer.stats().requeued, 0u);
  json c = ChannelStats("t", "c");
  EXPECT_EQ(Val<int64_t>(c, "depth", -1), 0);
  EXPECT_EQ(Val<int64_t>(c, "requeue_count", -1), 0);
}

TEST_F(ClientTest, TwoConsumersShareAChannelWithoutDuplicates) {
  ReceivedBodies got;
  std::atomic<int> per[2] = {0, 0};
  Consumer::Options o;
  o.max_in_flight = 5;
  Consumer a("t", "shared", [&](Delivery& m) { ++per[0]; return got.Add(m.body()); }, o);
  Consumer b("t", "shared", [&](Delivery& m) { ++per[1]; return got.Add(m.body()); }, o);
  ASSERT_TRUE(a.ConnectToQd(Addr()).ok());
  ASSERT_TRUE(b.ConnectToQd(Addr()).ok());
  Producer producer(Addr());
  std::vector<std::string> bodies;
  for (int i = 0; i < 500; ++i) bodies.push_back(std::to_string(i));
  ASSERT_TRUE(producer.MultiPublish("t", bodies).get().ok());
  EXPECT_TRUE(got.WaitForBodies(bodies, 20s)) << got.distinct();
  a.Stop();
  b.Stop();
  EXPECT_EQ(got.duplicates(), 0u);
  EXPECT_EQ(per[0] + per[1], 500);
  std::cout << "[ info ] consumer a got " << per[0] << ", b got " << per[1] << "\n";
}

TEST_F(ClientTest, HandlerFailureRequeuesAndRedeliversWithAttemptsTwo) {
  std::mutex mu;
  std::vector<int> attempts;
  Consumer::Options o;
  o.requeue_delay = 0ms;
  Consumer consumer("t", "c", [&](Delivery& m) {
    std::lock_guard lock(mu);
    attempts.push_back(m.attempts());
    return m.attempts() >= 2;  // fail the first delivery
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd(Addr()).ok());
  Producer producer(Addr());
  ASSERT_TRUE(producer.Publish("t", "retry me").get().ok());
  EXPECT_TRUE(WaitFor([&] { return consumer.stats().finished == 1; }, 10s));
  consumer.Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2}));
  EXPECT_EQ(consumer.stats().requeued, 1u);
  EXPECT_EQ(Val<int64_t>(ChannelStats("t", "c"), "requeue_count", -1), 1);
}

TEST_F(ClientTest, MaxInFlightBoundsConcurrentHandlers) {
  constexpr int kMaxInFlight = 3;
  std::atomic<int> running{0}, peak{0}, done{0};
  Consumer::Options o;
  o.max_in_flight = kMaxInFlight;
  o.concurrency = 8;  // more threads than max_in_flight: RDY must be the limit
  Consumer consumer("t", "c", [&](Delivery&) {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(5ms);  // simulated work, so handlers overlap
    --running;
    ++done;
    return true;
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd(Addr()).ok());
  Producer producer(Addr());
  std::vector<std::string> bodies(100, "x");
  ASSERT_TRUE(producer.MultiPublish("t", bodies).get().ok());
  EXPECT_TRUE(WaitFor([&] { return done == 100; }, 20s)) << done;
  consumer.Stop();
  EXPECT_LE(peak.load(), kMaxInFlight);
  EXPECT_GE(peak.load(), 1);
}

TEST_F(ClientTest, HandlerConcurrencyBoundsConcurrentHandlers) {
  std::atomic<int> running{0}, peak{0}, done{0};
  Consumer::Options o;
  o.max_in_flight = 50;
  o.concurrency = 2;
  Consumer consumer("t", "c", [&](Delivery&) {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(2ms);
    --running;
    ++done;
    return true;
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd(Addr()).ok());
  Producer producer(Addr());
  ASSERT_TRUE(producer.MultiPublish("t", std::vector<std::string>(100, "x")).get().ok());
  EXPECT_TRUE(WaitFor([&] { return done == 100; }, 20s)) << done;
  consumer.Stop();
  EXPECT_LE(peak.load(), 2);
}

TEST_F(ClientTest, ProducerStopFlushesPendingPublishes) {
  Producer::Options po;
  po.batch_window = std::chrono::milliseconds(200);  // publishes sit in the batch window
  Producer producer(Addr(), po);
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 200; ++i) {
    producer.PublishAsync("t", "m" + std::to_string(i), [&](const Status& s) {
      ++(s.ok() ? ok : failed);
    });
  }
  producer.Stop();  // must send and wait for all 200 before returning
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Val<int64_t>(TopicStats("t"), "message_count", -1), 200);
  Status after = producer.Publish("t", "late").get();
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.message(), "producer stopped");
}

TEST_F(ClientTest, BatchedPublishesArriveInOrder) {
  Producer::Options po;
  po.batch_window = std::chrono::milliseconds(5);
  Producer producer(Addr(), po);
  std::vector<std::future<Status>> fs;
  for (int i = 0; i < 300; ++i) fs.push_back(producer.Publish("t", std::to_string(i)));
  ASSERT_TRUE(AllPublished(fs, 20s));
  std::mutex mu;
  std::vector<std::string> order;
  Consumer consumer("t", "c", [&](Delivery& m) {
    std::lock_guard lock(mu);
    order.push_back(m.body());
    return true;
  });
  ASSERT_TRUE(consumer.ConnectToQd(Addr()).ok());
  EXPECT_TRUE(WaitFor([&] { std::lock_guard l(mu); return order.size() == 300; }, 20s));
  consumer.Stop();
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], std::to_string(i));
}

TEST_F(ClientTest, PublishErrorsAreReported) {
  Producer producer(Addr());
  Status bad = producer.Publish("bad topic!", "x").get();  // checked before sending
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "invalid topic name \"bad topic!\"");
  EXPECT_EQ(producer.Publish("t", "").get().message(), "empty message body");
  // An error from qd: a DPUB delay above --max-req-timeout (1h) is fatal E_INVALID, and qd
  // closes the connection; the next publish reconnects.
  Status too_late = producer.DeferredPublish("t", std::chrono::hours(2), "x").get();
  EXPECT_EQ(too_late.message().rfind("E_INVALID", 0), 0u) << too_late.message();
  EXPECT_TRUE(producer.Publish("t", "x").get().ok());

  Producer::Options po;
  po.publish_timeout = 300ms;
  po.dial_timeout = 200ms;
  Producer nowhere("127.0.0.1:1", po);
  Status c = nowhere.Connect();
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.message().find("127.0.0.1:1"), std::string::npos) << c.message();
  Status p = nowhere.Publish("t", "x").get();  // bounded by publish_timeout
  EXPECT_FALSE(p.ok());

  Consumer consumer("bad topic!", "c", [](Delivery&) { return true; });
  Status sub = consumer.ConnectToQd(Addr());
  EXPECT_FALSE(sub.ok());
  EXPECT_NE(sub.message().find("invalid topic name"), std::string::npos) << sub.message();
}

TEST_F(ClientTest, ConsumerStopWaitsForRunningHandlers) {
  std::atomic<int> started{0}, finished{0};
  Consumer::Options o;
  o.max_in_flight = 4;
  o.concurrency = 4;
  Consumer consumer("t", "c", [&](Delivery&) {
    ++started;
    std::this_thread::sleep_for(200ms);  // long work in progress when Stop() is called
    ++finished;
    return true;
  }, o);
  ASSERT_TRUE(consumer.ConnectToQd(Addr()).ok());
  Producer producer(Addr());
  ASSERT_TRUE(producer.MultiPublish("t", std::vector<std::string>(4, "x")).get().ok());
  ASSERT_TRUE(WaitFor([&] { return started == 4; }, 10s));
  consumer.Stop();
  EXPECT_EQ(finished.load(), 4);
  EXPECT_EQ(consumer.stats().finished, 4u);
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
}

TEST_F(ClientTest, QctlPubThenTailRoundTrip) {
  CommandResult pub = RunQctl("pub --topic lines --qd-tcp-address " + Addr(), "alpha\nbeta\ngamma\n");
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  EXPECT_NE(pub.output.find("published 3 messages"), std::string::npos) << pub.output;
  CommandResult tail = RunQctl("tail --topic lines -n 3 --nsqd-tcp-address " + Addr());
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_EQ(tail.output, "alpha\nbeta\ngamma\n");
}

TEST_F(ClientTest, QctlReportsBadInputInOneLine) {
  CommandResult bad = RunQctl("pub --topic 'no spaces' --qd-tcp-address " + Addr(), "x\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output, "qctl pub: invalid topic name \"no spaces\"\n");
  CommandResult refused = RunQctl("pub --topic t --qd-tcp-address 127.0.0.1:1", "x\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.output.rfind("qctl pub: connect 127.0.0.1:1: ", 0), 0u) << refused.output;
  EXPECT_EQ(std::count(refused.output.begin(), refused.output.end(), '\n'), 1);
  CommandResult tail = RunQctl("tail --topic t --channel 'bad channel' --qd-tcp-address " + Addr());
  EXPECT_EQ(tail.exit_code, 1);
  EXPECT_EQ(tail.output, "qctl tail: invalid channel name \"bad channel\"\n");
}

TEST_F(ClientTest, QctlBenchWriterAndReaderPrintFigures) {
  CommandResult w = RunQctl("bench writer --duration 500ms --size 100 --batch-size 50 --connections 2 "
                        "--topic bench --qd-tcp-address " + Addr());
  ASSERT_EQ(w.exit_code, 0) << w.output;
  EXPECT_NE(w.output.find("writer: "), std::string::npos) << w.output;
  EXPECT_NE(w.output.find(" msgs/s, "), std::string::npos) << w.output;
  EXPECT_NE(w.output.find(" MB/s"), std::string::npos) << w.output;
  // The writer counts what qd acknowledged: its total is the topic's message count.
  auto total = [](const std::string& out) {
    size_t at = out.rfind("\nwriter: ");
    return at == std::string::npos ? -1 : std::stoll(out.substr(at + 9));
  };
  int64_t written = total(w.output);
  EXPECT_GT(written, 0) << w.output;
  EXPECT_EQ(written % 50, 0) << "whole MPUBs of 50";
  // Single-message PUBs at a rate: 16 connections, 2,000 msg/s for 500 ms.
  CommandResult p = RunQctl("bench writer --duration 500ms --size 10 --batch-size 1 --connections 16 --pipeline 1 "
                            "--rate 2000 --topic bench --qd-tcp-address " + Addr());
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_NE(p.output.find("PUB batch 1"), std::string::npos) << p.output;
  int64_t single = total(p.output);
  EXPECT_GT(single, 200) << p.output;
  EXPECT_LT(single, 2000) << "the rate bounds it: " << p.output;
  EXPECT_EQ(Val<int64_t>(TopicStats("bench"), "message_count", -1), written + single);
  // An error frame from qd ends the run with its text.
  CommandResult big = RunQctl("bench writer --duration 500ms --size 2000000 --batch-size 1 --topic bench "
                              "--qd-tcp-address " + Addr());
  EXPECT_EQ(big.exit_code, 1) << big.output;
  EXPECT_NE(big.output.find("qctl bench: E_BAD_MESSAGE"), std::string::npos) << big.output;
  CommandResult r = RunQctl("bench reader --duration 500ms --size 100 --topic bench --qd-tcp-address " +
                        Addr());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(" msgs/s, "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("p50="), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("p99.9="), std::string::npos) << r.output;
  std::cout << w.output << r.output;
}

// RDY spreading over several qd (no fixture: three qd of its own).
class MultiQdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      qds_.push_back(std::make_unique<QdProcess>());
      ASSERT_TRUE(qds_.back()->Start()) << qds_.back()->log();
    }
  }
  std::string Addr(int i) const { return "127.0.0.1:" + std::to_string(qds_[i]->tcp_port()); }

  // ready_count of every client of topic/channel on qd i (empty if none yet).
  std::vector<int64_t> ReadyCounts(int i, const std::string& topic, const std::string& channel) {
    httplib::Client cli("127.0.0.1", qds_[i]->http_port());
    cli.set_read_timeout(5, 0);
    auto res = cli.Get("/stats?format=json");
    std::vector<int64_t> out;
    if (!res || res->status != 200) return out;
    json j = json::parse(res->body, nullptr, false);
    if (!j.is_object()) return out;
    const json* t = FindByName(j["topics"], "topic_name", topic);
    if (!t) return out;
    const json* c = FindByName((*t)["channels"], "channel_name", channel);
    if (!c || !c->contains("clients")) return out;
    for (const auto& cl : (*c)["clients"]) out.push_back(Val<int64_t>(cl, "ready_count", -1));
    return out;
  }
  int64_t TotalReady(const std::string& topic, const std::string& channel) {
    int64_t sum = 0;
    for (int i = 0; i < 3; ++i) {
      for (int64_t r : ReadyCounts(i, topic, channel)) sum += r;
    }
    return sum;
  }

  std::vector<std::unique_ptr<QdProcess>> qds_;
};

TEST_F(MultiQdClientTest, MaxInFlightTenIsSplitFourThreeThree) {
  Consumer::Options o;
  o.max_in_flight = 10;
  Consumer consumer("t", "c", [](Delivery&) { return true; }, o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(consumer.ConnectToQd(Addr(i)).ok());
  std::vector<int64_t> got;
  EXPECT_TRUE(WaitFor([&] {
    got.clear();
    for (int i = 0; i < 3; ++i) {
      auto r = ReadyCounts(i, "t", "c");
      got.push_back(r.size() == 1 ? r[0] : -1);
    }
    std::sort(got.begin(), got.end());
    return got == std::vector<int64_t>{3, 3, 4};
  }, 5s)) << ::testing::PrintToString(got);
  consumer.Stop();
}

TEST_F(MultiQdClientTest, MaxInFlightTwoOverThreeQdRotatesAndServesAll) {
  Consumer::Options o;
  o.max_in_flight = 2;
  o.rdy_rotate_interval = 200ms;
  std::atomic<int> done{0};
  Consumer consumer("t", "c", [&](Delivery&) { ++done; return true; }, o);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(consumer.ConnectToQd(Addr(i)).ok());
  EXPECT_TRUE(WaitFor([&] { return TotalReady("t", "c") == 2; }, 5s));
  for (int i = 0; i < 3; ++i) {
    Producer p(Addr(i));
    ASSERT_TRUE(p.MultiPublish("t", std::vector<std::string>(30, "x")).get().ok());
  }
  // Only rotation gives the third qd a turn; every qd holds RDY 1 at some point.
  std::set<int> had_rdy;
  EXPECT_TRUE(WaitFor([&] {
    for (int i = 0; i < 3; ++i) {
      auto r = ReadyCounts(i, "t", "c");
      if (r.size() == 1 && r[0] == 1) had_rdy.insert(i);
    }
    return done == 90 && had_rdy.size() == 3;
  }, 15s)) << done << " " << had_rdy.size();
  consumer.Stop();
}

}  // namespace
}  // namespace q::test
