// A cluster on loopback: two qlookupd and three qd, every qd configured with both lookupds
// (spec: lookupd.md §2; behaviour.md §9). Checks what consumers rely on: every producer of a
// topic is listed by every lookupd, dead qd vanish, a restarted lookupd is repopulated, a
// tombstone hides a producer for its lifetime, and a new topic gets the channels the cluster
// already knows.
#include <map>
#include <set>

#include "tests/integration/lookupd_fixture.h"

namespace q::test {
namespace {

constexpr auto kRegisterTimeout = 10s;
constexpr auto kTombstoneLifetime = 3s;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      lookupds_.push_back(std::make_unique<LookupdProcess>(std::vector<std::string>{
          "--tombstone-lifetime=" + std::to_string(kTombstoneLifetime.count()) + "s"}));
      ASSERT_TRUE(lookupds_.back()->Start()) << lookupds_.back()->log();
    }
    for (int i = 0; i < 3; ++i) {
      qds_.push_back(std::make_unique<QdProcess>(std::vector<std::string>{
          "--lookupd-tcp-address=" + lookupd(0).tcp_address(), "--lookupd-tcp-address=" + lookupd(1).tcp_address(),
          "--broadcast-address=127.0.0.1"}));
      ASSERT_TRUE(qds_.back()->Start()) << qds_.back()->log();
    }
    // Every qd identified with both lookupds.
    for (int l = 0; l < 2; ++l) {
      ASSERT_TRUE(WaitFor([&] { return NodeTcpPorts(l) == AllQdTcpPorts(); }, kRegisterTimeout))
          << "lookupd " << l << " /nodes: " << HttpCall(lookupd(l).http_port(), "GET", "/nodes").body;
    }
  }

  void TearDown() override {
    for (size_t i = 0; i < qds_.size(); ++i) {
      if (killed_qds_.contains(static_cast<int>(i))) continue;
      EXPECT_TRUE(qds_[i]->IsRunning()) << "qd " << i << " died: " << qds_[i]->ExitDescription();
      if (qds_[i]->IsRunning()) {
        EXPECT_TRUE(qds_[i]->Stop()) << "qd " << i << " did not stop cleanly";
      }
    }
    for (size_t i = 0; i < lookupds_.size(); ++i) {
      EXPECT_TRUE(lookupds_[i]->IsRunning()) << "qlookupd " << i << " died: " << lookupds_[i]->ExitDescription();
      if (lookupds_[i]->IsRunning()) {
        EXPECT_TRUE(lookupds_[i]->Stop()) << "qlookupd " << i << " did not stop cleanly";
      }
    }
    if (HasFailure()) {
      for (size_t i = 0; i < lookupds_.size(); ++i)
        std::cerr << "======== qlookupd " << i << " log ========\n" << Tail(lookupds_[i]->log(), 8000) << "\n";
      for (size_t i = 0; i < qds_.size(); ++i)
        std::cerr << "======== qd " << i << " log ========\n" << Tail(qds_[i]->log(), 8000) << "\n";
    }
  }

  LookupdProcess& lookupd(int i) { return *lookupds_[static_cast<size_t>(i)]; }
  QdProcess& qd(int i) { return *qds_[static_cast<size_t>(i)]; }

  std::vector<int> AllQdTcpPorts() {
    std::vector<int> ports;
    for (auto& q : qds_)
      if (q->IsRunning()) ports.push_back(q->tcp_port());
    std::sort(ports.begin(), ports.end());
    return ports;
  }
  std::vector<int> QdPorts(std::initializer_list<int> indexes) {
    std::vector<int> ports;
    for (int i : indexes) ports.push_back(qd(i).tcp_port());
    std::sort(ports.begin(), ports.end());
    return ports;
  }

  json LookupdJson(int l, const std::string& path) {
    return HttpCall(lookupd(l).http_port(), "GET", path).Json();
  }
  std::vector<int> NodeTcpPorts(int l) {
    std::vector<int> ports;
    json nodes = LookupdJson(l, "/nodes");
    if (!nodes.is_object()) return ports;
    for (const auto& n : nodes["producers"]) ports.push_back(n.value("tcp_port", 0));
    std::sort(ports.begin(), ports.end());
    return ports;
  }
  std::vector<int> Lookup(int l, const std::string& topic) { return LookupTcpPorts(lookupd(l).http_port(), topic); }
  bool WaitForLookup(int l, const std::string& topic, const std::vector<int>& ports,
                     std::chrono::milliseconds timeout = kRegisterTimeout) {
    return WaitFor([&] { return Lookup(l, topic) == ports; }, timeout);
  }

  void QdPost(int i, const std::string& path, const std::string& body = "") {
    HttpReply r = HttpCall(qd(i).http_port(), "POST", path, body);
    ASSERT_EQ(r.status, 200) << "qd " << i << " POST " << path << " -> " << r.body;
  }

  std::vector<std::unique_ptr<LookupdProcess>> lookupds_;
  std::vector<std::unique_ptr<QdProcess>> qds_;
  std::set<int> killed_qds_;
};

