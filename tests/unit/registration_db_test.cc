#include "lookupd/registration_db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace q::lookupd {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSecond;  // "now" at the start of every test

std::shared_ptr<PeerInfo> MakePeer(const std::string& id, int http_port = 4151, int64_t last_update = kT0) {
  auto p = std::make_shared<PeerInfo>();
  p->id = id;
  p->remote_address = id;
  p->hostname = "host-" + id;
  p->broadcast_address = "10.0.0.1";
  p->tcp_port = 4150;
  p->http_port = http_port;
  p->version = "1.3.0";
  p->last_update.store(last_update);
  return p;
}

std::vector<std::string> Ids(const LookupResult& r) {
  std::vector<std::string> ids;
  for (const auto& p : r.producers) ids.push_back(p->id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class RegistrationDbTest : public ::testing::Test {
 protected:
  RegistrationDb db_{300s, 45s};
  std::shared_ptr<PeerInfo> a_ = MakePeer("127.0.0.1:1001", 4151);
  std::shared_ptr<PeerInfo> b_ = MakePeer("127.0.0.1:1002", 4152);
};

TEST_F(RegistrationDbTest, RegisterChannelRegistersItsTopicToo) {
  db_.AddClient(a_);
  auto added = db_.Register(a_, "t", "c");
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0], (Registration{"channel", "t", "c"}));
  EXPECT_EQ(added[1], (Registration{"topic", "t", ""}));
  // Registering again adds nothing.
  EXPECT_TRUE(db_.Register(a_, "t", "c").empty());

  EXPECT_EQ(db_.Topics(), std::vector<std::string>{"t"});
  EXPECT_EQ(db_.Channels("t"), std::vector<std::string>{"c"});
  auto found = db_.Lookup("t", kT0);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->channels, std::vector<std::string>{"c"});
  EXPECT_EQ(Ids(*found), std::vector<std::string>{a_->id});
}

TEST_F(RegistrationDbTest, LookupOfUnknownTopicIsNotFoundButKnownEmptyTopicIsFound) {
  EXPECT_FALSE(db_.Lookup("nope", kT0));
  EXPECT_TRUE(db_.Channels("nope").empty());
  db_.CreateTopic("empty");
  auto found = db_.Lookup("empty", kT0);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->channels.empty());
  EXPECT_TRUE(found->producers.empty());
}

TEST_F(RegistrationDbTest, KeysOutliveTheirProducers) {
  db_.Register(a_, "t", "c");
  auto removed = db_.Unregister(a_->id, "t", "c");
  EXPECT_EQ(removed, std::vector<Registration>{(Registration{"channel", "t", "c"})});
  db_.Unregister(a_->id, "t", "");
  // Nobody produces t any more, yet t and c stay listed until deleted over HTTP.
  EXPECT_EQ(db_.Topics(), std::vector<std::string>{"t"});
  EXPECT_EQ(db_.Channels("t"), std::vector<std::string>{"c"});
  auto found = db_.Lookup("t", kT0);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->producers.empty());
}

TEST_F(RegistrationDbTest, UnregisterTopicAlsoLeavesItsChannels) {
  db_.Register(a_, "t", "c1");
  db_.Register(a_, "t", "c2");
  db_.Register(b_, "t", "c1");
  auto removed = db_.Unregister(a_->id, "t", "");
  EXPECT_EQ(removed.size(), 3u);  // channel c1, channel c2, topic
  EXPECT_TRUE(db_.FindProducers("channel", "t", "c2").empty());
  auto c1 = db_.FindProducers("channel", "t", "c1");
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].peer->id, b_->id);
  EXPECT_EQ(Ids(*db_.Lookup("t", kT0)), std::vector<std::string>{b_->id});
}

TEST_F(RegistrationDbTest, EphemeralChannelKeyGoesWithItsLastProducer) {
  db_.Register(a_, "t", "c#ephemeral");
  db_.Register(b_, "t", "c#ephemeral");
  db_.Unregister(a_->id, "t", "c#ephemeral");
  EXPECT_EQ(db_.Channels("t"), std::vector<std::string>{"c#ephemeral"});  // b still has it
  db_.Unregister(b_->id, "t", "c#ephemeral");
  EXPECT_TRUE(db_.Channels("t").empty());
  EXPECT_EQ(db_.Topics(), std::vector<std::string>{"t"});  // a durable topic stays
}

TEST_F(RegistrationDbTest, EphemeralTopicKeyGoesWithItsLastProducer) {
  db_.Register(a_, "t#ephemeral", "c");
  db_.Unregister(a_->id, "t#ephemeral", "");
  EXPECT_TRUE(db_.Topics().empty());
  EXPECT_FALSE(db_.Lookup("t#ephemeral", kT0));
  // The durable channel key under it is kept, as nsqlookupd does.
  EXPECT_EQ(db_.Channels("t#ephemeral"), std::vector<std::string>{"c"});
}

