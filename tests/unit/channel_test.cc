// Channel and topic logic with fake consumers: no sockets, no threads (the shard's
// io_context is polled by the test itself), time passed explicitly to Scan.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "qd/channel.h"
#include "qd/subscriber.h"
#include "qd/qd.h"
#include "qd/topic.h"

namespace q {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FakeConsumer : public Subscriber {
 public:
  explicit FakeConsumer(uint64_t id) : id_(id) {}
  uint64_t id() const override { return id_; }
  bool IsReadyForMessages() const override { return !closed && in_flight < rdy; }
  void SendMessage(const Message& m) override {
    ++in_flight;
    received.push_back(m);
  }
  void InFlightDone() override { --in_flight; }
  void ResetInFlight() override { in_flight = 0; }
  int64_t msg_timeout_ns() const override { return 1'000'000'000; }
  int sample_rate() const override { return 0; }
  void DetachFromChannel() override { closed = true; }
  ClientStats Stats() const override { return {}; }

  int64_t rdy = 0, in_flight = 0;
  bool closed = false;
  std::vector<Message> received;

 private:
  uint64_t id_;
};

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/qd-channel-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Options o;
    o.data_path = dir_;
    o.mem_queue_size = 4;
    o.worker_threads = 1;
    qd_ = std::make_unique<Qd>(o);
    topic_ = std::make_shared<Topic>(qd_.get(), qd_->shards()[0], "t");
    topic_->Init();
  }
  void TearDown() override {
    topic_->Close();
    topic_.reset();
    qd_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Publish(const std::string& body, int64_t deliver_at = 0) {
    std::string error;
    ASSERT_TRUE(topic_->Publish({MakeBody(body)}, deliver_at, &error)) << error;
  }
  // Runs what the topic posted to its shard (backlog hand-over).
  void RunShard() {
    auto& io = qd_->shards()[0]->io();
    io.restart();
    io.poll();
  }

  // Consumers outlive the topic: Close() in TearDown still talks to them.
  FakeConsumer a_{1}, b_{2};
  std::string dir_;
  std::unique_ptr<Qd> qd_;
  std::shared_ptr<Topic> topic_;
};

TEST_F(ChannelTest, DeliversNoMoreThanRdyUntilFinished) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ASSERT_TRUE(ch->AddClient(&a, &err));
  for (int i = 0; i < 5; ++i) Publish("m" + std::to_string(i));
  EXPECT_TRUE(a.received.empty());  // RDY 0 holds everything
  a.rdy = 2;
  ch->Pump();
  ASSERT_EQ(a.received.size(), 2u);
  EXPECT_EQ(a.received[0].attempts, 1);
  EXPECT_EQ(ch->Stats(false).depth, 3);
  EXPECT_EQ(ch->Finish(&a, a.received[0].id), "");
  ch->Pump();
  EXPECT_EQ(a.received.size(), 3u);
  EXPECT_EQ(ch->Stats(false).in_flight_count, 2);
}

TEST_F(ChannelTest, CompetingConsumersShareWithoutDuplicates) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  FakeConsumer& b = b_;
  std::string err;
  ch->AddClient(&a, &err);
  ch->AddClient(&b, &err);
  a.rdy = b.rdy = 100;
  for (int i = 0; i < 50; ++i) Publish(std::to_string(i));
  EXPECT_EQ(a.received.size() + b.received.size(), 50u);
  EXPECT_GT(a.received.size(), 0u);
  EXPECT_GT(b.received.size(), 0u);
  std::set<std::string> ids;
  for (auto* c : {&a, &b})
    for (auto& m : c->received) ids.insert(std::string(m.id.view()));
  EXPECT_EQ(ids.size(), 50u);
}

TEST_F(ChannelTest, FanOutGivesEveryChannelTheSameBody) {
  Channel* c1 = topic_->GetOrCreateChannel("c1");
  Channel* c2 = topic_->GetOrCreateChannel("c2");
  FakeConsumer& a = a_;
  FakeConsumer& b = b_;
  std::string err;
  c1->AddClient(&a, &err);
  c2->AddClient(&b, &err);
  a.rdy = b.rdy = 10;
  Publish("shared");
  ASSERT_EQ(a.received.size(), 1u);
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_EQ(a.received[0].body.get(), b.received[0].body.get());  // one copy in memory
  EXPECT_EQ(a.received[0].id, b.received[0].id);
}