TEST_F(ClusterTest, EveryQdIdentifiesWithEveryLookupd) {
  for (int l = 0; l < 2; ++l) {
    json nodes = LookupdJson(l, "/nodes");
    ASSERT_EQ(nodes["producers"].size(), 3u);
    for (const json& n : nodes["producers"]) {
      int tcp_port = n["tcp_port"];
      int i = 0;
      while (i < 3 && qd(i).tcp_port() != tcp_port) ++i;
      ASSERT_LT(i, 3) << n.dump();
      EXPECT_EQ(n["http_port"], qd(i).http_port());
      EXPECT_EQ(n["broadcast_address"], "127.0.0.1");
      EXPECT_EQ(n["version"], "1.3.0");
      EXPECT_FALSE(n["hostname"].get<std::string>().empty());
      EXPECT_EQ(n["topics"], json::array());
      EXPECT_EQ(n["tombstones"], json::array());
    }
  }
}

TEST_F(ClusterTest, TopicPublishedOnTwoQdIsListedByBothLookupds) {
  QdPost(0, "/pub?topic=clicks", "a");
  QdPost(1, "/pub?topic=clicks", "b");
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(WaitForLookup(l, "clicks", QdPorts({0, 1}))) << "lookupd " << l << ": " << LookupdJson(l, "/lookup?topic=clicks");
    EXPECT_EQ(LookupdJson(l, "/topics")["topics"], json::array({"clicks"}));
  }
  // Channels created on one qd are listed for the topic as a whole.
  QdPost(1, "/channel/create?topic=clicks&channel=archive");
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(WaitFor([&] { return LookupdJson(l, "/lookup?topic=clicks")["channels"] == json::array({"archive"}); },
                        kRegisterTimeout));
  }
}

TEST_F(ClusterTest, KilledQdDisappearsFromLookup) {
  QdPost(0, "/pub?topic=orders", "a");
  QdPost(1, "/pub?topic=orders", "b");
  ASSERT_TRUE(WaitForLookup(0, "orders", QdPorts({0, 1})));
  ASSERT_TRUE(WaitForLookup(1, "orders", QdPorts({0, 1})));
  int dead_port = qd(1).tcp_port();
  qd(1).Kill();
  killed_qds_.insert(1);
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(WaitForLookup(l, "orders", {qd(0).tcp_port()})) << "lookupd " << l;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto ports = NodeTcpPorts(l);
          return ports.size() == 2 && std::find(ports.begin(), ports.end(), dead_port) == ports.end();
        },
        kRegisterTimeout));
  }
}

TEST_F(ClusterTest, RestartedLookupdGetsEveryRegistrationBack) {
  QdPost(0, "/topic/create?topic=r1");
  QdPost(0, "/channel/create?topic=r1&channel=c");
  QdPost(1, "/pub?topic=r2", "x");
  QdPost(2, "/pub?topic=r1", "y");
  ASSERT_TRUE(WaitForLookup(0, "r1", QdPorts({0, 2})));
  ASSERT_TRUE(WaitForLookup(0, "r2", QdPorts({1})));

  // A crash: nothing is kept, so the new process knows only what the qd tell it again.
  lookupd(0).Kill();
  ASSERT_TRUE(lookupd(0).Start()) << lookupd(0).log();
  EXPECT_TRUE(WaitForLookup(0, "r1", QdPorts({0, 2}), 20s)) << LookupdJson(0, "/lookup?topic=r1");
  EXPECT_TRUE(WaitForLookup(0, "r2", QdPorts({1}), 20s)) << LookupdJson(0, "/lookup?topic=r2");
  EXPECT_EQ(LookupdJson(0, "/lookup?topic=r1")["channels"], json::array({"c"}));
  EXPECT_TRUE(WaitFor([&] { return NodeTcpPorts(0) == AllQdTcpPorts(); }, 20s));

  // A clean restart too.
  ASSERT_TRUE(lookupd(1).Restart()) << lookupd(1).log();
  EXPECT_TRUE(WaitForLookup(1, "r1", QdPorts({0, 2}), 20s)) << LookupdJson(1, "/lookup?topic=r1");
  EXPECT_TRUE(WaitForLookup(1, "r2", QdPorts({1}), 20s));
}