TEST_F(RegistrationDbTest, ClosedConnectionLeavesEveryRegistrationButKeysStay) {
  db_.AddClient(a_);
  db_.AddClient(b_);
  db_.Register(a_, "t1", "c");
  db_.Register(a_, "t2", "");
  db_.Register(b_, "t1", "");
  auto removed = db_.RemovePeer(a_->id);
  EXPECT_EQ(removed.size(), 4u);  // client, channel t1/c, topic t1, topic t2
  EXPECT_TRUE(db_.LookupRegistrations(a_->id).empty());
  EXPECT_EQ(Ids(*db_.Lookup("t1", kT0)), std::vector<std::string>{b_->id});
  EXPECT_TRUE(db_.Lookup("t2", kT0)->producers.empty());
  EXPECT_EQ(Sorted(db_.Topics()), (std::vector<std::string>{"t1", "t2"}));
  auto nodes = db_.Nodes(kT0);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].peer->id, b_->id);
}

TEST_F(RegistrationDbTest, InactiveProducersAreFilteredNotRemoved) {
  db_.AddClient(a_);
  db_.AddClient(b_);
  db_.Register(a_, "t", "");
  db_.Register(b_, "t", "");
  // b pinged recently; a's last update is just past the inactive timeout.
  int64_t now = kT0 + 300 * kSecond + 1;
  b_->last_update.store(now - kSecond);
  EXPECT_EQ(Ids(*db_.Lookup("t", now)), std::vector<std::string>{b_->id});
  auto nodes = db_.Nodes(now);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].peer->id, b_->id);
  // Still registered: exactly at the timeout, and after a PING, it counts again.
  EXPECT_EQ(db_.FindProducers("topic", "t", "").size(), 2u);
  EXPECT_EQ(Ids(*db_.Lookup("t", kT0 + 300 * kSecond)).size(), 2u);
  a_->last_update.store(now);
  EXPECT_EQ(Ids(*db_.Lookup("t", now)).size(), 2u);
}

TEST_F(RegistrationDbTest, TombstoneHidesTheProducerForItsLifetimeOnly) {
  db_.AddClient(a_);
  db_.AddClient(b_);
  db_.Register(a_, "t", "c");
  db_.Register(a_, "other", "");
  db_.Register(b_, "t", "");
  EXPECT_EQ(db_.TombstoneTopicProducer("t", "10.0.0.1:4151", kT0), 1);  // a's node
  EXPECT_EQ(db_.TombstoneTopicProducer("t", "10.0.0.1:9999", kT0), 0);

  EXPECT_EQ(Ids(*db_.Lookup("t", kT0 + 44 * kSecond)), std::vector<std::string>{b_->id});
  EXPECT_EQ(Ids(*db_.Lookup("other", kT0)), std::vector<std::string>{a_->id});  // per topic
  a_->last_update.store(kT0 + 45 * kSecond);
  b_->last_update.store(kT0 + 45 * kSecond);
  EXPECT_EQ(Ids(*db_.Lookup("t", kT0 + 45 * kSecond)), (std::vector<std::string>{a_->id, b_->id}));
}

TEST_F(RegistrationDbTest, ReRegisterKeepsTheTombstoneButUnregisterClearsIt) {
  db_.Register(a_, "t", "");
  db_.TombstoneTopicProducer("t", "10.0.0.1:4151", kT0);
  db_.Register(a_, "t", "");
  db_.Register(a_, "t", "c");
  EXPECT_TRUE(db_.Lookup("t", kT0 + kSecond)->producers.empty());

  db_.Unregister(a_->id, "t", "");
  db_.Register(a_, "t", "");
  EXPECT_EQ(Ids(*db_.Lookup("t", kT0 + kSecond)), std::vector<std::string>{a_->id});
}

TEST_F(RegistrationDbTest, NodesListTombstonesAlignedWithTopicsAndDoNotHideThem) {
  db_.AddClient(a_);
  db_.Register(a_, "t1", "");
  db_.Register(a_, "t2", "");
  db_.Register(a_, "t3", "c");
  db_.TombstoneTopicProducer("t2", "10.0.0.1:4151", kT0);
  auto nodes = db_.Nodes(kT0 + kSecond);
  ASSERT_EQ(nodes.size(), 1u);
  const NodeView& n = nodes[0];
  ASSERT_EQ(n.topics.size(), 3u);
  ASSERT_EQ(n.tombstones.size(), n.topics.size());
  for (size_t i = 0; i < n.topics.size(); ++i) EXPECT_EQ(n.tombstones[i], n.topics[i] == "t2") << n.topics[i];
}

TEST_F(RegistrationDbTest, NodesNeedAnIdentifiedClient) {
  db_.Register(a_, "t", "");  // REGISTER without the client entry (not possible over TCP)
  EXPECT_TRUE(db_.Nodes(kT0).empty());
}

