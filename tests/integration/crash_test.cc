// Crash durability of the real qd binary (docs/durability.md): with --sync-every=1 every
// acknowledged publish, every message in flight and every deferred message survives
// `kill -9`. Each test kills qd with SIGKILL (nothing flushed, no shutdown code runs) and
// starts it again on the same --data-path.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/byte_order.h"
#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

using Clock = std::chrono::steady_clock;

class CrashTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override { return {"--sync-every=1", "--mem-queue-size=50"}; }

  void Crash() {
    qd_->Kill();
    ASSERT_TRUE(qd_->Start()) << "qd failed to start after kill -9:\n" << qd_->log();
  }

  // The handed-out offset a channel's queue last saved (meta version 2, bytes 56..63):
  // once past the segment header, a crash counts redelivered messages' attempts on.
  bool WaitForHandedPositionSaved(const std::string& queue, std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      std::ifstream in(qd_->data_path() + "/" + queue + ".q.meta", std::ios::binary);
      std::string meta((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (meta.size() == 68 && LoadBE64(meta.data() + 56) > 8) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

// Every PUB, MPUB and HTTP /pub that was answered OK is delivered after kill -9.
TEST_F(CrashTest, AcknowledgedPublishesSurviveKill9) {
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=t"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=t&channel=c"));
  std::set<std::string> acked;
  std::mutex mu;
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      TestClient c;
      if (!c.ConnectV2(qd_->tcp_port())) return;
      for (int i = 0; i < 100; ++i) {
        std::string body = "p" + std::to_string(p) + "-" + std::to_string(i);
        if (IsOk(c.Pub("t", body))) {
          std::lock_guard lock(mu);
          acked.insert(body);
        }
      }
      std::vector<std::string> batch;
      for (int i = 0; i < 50; ++i) batch.push_back("m" + std::to_string(p) + "-" + std::to_string(i));
      if (IsOk(c.Mpub("t", batch))) {
        std::lock_guard lock(mu);
        acked.insert(batch.begin(), batch.end());
      }
    });
  }
  for (auto& t : producers) t.join();
  for (int i = 0; i < 20; ++i) {
    std::string body = "h-" + std::to_string(i);
    auto r = Post("/pub?topic=t", body);
    if (r && r->status == 200) acked.insert(body);
  }
  ASSERT_EQ(acked.size(), 4u * 150 + 20) << "every publish should have been acknowledged";

  ASSERT_NO_FATAL_FAILURE(Crash());

  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(200));
  std::map<std::string, int> got;
  auto end = Clock::now() + 30s;
  while (got.size() < acked.size() && Clock::now() < end) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m)) << got.size() << " of " << acked.size();
    ++got[m.body];
    ASSERT_TRUE(sub.Fin(m.id));
  }
  size_t missing = 0;
  for (const auto& body : acked) missing += got.count(body) == 0;
  EXPECT_EQ(missing, 0u) << "acknowledged messages lost by kill -9";
}

// Messages delivered and not finished when qd is killed come back after the restart, with
// their attempts counted on; finished ones are not lost track of either.
TEST_F(CrashTest, InFlightMessagesSurviveKill9) {
  TestClient sub = NewSubscriber("t", "c");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(IsOk(sub.Pub("t", "m" + std::to_string(i))));
  ASSERT_TRUE(sub.Rdy(3));
  std::vector<ReceivedMessage> got(3);
  for (auto& m : got) ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(sub.Rdy(0));
  ASSERT_TRUE(sub.Fin(got[0].id));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 2)) << ChannelStats("t", "c");
  ASSERT_TRUE(WaitForHandedPositionSaved("t:c", 10s)) << "the periodic sync never saved the queue";

  ASSERT_NO_FATAL_FAILURE(Crash());

  TestClient again = NewSubscriber("t", "c");
  ASSERT_TRUE(again.Rdy(10));
  std::map<std::string, uint16_t> attempts;
  while (attempts.size() < 4) {
    ReceivedMessage m;
    ASSERT_TRUE(again.ReadMessage(&m)) << "after " << attempts.size() << " messages";
    attempts[m.body] = m.attempts;
    ASSERT_TRUE(again.Fin(m.id));
  }
  // m0 was finished, but its FIN may not have reached the disk before the kill: at least
  // once allows it back, so only the others are required.
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(attempts.count("m" + std::to_string(i))) << "m" << i << " lost";
  EXPECT_GE(attempts["m1"], 2) << "a redelivered in-flight message counts its earlier attempt";
  EXPECT_GE(attempts["m2"], 2);
  EXPECT_EQ(attempts["m3"], 1) << "never delivered before the crash";
}

// DPUB and REQ-with-delay messages survive kill -9, stay deferred, and come when due.
TEST_F(CrashTest, DeferredMessagesSurviveKill9) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(IsOk(sub.Dpub("t", 1500, "dpub")));
  ASSERT_TRUE(IsOk(sub.Pub("t", "req")));
  ASSERT_TRUE(sub.Rdy(1));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_EQ(m.body, "req");
  ASSERT_TRUE(sub.Req(m.id, 1500));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 2)) << ChannelStats("t", "c");
  const auto deferred_at = Clock::now();

  ASSERT_NO_FATAL_FAILURE(Crash());

  EXPECT_EQ(Val(ChannelStats("t", "c"), "deferred_count", -1), 2) << "deferred messages lost";
  TestClient again = NewSubscriber("t", "c");
  ASSERT_TRUE(again.Rdy(10));
  std::set<std::string> bodies;
  while (bodies.size() < 2) {
    ReceivedMessage d;
    ASSERT_TRUE(again.ReadMessage(&d, 10s)) << "deferred message not delivered after restart";
    EXPECT_GE(Clock::now() - deferred_at, 1400ms) << d.body << " delivered before it was due";
    bodies.insert(d.body);
    ASSERT_TRUE(again.Fin(d.id));
  }
  EXPECT_TRUE(bodies.count("dpub") && bodies.count("req"));
}