TEST_F(ClusterTest, TombstonedProducerStaysHiddenForTheLifetime) {
  QdPost(0, "/pub?topic=tomb", "a");
  QdPost(1, "/pub?topic=tomb", "b");
  ASSERT_TRUE(WaitForLookup(0, "tomb", QdPorts({0, 1})));
  ASSERT_TRUE(WaitForLookup(1, "tomb", QdPorts({0, 1})));

  std::string node = "127.0.0.1:" + std::to_string(qd(0).http_port());
  auto tombstoned_at = std::chrono::steady_clock::now();
  ASSERT_EQ(HttpCall(lookupd(0).http_port(), "POST", "/topic/tombstone?topic=tomb&node=" + node).status, 200);
  EXPECT_EQ(Lookup(0, "tomb"), QdPorts({1}));
  EXPECT_EQ(Lookup(1, "tomb"), QdPorts({0, 1})) << "a tombstone is per lookupd";
  // /nodes still lists the node, with the tombstone at the topic's index.
  json nodes = LookupdJson(0, "/nodes");
  for (const json& n : nodes["producers"]) {
    if (n["tcp_port"] != qd(0).tcp_port()) continue;
    ASSERT_EQ(n["topics"], json::array({"tomb"}));
    EXPECT_EQ(n["tombstones"], json::array({true}));
  }
  // The qd registering more of the topic (a new channel) does not lift the tombstone.
  QdPost(0, "/channel/create?topic=tomb&channel=late");
  ASSERT_TRUE(WaitFor([&] { return LookupdJson(0, "/lookup?topic=tomb")["channels"] == json::array({"late"}); },
                      kRegisterTimeout));
  if (std::chrono::steady_clock::now() - tombstoned_at < kTombstoneLifetime - 500ms) {
    EXPECT_EQ(Lookup(0, "tomb"), QdPorts({1}));
  }
  // After the lifetime, the still-registered producer is back.
  EXPECT_TRUE(WaitForLookup(0, "tomb", QdPorts({0, 1}), kTombstoneLifetime + 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - tombstoned_at, kTombstoneLifetime - 100ms);
}

TEST_F(ClusterTest, DeletionsOnQdAreUnregistered) {
  QdPost(0, "/topic/create?topic=del");
  QdPost(0, "/channel/create?topic=del&channel=c");
  QdPost(1, "/topic/create?topic=del");
  ASSERT_TRUE(WaitForLookup(0, "del", QdPorts({0, 1})));
  // Ports of the qd registered for channel del/c (qd 1 has it too: pre-created).
  auto channel_producers = [&] {
    std::vector<int> ports;
    json debug = LookupdJson(0, "/debug");
    if (debug.contains("channel:del:c"))
      for (const json& p : debug["channel:del:c"]) ports.push_back(p["tcp_port"]);
    std::sort(ports.begin(), ports.end());
    return ports;
  };
  ASSERT_TRUE(WaitFor([&] { return channel_producers() == QdPorts({0, 1}); }, kRegisterTimeout));

  // Channel deleted on qd 0: it leaves the channel (the durable key stays listed).
  QdPost(0, "/channel/delete?topic=del&channel=c");
  EXPECT_TRUE(WaitFor([&] { return channel_producers() == QdPorts({1}); }, kRegisterTimeout));
  EXPECT_EQ(LookupdJson(0, "/lookup?topic=del")["channels"], json::array({"c"}));
  EXPECT_EQ(Lookup(0, "del"), QdPorts({0, 1}));
  // Topic deleted on qd 0: it leaves the topic.
  QdPost(0, "/topic/delete?topic=del");
  EXPECT_TRUE(WaitForLookup(0, "del", QdPorts({1})));
  EXPECT_TRUE(WaitForLookup(1, "del", QdPorts({1})));

  // Ephemeral topic and channel: registered while a consumer has them, and their keys go
  // when qd deletes them after the consumer left.
  const std::string topic = "eph#ephemeral";
  TestClient consumer;
  ASSERT_TRUE(consumer.ConnectV2(qd(1).tcp_port()));
  ASSERT_TRUE(IsOk(consumer.Sub(topic, "c#ephemeral")));
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(WaitForLookup(l, topic, QdPorts({1})));
    EXPECT_TRUE(WaitFor(
        [&] { return LookupdJson(l, "/lookup?topic=" + QueryEscape(topic))["channels"] == json::array({"c#ephemeral"}); },
        kRegisterTimeout));
  }
  consumer.Close();
  for (int l = 0; l < 2; ++l) {
    EXPECT_TRUE(WaitFor(
        [&] { return HttpCall(lookupd(l).http_port(), "GET", "/lookup?topic=" + QueryEscape(topic)).status == 404; },
        kRegisterTimeout))
        << "lookupd " << l << ": " << LookupdJson(l, "/debug").dump();
    EXPECT_TRUE(LookupdJson(l, "/channels?topic=" + QueryEscape(topic))["channels"].empty());
  }
}

