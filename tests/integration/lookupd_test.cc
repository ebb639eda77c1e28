// qlookupd on its own: protocol V1 as qd speaks it (and bad input, which must end only the
// offending connection), and the HTTP API's shapes and errors (spec: lookupd.md §1, §4).
#include <chrono>
#include <thread>

#include "common/byte_order.h"
#include "tests/integration/lookupd_fixture.h"

namespace q::test {
namespace {

class LookupdTest : public LookupdFixture {
 protected:
  // A fresh connection can still identify and register: the daemon carried on.
  void ExpectStillServing() {
    V1Client c = NewPeer(7150, 7151);
    EXPECT_TRUE(c.Command("REGISTER alive_check").ok());
    EXPECT_EQ(Get("/ping").status, 200);
  }

  // Sends bytes on a new connection after the magic and expects error reply `expected`,
  // then the close.
  void ExpectFatal(const std::string& bytes, const std::string& expected, bool identify_first = false) {
    V1Client c;
    ASSERT_TRUE(c.Connect(lookupd_->tcp_port()));
    ASSERT_TRUE(c.Send("  V1"));
    if (identify_first) {
      V1Client::Reply identified =
          c.Identify(R"({"version":"1.3.0","tcp_port":1,"http_port":2,"broadcast_address":"b"})");
      ASSERT_EQ(identified.kind, V1Client::Reply::Kind::kData) << identified.Describe();
    }
    ASSERT_TRUE(c.Send(bytes));
    V1Client::Reply r = c.Read();
    EXPECT_EQ(r.data, expected) << r.Describe();
    EXPECT_TRUE(c.WaitClosed()) << "connection should close after " << expected;
  }
};

// --- protocol V1 ---------------------------------------------------------------------------

TEST_F(LookupdTest, BadMagicIsAnsweredWithSizedEBadProtocolAndClosed) {
  V1Client c;
  ASSERT_TRUE(c.Connect(lookupd_->tcp_port()));
  ASSERT_TRUE(c.Send("  V2"));
  V1Client::Reply r = c.Read();
  EXPECT_EQ(r.data, "E_BAD_PROTOCOL") << r.Describe();
  EXPECT_TRUE(c.WaitClosed());
  ExpectStillServing();
}

TEST_F(LookupdTest, PingNeedsNoIdentify) {
  V1Client c;
  ASSERT_TRUE(c.Connect(lookupd_->tcp_port()));
  ASSERT_TRUE(c.Send("  V1"));
  EXPECT_TRUE(c.Command("PING").ok());
  // Surrounding whitespace is trimmed.
  EXPECT_TRUE(c.Command("  PING \r").ok());
}

TEST_F(LookupdTest, UnknownCommandIsFatal) {
  ExpectFatal("FOO bar\n", "E_INVALID invalid command FOO");
  ExpectFatal("\n", "E_INVALID invalid command ");
  ExpectFatal("ping\n", "E_INVALID invalid command ping");
  ExpectStillServing();
}

TEST_F(LookupdTest, RegisterAndUnregisterNeedIdentify) {
  ExpectFatal("REGISTER t c\n", "E_INVALID client must IDENTIFY");
  ExpectFatal("UNREGISTER t\n", "E_INVALID client must IDENTIFY");
  ExpectStillServing();
}

TEST_F(LookupdTest, RegisterValidatesItsParams) {
  ExpectFatal("REGISTER\n", "E_INVALID REGISTER insufficient number of params", true);
  ExpectFatal("UNREGISTER\n", "E_INVALID UNREGISTER insufficient number of params", true);
  ExpectFatal("REGISTER bad!topic\n", "E_BAD_TOPIC REGISTER topic name 'bad!topic' is not valid", true);
  ExpectFatal("REGISTER t bad/chan\n", "E_BAD_CHANNEL REGISTER channel name 'bad/chan' is not valid", true);
  ExpectFatal("UNREGISTER " + std::string(65, 't') + "\n",
              "E_BAD_TOPIC UNREGISTER topic name '" + std::string(65, 't') + "' is not valid", true);
  ExpectStillServing();
  EXPECT_EQ(Get("/topics").Json()["topics"], json::array({"alive_check"}));
}

TEST_F(LookupdTest, BadIdentifyBodiesAreRejected) {
  auto identify = [](const std::string& body) {
    std::string bytes = "IDENTIFY\n";
    AppendBE32(bytes, static_cast<uint32_t>(body.size()));
    return bytes + body;
  };
  ExpectFatal(identify("{not json"), "E_BAD_BODY IDENTIFY failed to decode JSON body");
  ExpectFatal(identify("[1,2]"), "E_BAD_BODY IDENTIFY failed to decode JSON body");
  ExpectFatal(identify(R"({"version":"1.3.0","tcp_port":"4150","http_port":4151,"broadcast_address":"b"})"),
              "E_BAD_BODY IDENTIFY failed to decode JSON body");
  ExpectFatal(identify(R"({"version":"1.3.0","tcp_port":4150,"broadcast_address":"b"})"),
              "E_BAD_BODY IDENTIFY missing fields");
  ExpectFatal(identify(R"({"tcp_port":4150,"http_port":4151,"broadcast_address":"b"})"),
              "E_BAD_BODY IDENTIFY missing fields");
  ExpectFatal(identify("null"), "E_BAD_BODY IDENTIFY missing fields");
  // Sizes nsqlookupd would trust: negative (it panics) and huge (it allocates).
  std::string negative = "IDENTIFY\n";
  AppendBE32(negative, 0xFFFFFFFFu);
  ExpectFatal(negative, "E_BAD_BODY IDENTIFY invalid body size -1");
  std::string huge = "IDENTIFY\n";
  AppendBE32(huge, 64u << 20);
  ExpectFatal(huge, "E_BAD_BODY IDENTIFY invalid body size 67108864");
  ExpectFatal(identify(R"({"version":"1.3.0","tcp_port":1,"http_port":2,"broadcast_address":"b"})"),
              "E_INVALID cannot IDENTIFY again", /*identify_first=*/true);
  ExpectStillServing();
  // None of the refused peers was recorded; the one that identified before its second
  // IDENTIFY goes once lookupd has seen its connection close.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t producers = 0;
  while ((producers = Get("/nodes").Json()["producers"].size()) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(producers, 0u);
}

TEST_F(LookupdTest, TruncatedIdentifyBodyClosesWithoutRecordingThePeer) {
  V1Client c;
  ASSERT_TRUE(c.Connect(lookupd_->tcp_port()));
  std::string bytes = "  V1IDENTIFY\n";
  AppendBE32(bytes, 100);
  ASSERT_TRUE(c.Send(bytes + "{\"version\""));
  c.Close();  // the body can never be completed
  // A live peer proves lookupd still serves; it stays connected while /nodes is read, so the
  // only producer listed must be it (a closed peer's removal is asynchronous, and under load
  // /nodes could otherwise still see a just-closed alive-check peer).
  V1Client alive = NewPeer(7150, 7151);
  ASSERT_TRUE(alive.Command("REGISTER alive_check").ok());
  json producers = Get("/nodes").Json()["producers"];
  ASSERT_EQ(producers.size(), 1u) << producers.dump();
  EXPECT_EQ(producers[0]["tcp_port"], 7150);
}

TEST_F(LookupdTest, IdentifyReplyDescribesTheLookupd) {
  V1Client c;
  ASSERT_TRUE(c.Connect(lookupd_->tcp_port()));
  ASSERT_TRUE(c.Send("  V1"));
  V1Client::Reply r = c.Identify(
      R"({"version":"1.3.0","tcp_port":4150,"http_port":4151,"hostname":"h","broadcast_address":"b","unknown":[1]})");
  json j = json::parse(r.data, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.Describe();
  EXPECT_EQ(j["tcp_port"], lookupd_->tcp_port());
  EXPECT_EQ(j["http_port"], lookupd_->http_port());
  EXPECT_EQ(j["version"], "1.3.0");
  EXPECT_EQ(j["broadcast_address"], "127.0.0.1");
  EXPECT_TRUE(j["hostname"].is_string() && !j["hostname"].get<std::string>().empty());
}

TEST_F(LookupdTest, RegistrationsShowInTheHttpApi) {
  V1Client c = NewPeer(4150, 4151);
  std::string id = c.local_address();
  ASSERT_TRUE(c.Command("REGISTER t1 c1").ok());
  ASSERT_TRUE(c.Command("REGISTER t2").ok());
  ASSERT_TRUE(c.Command("PING").ok());

  json lookup = Get("/lookup?topic=t1").Json();
  EXPECT_EQ(lookup["channels"], json::array({"c1"}));
  ASSERT_EQ(lookup["producers"].size(), 1u);
  const json& p = lookup["producers"][0];
  EXPECT_EQ(p["remote_address"], id);
  EXPECT_EQ(p["hostname"], "test-host");
  EXPECT_EQ(p["broadcast_address"], "127.0.0.1");
  EXPECT_EQ(p["tcp_port"], 4150);
  EXPECT_EQ(p["http_port"], 4151);
  EXPECT_EQ(p["version"], "1.3.0");
  EXPECT_EQ(p["topology_zone"], "");
  EXPECT_EQ(p["topology_region"], "");

  json nodes = Get("/nodes").Json();
  ASSERT_EQ(nodes["producers"].size(), 1u);
  const json& n = nodes["producers"][0];
  EXPECT_EQ(n["remote_address"], id);
  std::vector<std::string> topics = n["topics"];
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(n["tombstones"], json::array({false, false}));

  json debug = Get("/debug").Json();
  ASSERT_TRUE(debug.contains("client::"));
  ASSERT_TRUE(debug.contains("channel:t1:c1"));
  ASSERT_TRUE(debug.contains("topic:t2:"));
  const json& d = debug["topic:t2:"][0];
  EXPECT_EQ(d["id"], id);
  EXPECT_EQ(d["tombstoned"], false);
  EXPECT_TRUE(d["last_update"].is_number_integer());

  // UNREGISTER t c leaves the producer on the topic; UNREGISTER t removes it; keys stay.
  ASSERT_TRUE(c.Command("UNREGISTER t1 c1").ok());
  EXPECT_EQ(Get("/lookup?topic=t1").Json()["producers"].size(), 1u);
  ASSERT_TRUE(c.Command("UNREGISTER t1").ok());
  lookup = Get("/lookup?topic=t1").Json();
  EXPECT_EQ(lookup["producers"], json::array());
  EXPECT_EQ(lookup["channels"], json::array({"c1"}));
}

TEST_F(LookupdTest, EphemeralChannelDisappearsWithItsLastProducer) {
  V1Client c = NewPeer();
  ASSERT_TRUE(c.Command("REGISTER t e#ephemeral").ok());
  EXPECT_EQ(Get("/channels?topic=t").Json()["channels"], json::array({"e#ephemeral"}));
  ASSERT_TRUE(c.Command("UNREGISTER t e#ephemeral").ok());
  EXPECT_EQ(Get("/channels?topic=t").Json()["channels"], json::array());
}

TEST_F(LookupdTest, ClosedConnectionRemovesItsProducerAtOnce) {
  V1Client c = NewPeer();
  ASSERT_TRUE(c.Command("REGISTER gone c").ok());
  ASSERT_EQ(LookupTcpPorts(lookupd_->http_port(), "gone"), std::vector<int>{4150});
  c.Close();
  EXPECT_TRUE(WaitFor([&] { return LookupTcpPorts(lookupd_->http_port(), "gone").empty(); }, 5s));
  EXPECT_TRUE(WaitFor([&] { return Get("/nodes").Json()["producers"].empty(); }, 5s));
  // The keys remain.
  EXPECT_EQ(Get("/lookup?topic=gone").Json()["channels"], json::array({"c"}));
}

// --- HTTP API ------------------------------------------------------------------------------

TEST_F(LookupdTest, PingAndInfo) {
  HttpReply ping = Get("/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "OK");
  EXPECT_FALSE(ping.nsq_header);
  HttpReply info = Get("/info");
  EXPECT_EQ(info.status, 200);
  EXPECT_TRUE(info.nsq_header);
  EXPECT_EQ(info.Json(), (json{{"version", "1.3.0"}}));
}

TEST_F(LookupdTest, EmptyDirectoryListsAreEmptyArrays) {
  EXPECT_EQ(Get("/topics").body, R"({"topics":[]})");
  EXPECT_EQ(Get("/channels?topic=x").body, R"({"channels":[]})");
  EXPECT_EQ(Get("/nodes").body, R"({"producers":[]})");
  EXPECT_EQ(Get("/debug").body, "{}");
  ASSERT_EQ(Post("/topic/create?topic=t").status, 200);
  EXPECT_EQ(Get("/lookup?topic=t").Json(), (json{{"channels", json::array()}, {"producers", json::array()}}));
}

TEST_F(LookupdTest, RouterErrors) {
  HttpReply r = Get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Json(), (json{{"message", "NOT_FOUND"}}));
  r = Get("/topic/create?topic=t");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Json(), (json{{"message", "METHOD_NOT_ALLOWED"}}));
  r = Post("/lookup?topic=t");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.nsq_header);
}

TEST_F(LookupdTest, QueryErrors) {
  auto expect = [&](const std::string& method, const std::string& path, int status, const std::string& message) {
    HttpReply r = HttpCall(lookupd_->http_port(), method, path);
    EXPECT_EQ(r.status, status) << method << " " << path << " -> " << r.body;
    EXPECT_EQ(r.Json(), (json{{"message", message}})) << method << " " << path;
    EXPECT_TRUE(r.nsq_header) << path;
  };
  expect("GET", "/lookup", 400, "MISSING_ARG_TOPIC");
  expect("GET", "/lookup?topic=unknown", 404, "TOPIC_NOT_FOUND");
  expect("GET", "/channels", 400, "MISSING_ARG_TOPIC");
  expect("POST", "/topic/create", 400, "MISSING_ARG_TOPIC");
  expect("POST", "/topic/create?topic=bad!", 400, "INVALID_ARG_TOPIC");
  expect("POST", "/topic/delete", 400, "MISSING_ARG_TOPIC");
  expect("POST", "/channel/create?channel=c", 400, "MISSING_ARG_TOPIC");
  expect("POST", "/channel/create?topic=bad!&channel=c", 400, "INVALID_ARG_TOPIC");
  expect("POST", "/channel/create?topic=t", 400, "MISSING_ARG_CHANNEL");
  expect("POST", "/channel/create?topic=t&channel=bad!", 400, "INVALID_ARG_CHANNEL");
  expect("POST", "/channel/delete?topic=t", 400, "MISSING_ARG_CHANNEL");
  expect("POST", "/channel/delete?topic=t&channel=c", 404, "CHANNEL_NOT_FOUND");
  expect("POST", "/topic/tombstone?node=n:1", 400, "MISSING_ARG_TOPIC");
  expect("POST", "/topic/tombstone?topic=t", 400, "MISSING_ARG_NODE");
  EXPECT_EQ(Get("/ping").status, 200);
}

TEST_F(LookupdTest, CreateAndDeleteEditOnlyTheDirectory) {
  HttpReply r = Post("/channel/create?topic=t&channel=c");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(r.nsq_header);
  EXPECT_EQ(Get("/topics").Json()["topics"], json::array({"t"}));
  EXPECT_EQ(Get("/channels?topic=t").Json()["channels"], json::array({"c"}));
  ASSERT_EQ(Post("/channel/create?topic=t&channel=d").status, 200);
  ASSERT_EQ(Post("/channel/delete?topic=t&channel=c").status, 200);
  EXPECT_EQ(Get("/channels?topic=t").Json()["channels"], json::array({"d"}));
  ASSERT_EQ(Post("/topic/delete?topic=t").status, 200);
  EXPECT_EQ(Get("/topics").Json()["topics"], json::array());
  EXPECT_EQ(Get("/channels?topic=t").Json()["channels"], json::array());
  EXPECT_EQ(Post("/topic/delete?topic=never").status, 200);
  // Nothing matched: still 200.
  EXPECT_EQ(Post("/topic/tombstone?topic=t&node=127.0.0.1:1").status, 200);
}

TEST_F(LookupdTest, PostWithoutContentLengthIsAccepted) {
  // What `curl -X POST http://host:4161/topic/create?topic=t` sends: no body, no length.
  V1Client raw;  // any TCP client will do
  ASSERT_TRUE(raw.Connect(lookupd_->http_port()));
  ASSERT_TRUE(raw.Send("POST /topic/create?topic=curl_t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(WaitFor([&] { return Get("/topics").Json()["topics"] == json::array({"curl_t"}); }, 5s));
}

TEST_F(LookupdTest, TombstoneHidesProducerFromLookupButNotFromNodes) {
  V1Client a = NewPeer(4150, 4151);
  V1Client b = NewPeer(5150, 5151);
  ASSERT_TRUE(a.Command("REGISTER t").ok());
  ASSERT_TRUE(a.Command("REGISTER u").ok());
  ASSERT_TRUE(b.Command("REGISTER t").ok());
  ASSERT_EQ(Post("/topic/tombstone?topic=t&node=127.0.0.1:4151").status, 200);
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "t"), std::vector<int>{5150});
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "u"), std::vector<int>{4150});  // per topic
  json nodes = Get("/nodes").Json();
  ASSERT_EQ(nodes["producers"].size(), 2u);
  for (const json& n : nodes["producers"]) {
    ASSERT_EQ(n["topics"].size(), n["tombstones"].size());
    for (size_t i = 0; i < n["topics"].size(); ++i) {
      bool expected = n["tcp_port"] == 4150 && n["topics"][i] == "t";
      EXPECT_EQ(n["tombstones"][i], expected) << n.dump();
    }
  }
  // A re-REGISTER does not lift it; UNREGISTER + REGISTER does.
  ASSERT_TRUE(a.Command("REGISTER t c").ok());
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "t"), std::vector<int>{5150});
  ASSERT_TRUE(a.Command("UNREGISTER t").ok());
  ASSERT_TRUE(a.Command("REGISTER t").ok());
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "t"), (std::vector<int>{4150, 5150}));
}

