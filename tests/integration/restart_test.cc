// Clean-restart durability of the real qd binary (spec: behaviour.md §2, §5, §10): SIGTERM
// flushes memory, in-flight and deferred messages and metadata to disk; a restart on the
// same --data-path brings them all back. Each test starts its own qd; see qd_fixture.h.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string BodyFor(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "msg-%05d", i);
  return buf;
}

// Bodies of varying length and content, so disk records of different sizes round-trip.
std::string VariedBodyFor(int i) {
  std::string b = BodyFor(i) + "-";
  for (int k = 0; k < (i * 37) % 700; ++k) b += static_cast<char>('a' + (i + k) % 26);
  return b;
}

struct Consumed {
  std::map<std::string, int> count;     // body -> deliveries
  std::map<std::string, int> attempts;  // body -> attempts of the last delivery
  int total = 0;
};

class RestartTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override { return {"--mem-queue-size=100"}; }

  void CreateTopicAndChannel(const std::string& topic, const std::string& channel) {
    ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=" + topic));
    ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=" + topic + "&channel=" + channel));
  }

  // MPUB in batches of up to 100.
  void Publish(const std::string& topic, const std::vector<std::string>& bodies) {
    TestClient pub = NewClient();
    for (size_t i = 0; i < bodies.size(); i += 100) {
      std::vector<std::string> batch(bodies.begin() + i,
                                     bodies.begin() + std::min(bodies.size(), i + 100));
      ASSERT_TRUE(IsOk(pub.Mpub(topic, batch))) << "batch at " << i;
    }
  }

  void CleanRestart() {
    ASSERT_TRUE(qd_->Stop()) << "SIGTERM must shut qd down cleanly: " << qd_->ExitDescription();
    ASSERT_TRUE(qd_->Start()) << "qd failed to restart on the same data dir";
  }

  // Subscribes with RDY rdy and FINs every message until `expected` distinct bodies were
  // seen (or the deadline passes); then checks for 500 ms that nothing else arrives.
  void ConsumeAll(const std::string& topic, const std::string& channel, size_t expected,
                  Consumed* out, int rdy = 100, std::chrono::seconds deadline = 60s) {
    TestClient sub = NewSubscriber(topic, channel);
    ASSERT_TRUE(sub.Rdy(rdy));
    auto end = Clock::now() + deadline;
    while (out->count.size() < expected && Clock::now() < end) {
      Frame f = sub.ReadFrame();
      auto m = f.AsMessage();
      ASSERT_TRUE(m) << "after " << out->count.size() << " of " << expected
                     << " messages: " << f.Describe();
      ++out->count[m->body];
      out->attempts[m->body] = m->attempts;
      ++out->total;
      ASSERT_TRUE(sub.Fin(m->id));
    }
    ASSERT_EQ(out->count.size(), expected) << "deadline passed";
    Frame extra = sub.ReadFrame(500ms);
    EXPECT_TRUE(extra.timed_out()) << "unexpected extra frame: " << extra.Describe();
  }
};

TEST_F(RestartTest, CleanRestartKeepsEveryMessageExactlyOnce) {
  constexpr int kCount = 5000;
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("durable", "c"));
  std::vector<std::string> bodies;
  for (int i = 0; i < kCount; ++i) bodies.push_back(BodyFor(i));
  ASSERT_NO_FATAL_FAILURE(Publish("durable", bodies));
  ASSERT_TRUE(WaitForChannelValue("durable", "c", "depth", kCount, 20s))
      << ChannelStats("durable", "c");
  json before = ChannelStats("durable", "c");
  EXPECT_GE(Val(before, "backend_depth", -1), kCount - 100)
      << "with --mem-queue-size=100 the overflow must be on disk";

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  EXPECT_TRUE(WaitForChannelValue("durable", "c", "depth", kCount, 10s))
      << "after restart: " << ChannelStats("durable", "c");
  Consumed got;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("durable", "c", kCount, &got));
  EXPECT_EQ(got.total, kCount) << "duplicates were delivered";
  int missing = 0, dup = 0, retried = 0;
  for (int i = 0; i < kCount; ++i) {
    auto it = got.count.find(BodyFor(i));
    if (it == got.count.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++dup;
    }
    if (got.attempts[BodyFor(i)] != 1) ++retried;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(dup, 0);
  EXPECT_EQ(retried, 0) << "messages never delivered before must show attempts 1";
  EXPECT_TRUE(WaitForChannelValue("durable", "c", "depth", 0));
  EXPECT_TRUE(WaitForChannelValue("durable", "c", "in_flight_count", 0));
}