TEST_F(ClusterTest, NewTopicGetsTheChannelsTheClusterKnows) {
  QdPost(0, "/topic/create?topic=pre");
  QdPost(0, "/channel/create?topic=pre&channel=archive");
  // An ephemeral channel known to a lookupd is never pre-created.
  ASSERT_EQ(HttpCall(lookupd(1).http_port(), "POST", "/channel/create?topic=pre&channel=" + QueryEscape("tmp#ephemeral")).status,
            200);
  ASSERT_TRUE(WaitFor([&] { return LookupdJson(0, "/channels?topic=pre")["channels"] == json::array({"archive"}); },
                      kRegisterTimeout));

  // qd 2 has never seen the topic: its first message must reach "archive".
  QdPost(2, "/pub?topic=pre", "first");
  auto channel_depth = [&](const std::string& channel) -> int64_t {
    json stats = HttpCall(qd(2).http_port(), "GET", "/stats?format=json&topic=pre").Json();
    if (!stats.is_object() || !stats["topics"].is_array() || stats["topics"].empty()) return -1;
    const json* c = FindByName(stats["topics"][0]["channels"], "channel_name", channel);
    return c ? (*c)["depth"].get<int64_t>() : -1;
  };
  EXPECT_TRUE(WaitFor([&] { return channel_depth("archive") == 1; }, kRegisterTimeout))
      << HttpCall(qd(2).http_port(), "GET", "/stats?format=json&topic=pre").body;
  EXPECT_EQ(channel_depth("tmp#ephemeral"), -1);
  // And qd 2 registers the channel it created.
  EXPECT_TRUE(WaitFor(
      [&] { return LookupdJson(0, "/debug")["channel:pre:archive"].size() == 2; }, kRegisterTimeout));
}

TEST_F(ClusterTest, ConfigPutReconcilesLookupdConnections) {
  HttpReply got = HttpCall(qd(2).http_port(), "GET", "/config/nsqlookupd_tcp_addresses");
  EXPECT_EQ(got.Json(), json::array({lookupd(0).tcp_address(), lookupd(1).tcp_address()}));

  json only_first = json::array({lookupd(0).tcp_address()});
  HttpReply put = HttpCall(qd(2).http_port(), "PUT", "/config/nsqlookupd_tcp_addresses", only_first.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Json(), only_first);
  EXPECT_TRUE(WaitFor([&] { return NodeTcpPorts(1) == QdPorts({0, 1}); }, kRegisterTimeout)) << "qd 2 left lookupd 1";
  EXPECT_EQ(NodeTcpPorts(0), AllQdTcpPorts());
  QdPost(2, "/pub?topic=cfg", "x");
  EXPECT_TRUE(WaitForLookup(0, "cfg", QdPorts({2})));
  EXPECT_EQ(HttpCall(lookupd(1).http_port(), "GET", "/lookup?topic=cfg").status, 404);

  json both = json::array({lookupd(0).tcp_address(), lookupd(1).tcp_address()});
  ASSERT_EQ(HttpCall(qd(2).http_port(), "PUT", "/config/nsqlookupd_tcp_addresses", both.dump()).status, 200);
  // The new connection replays what qd 2 has.
  EXPECT_TRUE(WaitForLookup(1, "cfg", QdPorts({2})));
  EXPECT_EQ(NodeTcpPorts(1), AllQdTcpPorts());
}

}  // namespace
}  // namespace q::test