TEST_F(RegistrationDbTest, HttpEditsTouchOnlyKeys) {
  db_.CreateChannel("t", "c");
  EXPECT_EQ(db_.Topics(), std::vector<std::string>{"t"});
  EXPECT_EQ(db_.Channels("t"), std::vector<std::string>{"c"});
  EXPECT_TRUE(db_.DeleteChannel("t", "c"));
  EXPECT_FALSE(db_.DeleteChannel("t", "c"));
  db_.Register(a_, "t", "c1");
  db_.Register(a_, "t", "c2");
  db_.Register(a_, "u", "c1");
  db_.DeleteTopic("t");
  EXPECT_EQ(db_.Topics(), std::vector<std::string>{"u"});
  EXPECT_TRUE(db_.Channels("t").empty());
  EXPECT_EQ(db_.Channels("u"), std::vector<std::string>{"c1"});
  db_.DeleteTopic("never-existed");  // no error
}

TEST_F(RegistrationDbTest, FindRegistrationsMatchesWildcards) {
  db_.Register(a_, "t1", "c1");
  db_.Register(a_, "t1", "c2");
  db_.Register(a_, "t2", "c1");
  EXPECT_EQ(db_.FindRegistrations("channel", "*", "*").size(), 3u);
  EXPECT_EQ(db_.FindRegistrations("channel", "t1", "*").size(), 2u);
  EXPECT_EQ(db_.FindRegistrations("channel", "*", "c1").size(), 2u);
  EXPECT_EQ(db_.FindRegistrations("topic", "*", "").size(), 2u);
  EXPECT_EQ(db_.FindRegistrations("topic", "t2", "").size(), 1u);
  EXPECT_TRUE(db_.FindRegistrations("topic", "t3", "").empty());
  // Each peer once, however many keys matched.
  EXPECT_EQ(db_.FindProducers("channel", "*", "*").size(), 1u);
}

TEST_F(RegistrationDbTest, DumpListsEveryKeyWithItsProducers) {
  db_.AddClient(a_);
  db_.Register(a_, "t", "c");
  db_.CreateTopic("empty");
  db_.TombstoneTopicProducer("t", "10.0.0.1:4151", kT0 + 5);
  auto dump = db_.Dump();
  ASSERT_EQ(dump.size(), 4u);
  EXPECT_TRUE(dump.at(Registration{"topic", "empty", ""}).empty());
  const auto& t = dump.at(Registration{"topic", "t", ""});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].tombstoned);
  EXPECT_EQ(t[0].tombstoned_at, kT0 + 5);
  EXPECT_FALSE(dump.at(Registration{"channel", "t", "c"})[0].tombstoned);
}

TEST_F(RegistrationDbTest, ConcurrentUpdatesAndReadsStayConsistent) {
  constexpr int kWriters = 4;
  constexpr int kRounds = 300;
  std::vector<std::shared_ptr<PeerInfo>> peers;
  for (int i = 0; i < kWriters; ++i) peers.push_back(MakePeer("127.0.0.1:" + std::to_string(2000 + i), 5000 + i));
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};

  // Readers check invariants that hold whatever the interleaving: /nodes stays aligned and
  // every producer listed for a topic is one of ours.
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        for (const NodeView& n : db_.Nodes(kT0)) EXPECT_EQ(n.topics.size(), n.tombstones.size());
        if (auto found = db_.Lookup("shared", kT0)) {
          EXPECT_LE(found->producers.size(), static_cast<size_t>(kWriters));
        }
        db_.Dump();
        reads.fetch_add(1);
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto& peer = peers[w];
      db_.AddClient(peer);
      for (int i = 0; i < kRounds; ++i) {
        std::string own = "t" + std::to_string(w) + "_" + std::to_string(i % 10);
        db_.Register(peer, "shared", "c" + std::to_string(i % 3));
        db_.Register(peer, own, "");
        db_.TombstoneTopicProducer(own, "10.0.0.1:" + std::to_string(peer->http_port), kT0);
        peer->last_update.store(kT0);
        if (i % 2 == 0) db_.Unregister(peer->id, own, "");
        if (i % 5 == 0) db_.Unregister(peer->id, "shared", "c" + std::to_string(i % 3));
      }
      db_.Register(peer, "shared", "final");
    });
  }
  for (auto& t : writers) t.join();
  while (reads.load() < 10) std::this_thread::yield();  // readers did overlap the end
  stop = true;
  for (auto& t : readers) t.join();

  auto found = db_.Lookup("shared", kT0);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->producers.size(), static_cast<size_t>(kWriters));
  EXPECT_EQ(db_.FindProducers("channel", "shared", "final").size(), static_cast<size_t>(kWriters));
  EXPECT_EQ(db_.Nodes(kT0).size(), static_cast<size_t>(kWriters));
  // Closing every connection empties every producer list and keeps the keys.
  size_t keys = db_.Dump().size();
  for (auto& p : peers) db_.RemovePeer(p->id);
  for (const auto& [r, producers] : db_.Dump()) EXPECT_TRUE(producers.empty()) << r.category << ":" << r.key;
  EXPECT_EQ(db_.Dump().size(), keys);
}

}  // namespace
}  // namespace q::lookupd