TEST_F(RestartTest, TopicsChannelsAndPausedFlagsSurviveRestart) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("a", "c1"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=a&channel=c2"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=a&channel=e%23ephemeral"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=b"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=eph%23ephemeral"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=deleted"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/delete?topic=deleted"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/pause?topic=a"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/pause?topic=a&channel=c1"));
  ASSERT_TRUE(ChannelStats("a", "e#ephemeral").is_object());
  ASSERT_TRUE(TopicStats("eph#ephemeral").is_object());

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  json a = TopicStats("a");
  ASSERT_TRUE(a.is_object()) << Stats();
  EXPECT_EQ(Val(a, "paused", false), true) << "topic pause must persist";
  json c1 = ChannelStats("a", "c1");
  json c2 = ChannelStats("a", "c2");
  ASSERT_TRUE(c1.is_object()) << a;
  ASSERT_TRUE(c2.is_object()) << a;
  EXPECT_EQ(Val(c1, "paused", false), true) << "channel pause must persist";
  EXPECT_EQ(Val(c2, "paused", true), false);
  EXPECT_FALSE(ChannelStats("a", "e#ephemeral").is_object()) << "ephemeral channels are not saved";
  json b = TopicStats("b");
  ASSERT_TRUE(b.is_object()) << Stats();
  EXPECT_EQ(Val(b, "paused", true), false);
  EXPECT_TRUE(b["channels"].is_array() && b["channels"].empty()) << b;
  EXPECT_FALSE(TopicStats("eph#ephemeral").is_object()) << "ephemeral topics are not saved";
  EXPECT_FALSE(TopicStats("deleted").is_object()) << "a deleted topic stays deleted";

  // Unpausing is persisted too.
  ASSERT_NO_FATAL_FAILURE(PostOk("/topic/unpause?topic=a"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/unpause?topic=a&channel=c1"));
  ASSERT_NO_FATAL_FAILURE(CleanRestart());
  EXPECT_EQ(Val(TopicStats("a"), "paused", true), false);
  EXPECT_EQ(Val(ChannelStats("a", "c1"), "paused", true), false);
}

TEST_F(RestartTest, PausedChannelKeepsDeliveringNothingAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/pause?topic=t&channel=c"));
  ASSERT_NO_FATAL_FAILURE(Publish("t", {"held"}));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 1));
  ASSERT_NO_FATAL_FAILURE(CleanRestart());
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  EXPECT_TRUE(sub.ExpectNoFrame(600ms)) << "a channel paused before restart is still paused";
  ASSERT_NO_FATAL_FAILURE(PostOk("/channel/unpause?topic=t&channel=c"));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "held");
}

TEST_F(RestartTest, InFlightMessagesAtShutdownAreRedeliveredAfterRestart) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_NO_FATAL_FAILURE(Publish("t", {"m0", "m1", "m2", "m3", "m4"}));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 5));
  ASSERT_TRUE(sub.Rdy(3));
  std::vector<ReceivedMessage> got(3);
  for (auto& m : got) ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(sub.Rdy(0));  // else the FIN below re-opens delivery of a 4th message
  ASSERT_TRUE(sub.Fin(got[0].id));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 2)) << ChannelStats("t", "c");

  ASSERT_NO_FATAL_FAILURE(CleanRestart());
  EXPECT_TRUE(sub.ExpectClosed()) << "shutdown closes client connections";

  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 4, 10s))
      << "2 former in-flight + 2 queued: " << ChannelStats("t", "c");
  Consumed after;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("t", "c", 4, &after, 10, 20s));
  EXPECT_EQ(after.total, 4);
  EXPECT_EQ(after.count.count(got[0].body), 0u) << "a FINed message came back";
  for (int i : {1, 2}) {
    EXPECT_EQ(after.count[got[i].body], 1) << got[i].body;
    EXPECT_EQ(after.attempts[got[i].body], 2) << "attempts survive the restart: " << got[i].body;
  }
  int fresh = 0;
  for (const auto& [body, n] : after.count) {
    if (body != got[1].body && body != got[2].body) {
      ++fresh;
      EXPECT_EQ(after.attempts[body], 1) << body;
    }
  }
  EXPECT_EQ(fresh, 2);
}

TEST_F(RestartTest, DeferredMessageSurvivesRestart) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  {
    TestClient pub = NewClient();
    ASSERT_TRUE(IsOk(pub.Dpub("t", 3600000, "deferred body")));
  }
  ASSERT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1)) << ChannelStats("t", "c");

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  // Still held by the channel, queued or deferred.
  EXPECT_TRUE(WaitFor(
      [&] {
        json c = ChannelStats("t", "c");
        return Val<int64_t>(c, "depth", 0) + Val<int64_t>(c, "deferred_count", 0) == 1;
      },
      10s))
      << ChannelStats("t", "c");
}