// A deferred message whose due time passed while qd was down is delivered at start.
TEST_F(CrashTest, DeferredMessageDueDuringDowntimeIsDeliveredAtStart) {
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));  // creates the topic
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=t&channel=c"));
  ASSERT_TRUE(IsOk(pub.Dpub("t", 300, "late")));
  qd_->Kill();
  std::this_thread::sleep_for(400ms);  // the downtime itself is what is tested
  ASSERT_TRUE(qd_->Start()) << qd_->log();
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  std::set<std::string> bodies;
  while (bodies.size() < 1 || !bodies.count("late")) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m, 5s));
    bodies.insert(m.body);
    ASSERT_TRUE(sub.Fin(m.id));
  }
}

// The crash loop: producers and consumers run without pause while qd is killed with -9
// at random moments, 20 times. Every acknowledged message must be consumed at least once,
// with its body intact; duplicates are counted and reported.
TEST_F(CrashTest, CrashLoopLosesNoAcknowledgedMessage) {
  constexpr int kKills = 20;
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=loop"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=loop&channel=c"));

  std::atomic<int> port{qd_->tcp_port()};
  std::atomic<bool> stop_producers{false}, stop_consumers{false};
  std::mutex mu;
  std::set<std::string> acked;
  std::map<std::string, int> consumed;
  int corrupted = 0;

  // Bodies carry their own check: "<key>|<key repeated to 200 bytes>".
  auto make_body = [](const std::string& key) {
    std::string b = key + "|";
    while (b.size() < 200) b += key;
    return b;
  };
  auto intact = [&](const std::string& body) {
    size_t bar = body.find('|');
    return bar != std::string::npos && body == make_body(body.substr(0, bar));
  };

  std::vector<std::thread> threads;
  for (int p = 0; p < 3; ++p) {
    threads.emplace_back([&, p] {
      int seq = 0;
      while (!stop_producers) {
        TestClient c;
        if (!c.ConnectV2(port.load())) {
          std::this_thread::sleep_for(20ms);  // qd is restarting
          continue;
        }
        while (!stop_producers) {
          std::string key = "p" + std::to_string(p) + "-" + std::to_string(seq++);
          if (!IsOk(c.Pub("loop", make_body(key)))) break;  // unacknowledged: may or may not be kept
          std::lock_guard lock(mu);
          acked.insert(key);
        }
      }
    });
  }
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&] {
      while (!stop_consumers) {
        TestClient c;
        if (!c.ConnectV2(port.load()) || !IsOk(c.Sub("loop", "c")) || !c.Rdy(20)) {
          std::this_thread::sleep_for(20ms);
          continue;
        }
        while (!stop_consumers) {
          Frame f = c.ReadFrame(300ms);
          if (f.timed_out()) continue;
          auto m = f.AsMessage();
          if (!m) break;  // closed by the kill
          {
            std::lock_guard lock(mu);
            if (!intact(m->body)) {
              ++corrupted;
            } else {
              ++consumed[m->body.substr(0, m->body.find('|'))];
            }
          }
          if (!c.Fin(m->id)) break;
        }
      }
    });
  }

  std::mt19937 rng(12345);
  for (int kill = 0; kill < kKills; ++kill) {
    // Wait for some progress, then a random extra moment, so every kill lands under load.
    size_t before;
    {
      std::lock_guard lock(mu);
      before = acked.size();
    }
    auto end = Clock::now() + 10s;
    while (Clock::now() < end) {
      {
        std::lock_guard lock(mu);
        if (acked.size() >= before + 20) break;
      }
      std::this_thread::sleep_for(5ms);  // poll, not spin: qd and the clients need the CPU
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));
    qd_->Kill();
    ASSERT_TRUE(qd_->Start()) << "restart " << kill << " failed:\n" << qd_->log();
    port = qd_->tcp_port();
  }
  stop_producers = true;
  auto deadline = Clock::now() + 60s;
  size_t missing = 0;
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      missing = 0;
      for (const auto& key : acked) missing += consumed.count(key) == 0;
    }
    if (missing == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  stop_consumers = true;
  for (auto& t : threads) t.join();

  size_t duplicates = 0;
  for (const auto& [key, n] : consumed) duplicates += n - 1;
  std::cout << "crash loop: " << kKills << " kills, " << acked.size() << " acknowledged, " << consumed.size()
            << " distinct consumed, " << duplicates << " duplicate deliveries, " << corrupted << " corrupted\n";
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  EXPECT_GT(acked.size(), static_cast<size_t>(kKills * 20));
  EXPECT_EQ(missing, 0u) << "acknowledged messages lost";
  EXPECT_EQ(corrupted, 0);
}

}  // namespace
}  // namespace q::test