class LookupdShortTimeoutsTest : public LookupdTest {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--inactive-producer-timeout=1s", "-tombstone-lifetime=1s"};  // Go's single dash too
  }
};

TEST_F(LookupdShortTimeoutsTest, ProducerThatStopsPingingIsFilteredUntilItPingsAgain) {
  V1Client c = NewPeer();
  ASSERT_TRUE(c.Command("REGISTER quiet").ok());
  ASSERT_EQ(LookupTcpPorts(lookupd_->http_port(), "quiet"), std::vector<int>{4150});
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return LookupTcpPorts(lookupd_->http_port(), "quiet").empty(); }, 10s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(Get("/nodes").Json()["producers"].size(), 0u);
  // Still registered: /debug shows it, and a PING brings it back.
  EXPECT_TRUE(Get("/debug").Json().contains("topic:quiet:"));
  ASSERT_TRUE(c.Command("PING").ok());
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "quiet"), std::vector<int>{4150});
  EXPECT_EQ(Get("/nodes").Json()["producers"].size(), 1u);
}

TEST_F(LookupdShortTimeoutsTest, TombstoneExpires) {
  V1Client c = NewPeer();
  ASSERT_TRUE(c.Command("REGISTER t").ok());
  ASSERT_EQ(Post("/topic/tombstone?topic=t&node=127.0.0.1:4151").status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(LookupTcpPorts(lookupd_->http_port(), "t").empty());
  // Keep the producer active meanwhile, so only the tombstone decides.
  ASSERT_TRUE(WaitFor(
      [&] {
        EXPECT_TRUE(c.Command("PING").ok());
        return LookupTcpPorts(lookupd_->http_port(), "t") == std::vector<int>{4150};
      },
      10s, 50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

}  // namespace
}  // namespace q::test