// Better than nsqd (behaviour.md §10 loses the delay): a deferred message is stored with
// its due time, so a restart neither loses it nor delivers it early.
TEST_F(RestartTest, DeferredMessageKeepsItsDelayAcrossRestart) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  auto published = std::chrono::steady_clock::now();
  {
    TestClient pub = NewClient();
    ASSERT_TRUE(IsOk(pub.Dpub("t", 3000, "deferred body")));
  }
  ASSERT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1)) << ChannelStats("t", "c");

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m, 10000ms)) << ChannelStats("t", "c");
  EXPECT_GE(std::chrono::steady_clock::now() - published, 2900ms) << "delivered before its due time";
  EXPECT_EQ(m.body, "deferred body");
  EXPECT_EQ(m.attempts, 1);
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(sub.ExpectNoFrame(300ms));
}

TEST_F(RestartTest, RequeuedWithDelayMessageKeepsItsDelayAcrossRestart) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  ASSERT_NO_FATAL_FAILURE(Publish("t", {"retry me"}));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto requeued = std::chrono::steady_clock::now();
  ASSERT_TRUE(sub.Req(m.id, 3000));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1));

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  TestClient again = NewSubscriber("t", "c");
  ASSERT_TRUE(again.Rdy(1));
  ReceivedMessage m2;
  ASSERT_TRUE(again.ReadMessage(&m2, 10000ms)) << ChannelStats("t", "c");
  EXPECT_GE(std::chrono::steady_clock::now() - requeued, 2900ms) << "delivered before its due time";
  EXPECT_EQ(m2.body, "retry me");
  EXPECT_EQ(m2.attempts, 2) << "attempts survive the restart";
}

TEST_F(RestartTest, TopicBacklogWithoutChannelsSurvivesRestart) {
  // 150 > mem-queue-size: part in topic memory, part on the topic's disk queue.
  std::vector<std::string> bodies;
  for (int i = 0; i < 150; ++i) bodies.push_back(VariedBodyFor(i));
  ASSERT_NO_FATAL_FAILURE(Publish("lonely", bodies));
  ASSERT_TRUE(WaitForTopicValue("lonely", "depth", 150));

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  EXPECT_TRUE(WaitForTopicValue("lonely", "depth", 150, 10s)) << TopicStats("lonely");
  Consumed got;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("lonely", "c", 150, &got));
  EXPECT_EQ(got.total, 150);
  for (const auto& b : bodies) EXPECT_EQ(got.count[b], 1) << b.substr(0, 20);
}

TEST_F(RestartTest, RepeatedRestartsDoNotDuplicateOrLoseMessages) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 400; ++i) bodies.push_back(BodyFor(i));
  ASSERT_NO_FATAL_FAILURE(Publish("t", bodies));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 400));
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("restart " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(CleanRestart());
    ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 400, 10s)) << ChannelStats("t", "c");
  }
  Consumed got;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("t", "c", 400, &got));
  EXPECT_EQ(got.total, 400);
}

// ---------------------------------------------------------------- --mem-queue-size=0

class ZeroMemQueueTest : public RestartTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--mem-queue-size=0"}; }
};

TEST_F(ZeroMemQueueTest, EveryMessageGoesThroughDisk) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 300; ++i) bodies.push_back(VariedBodyFor(i));
  ASSERT_NO_FATAL_FAILURE(Publish("t", bodies));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 300, 10s)) << ChannelStats("t", "c");
  json ch = ChannelStats("t", "c");
  EXPECT_EQ(Val(ch, "backend_depth", -1), 300) << "no memory queue: all on disk";
  Consumed got;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("t", "c", 300, &got));
  EXPECT_EQ(got.total, 300);
  for (const auto& b : bodies) EXPECT_EQ(got.count[b], 1) << b.substr(0, 20);
}

TEST_F(ZeroMemQueueTest, LiveDeliveryWorksWithoutMemoryQueue) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  TestClient pub = NewClient();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(IsOk(pub.Pub("t", BodyFor(i))));
  std::map<std::string, int> got;
  for (int i = 0; i < 20; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m)) << i;
    ++got[m.body];
    ASSERT_TRUE(sub.Fin(m.id));
  }
  EXPECT_EQ(got.size(), 20u);
}

TEST_F(ZeroMemQueueTest, CleanRestartKeepsEveryMessage) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 500; ++i) bodies.push_back(VariedBodyFor(i));
  ASSERT_NO_FATAL_FAILURE(Publish("t", bodies));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 500, 10s));

  ASSERT_NO_FATAL_FAILURE(CleanRestart());

  Consumed got;
  ASSERT_NO_FATAL_FAILURE(ConsumeAll("t", "c", 500, &got));
  EXPECT_EQ(got.total, 500);
  for (const auto& b : bodies) EXPECT_EQ(got.count[b], 1) << b.substr(0, 20);
}

}  // namespace
}  // namespace q::test