TEST_F(ChannelTest, FinOfAnotherConsumersMessageFails) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  FakeConsumer& b = b_;
  std::string err;
  ch->AddClient(&a, &err);
  ch->AddClient(&b, &err);
  a.rdy = 1;
  Publish("x");
  ASSERT_EQ(a.received.size(), 1u);
  EXPECT_EQ(ch->Finish(&b, a.received[0].id), "client does not own message");
  EXPECT_EQ(ch->Finish(&a, a.received[0].id), "");
  EXPECT_EQ(ch->Finish(&a, a.received[0].id), "ID not in flight");
}

TEST_F(ChannelTest, TimedOutMessageIsRedeliveredWithAttemptsCounted) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 1;
  Publish("x");
  ASSERT_EQ(a.received.size(), 1u);
  ch->Scan(Now());  // not yet due
  EXPECT_EQ(a.received.size(), 1u);
  ch->Scan(Now() + 2'000'000'000);
  ASSERT_EQ(a.received.size(), 2u);
  EXPECT_EQ(a.received[1].attempts, 2);
  EXPECT_EQ(a.received[1].id, a.received[0].id);
  EXPECT_EQ(ch->Stats(false).timeout_count, 1);
}

TEST_F(ChannelTest, RequeueWithDelayDefersThenRedelivers) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 1;
  Publish("x");
  ASSERT_EQ(ch->Requeue(&a, a.received[0].id, 5'000'000'000), "");
  EXPECT_EQ(ch->Stats(false).deferred_count, 1);
  EXPECT_EQ(ch->Stats(false).requeue_count, 1);
  ch->Scan(Now());
  EXPECT_EQ(a.received.size(), 1u);
  ch->Scan(Now() + 6'000'000'000);
  ASSERT_EQ(a.received.size(), 2u);
  EXPECT_EQ(a.received[1].attempts, 2);
}

TEST_F(ChannelTest, DeferredPublishWaitsForItsTime) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 1;
  Publish("later", Now() + 3'000'000'000);
  EXPECT_TRUE(a.received.empty());
  EXPECT_EQ(ch->Stats(false).deferred_count, 1);
  ch->Scan(Now() + 4'000'000'000);
  EXPECT_EQ(a.received.size(), 1u);
}

TEST_F(ChannelTest, FirstChannelReceivesTheBacklogIncludingDiskOverflow) {
  for (int i = 0; i < 20; ++i) Publish(std::to_string(i));  // mem-queue-size 4: 16 on disk
  EXPECT_EQ(topic_->Stats("", false).depth, 20);
  EXPECT_EQ(topic_->Stats("", false).backend_depth, 16);
  Channel* ch = topic_->GetOrCreateChannel("c");
  RunShard();
  EXPECT_EQ(topic_->Stats("", false).depth, 0);
  EXPECT_EQ(ch->Stats(false).depth, 20);
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 100;
  ch->Pump();
  ASSERT_EQ(a.received.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*a.received[i].body, std::to_string(i));  // FIFO kept
}

TEST_F(ChannelTest, PausedChannelHoldsMessagesUntilUnpaused) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 10;
  ch->SetPaused(true);
  Publish("x");
  EXPECT_TRUE(a.received.empty());
  ch->SetPaused(false);
  EXPECT_EQ(a.received.size(), 1u);
}

TEST_F(ChannelTest, EmptyDropsQueuedInFlightAndDeferred) {
  Channel* ch = topic_->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  std::string err;
  ch->AddClient(&a, &err);
  a.rdy = 1;
  Publish("in-flight");
  Publish("queued");
  Publish("deferred", Now() + 60'000'000'000);
  ch->Empty();
  auto s = ch->Stats(false);
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.in_flight_count, 0);
  EXPECT_EQ(s.deferred_count, 0);
  EXPECT_EQ(a.in_flight, 0);
}

TEST_F(ChannelTest, MaxChannelConsumersIsEnforced) {
  Options o = qd_->options();
  o.max_channel_consumers = 1;
  Qd limited(o);
  auto topic = std::make_shared<Topic>(&limited, limited.shards()[0], "limited");
  topic->Init();
  Channel* ch = topic->GetOrCreateChannel("c");
  FakeConsumer& a = a_;
  FakeConsumer& b = b_;
  std::string err;
  EXPECT_TRUE(ch->AddClient(&a, &err));
  EXPECT_FALSE(ch->AddClient(&b, &err));
  EXPECT_NE(err.find("exceeds limit of 1"), std::string::npos);
  topic->Close();
  a.closed = b.closed = false;
}

}  // namespace
}  // namespace q
