// qd's HTTP API (spec: qd-http-api.md, behaviour.md §7-§10), endpoint by endpoint, with
// success and error codes. Each test starts its own qd; see qd_fixture.h.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

constexpr char kNsqHeader[] = "X-NSQ-Content-Type";
constexpr char kNsqHeaderValue[] = "nsq; version=1.0";

std::string Describe(const httplib::Result& r) {
  if (!r) return "<request failed: " + httplib::to_string(r.error()) + ">";
  return std::to_string(r->status) + " \"" + r->body.substr(0, 300) + "\"";
}

::testing::AssertionResult HasNsqHeader(const httplib::Result& r) {
  if (!r) return ::testing::AssertionFailure() << Describe(r);
  if (!r->has_header(kNsqHeader)) {
    return ::testing::AssertionFailure() << "missing header " << kNsqHeader;
  }
  if (r->get_header_value(kNsqHeader) != kNsqHeaderValue) {
    return ::testing::AssertionFailure()
           << kNsqHeader << " is \"" << r->get_header_value(kNsqHeader) << "\"";
  }
  return ::testing::AssertionSuccess();
}

// status, JSON body {"message": message}, JSON content type, NSQ header.
::testing::AssertionResult HttpError(const httplib::Result& r, int status,
                                     const std::string& message) {
  if (!r) return ::testing::AssertionFailure() << Describe(r);
  if (r->status != status) {
    return ::testing::AssertionFailure()
           << "expected " << status << " " << message << ", got " << Describe(r);
  }
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("message") || j["message"] != message) {
    return ::testing::AssertionFailure()
           << "expected body {\"message\":\"" << message << "\"}, got " << Describe(r);
  }
  if (r->get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure()
           << "error Content-Type is \"" << r->get_header_value("Content-Type") << "\"";
  }
  return HasNsqHeader(r);
}

// 200 with an empty body (create/delete/empty/pause endpoints).
::testing::AssertionResult HttpEmptyOk(const httplib::Result& r) {
  if (!r) return ::testing::AssertionFailure() << Describe(r);
  if (r->status != 200 || !r->body.empty()) {
    return ::testing::AssertionFailure() << "expected 200 with empty body, got " << Describe(r);
  }
  return HasNsqHeader(r);
}

// 200 with the literal text OK (/pub, /mpub).
::testing::AssertionResult HttpTextOk(const httplib::Result& r) {
  if (!r) return ::testing::AssertionFailure() << Describe(r);
  if (r->status != 200 || r->body != "OK") {
    return ::testing::AssertionFailure() << "expected 200 OK, got " << Describe(r);
  }
  return HasNsqHeader(r);
}

::testing::AssertionResult HasKeys(const json& obj, const std::vector<std::string>& keys) {
  if (!obj.is_object()) return ::testing::AssertionFailure() << "not an object: " << obj;
  for (const auto& k : keys) {
    if (!obj.contains(k))
      return ::testing::AssertionFailure() << "missing key \"" << k << "\" in " << obj;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsE2eObject(const json& obj) {
  if (!obj.contains("e2e_processing_latency")) {
    return ::testing::AssertionFailure() << "missing e2e_processing_latency";
  }
  const json& e = obj["e2e_processing_latency"];
  if (!e.is_object()) {
    return ::testing::AssertionFailure() << "e2e_processing_latency must be an object, got " << e;
  }
  if (!e.contains("count") || !e.contains("percentiles")) {
    return ::testing::AssertionFailure() << "e2e_processing_latency lacks count/percentiles: " << e;
  }
  return ::testing::AssertionSuccess();
}

class HttpTest : public QdFixture {
 protected:
  static constexpr int kMaxMsgSize = 1024;
  static constexpr int kMaxBodySize = 8192;
  std::vector<std::string> Flags() const override {
    return {"--max-msg-size=" + std::to_string(kMaxMsgSize),
            "--max-body-size=" + std::to_string(kMaxBodySize)};
  }

  void CreateTopicAndChannel(const std::string& topic, const std::string& channel) {
    ASSERT_TRUE(HttpEmptyOk(Post("/topic/create?topic=" + QueryEscape(topic))));
    ASSERT_TRUE(HttpEmptyOk(
        Post("/channel/create?topic=" + QueryEscape(topic) + "&channel=" + QueryEscape(channel))));
  }

  bool TopicExists(const std::string& topic) { return TopicStats(topic).is_object(); }
  bool ChannelExists(const std::string& topic, const std::string& channel) {
    return ChannelStats(topic, channel).is_object();
  }
};

// ---------------------------------------------------------------- /ping /info

TEST_F(HttpTest, PingReturnsOkWithoutNsqHeader) {
  auto r = Get("/ping");
  ASSERT_TRUE(r) << Describe(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "OK");
  EXPECT_FALSE(r->has_header(kNsqHeader)) << "/ping must not carry " << kNsqHeader;
}

TEST_F(HttpTest, InfoReportsVersionPortsAndLimits) {
  auto r = Get("/info");
  ASSERT_TRUE(r) << Describe(r);
  ASSERT_EQ(r->status, 200) << Describe(r);
  EXPECT_TRUE(HasNsqHeader(r));
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/json", 0), 0u);
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(
      HasKeys(j, {"version", "broadcast_address", "hostname", "http_port", "tcp_port", "start_time",
                  "max_heartbeat_interval", "max_output_buffer_size", "max_output_buffer_timeout",
                  "max_deflate_level", "topology_zone", "topology_region"}));
  ASSERT_TRUE(j["version"].is_string());
  std::string v = j["version"];
  EXPECT_EQ(std::count(v.begin(), v.end(), '.'), 2) << "version must be semver: " << v;
  EXPECT_EQ(j["http_port"], qd_->http_port());
  EXPECT_EQ(j["tcp_port"], qd_->tcp_port());
  int64_t now = std::time(nullptr);
  EXPECT_NEAR(j["start_time"].get<int64_t>(), now, 60);
  EXPECT_EQ(j["max_heartbeat_interval"], 60000000000LL) << "nanoseconds";
  EXPECT_EQ(j["max_output_buffer_size"], 65536);
  EXPECT_EQ(j["max_output_buffer_timeout"], 30000000000LL) << "nanoseconds";
  EXPECT_EQ(j["max_deflate_level"], 6);
  EXPECT_EQ(j["topology_zone"], "");
  EXPECT_EQ(j["topology_region"], "");
  EXPECT_TRUE(j["broadcast_address"].is_string());
  EXPECT_TRUE(j["hostname"].is_string());
}

// nsqd's /info has no https_port (that is only in the TLS_REQUIRED answer, see tls_test.cc);
// its topology fields echo the flags.
class HttpTopologyTest : public HttpTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--topology-zone=zone-a", "--topology-region=region-1"}; }
};

TEST_F(HttpTopologyTest, InfoReportsTheTopologyFlags) {
  auto r = Get("/info");
  ASSERT_TRUE(r) << Describe(r);
  ASSERT_EQ(r->status, 200) << Describe(r);
  json j = json::parse(r->body, nullptr, false);
  EXPECT_EQ(j["topology_zone"], "zone-a") << r->body;
  EXPECT_EQ(j["topology_region"], "region-1") << r->body;
  // They do what they do in nsqd, so qd does not warn that they have no effect.
  EXPECT_EQ(qd_->log().find("it has no effect"), std::string::npos) << qd_->log();
}

// ---------------------------------------------------------------- /pub

TEST_F(HttpTest, PubPublishesMessageToSubscriber) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  EXPECT_TRUE(HttpTextOk(Post("/pub?topic=t", "via http")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "via http");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.id.size(), 16u);
}

TEST_F(HttpTest, PubCreatesTopic) {
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=created_by_pub", "x")));
  json t = TopicStats("created_by_pub");
  ASSERT_TRUE(t.is_object()) << Stats();
  EXPECT_EQ(Val(t, "message_count", -1), 1);
  EXPECT_EQ(Val(t, "depth", -1), 1);
}

TEST_F(HttpTest, PubAtMaxMsgSizeIsAccepted) {
  EXPECT_TRUE(HttpTextOk(Post("/pub?topic=t", std::string(kMaxMsgSize, 'x'))));
}

TEST_F(HttpTest, PubWithDeferHoldsMessageAsDeferred) {
  CreateTopicAndChannel("t", "c");
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=t&defer=60000", "later")));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1)) << ChannelStats("t", "c");
  json ch = ChannelStats("t", "c");
  EXPECT_EQ(Val(ch, "depth", -1), 0);
  EXPECT_EQ(Val(ch, "message_count", -1), 1) << "deferred copies count at copy time";
}

TEST_F(HttpTest, PubWithShortDeferIsDeliveredAfterTheDelay) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=t&defer=1000", "soon")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m, 6000ms));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_GE(ms, 800);
  EXPECT_EQ(m.body, "soon");
}

TEST_F(HttpTest, PubWithEmptyBodyIsMsgEmpty) {
  EXPECT_TRUE(HttpError(Post("/pub?topic=t", ""), 400, "MSG_EMPTY"));
}

TEST_F(HttpTest, PubAboveMaxMsgSizeIsMsgTooBig) {
  EXPECT_TRUE(
      HttpError(Post("/pub?topic=t", std::string(kMaxMsgSize + 1, 'x')), 413, "MSG_TOO_BIG"));
  EXPECT_FALSE(TopicExists("t")) << "a rejected publish must not create the topic";
}

TEST_F(HttpTest, PubWithoutTopicIsMissingArgTopic) {
  EXPECT_TRUE(HttpError(Post("/pub", "x"), 400, "MISSING_ARG_TOPIC"));
}

TEST_F(HttpTest, PubWithInvalidTopicIsInvalidTopic) {
  EXPECT_TRUE(HttpError(Post("/pub?topic=bad!topic", "x"), 400, "INVALID_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/pub?topic=" + std::string(65, 'a'), "x"), 400, "INVALID_TOPIC"));
}

TEST_F(HttpTest, PubChecksBodyBeforeTopic) {
  EXPECT_TRUE(HttpError(Post("/pub", ""), 400, "MSG_EMPTY"));
  EXPECT_TRUE(HttpError(Post("/pub?topic=bad!topic", std::string(kMaxMsgSize + 1, 'x')), 413,
                        "MSG_TOO_BIG"));
}

TEST_F(HttpTest, PubWithInvalidDeferIsInvalidDefer) {
  for (const std::string d : {"abc", "-1", "3600001", "1.5"}) {
    SCOPED_TRACE("defer=" + d);
    EXPECT_TRUE(HttpError(Post("/pub?topic=t&defer=" + d, "x"), 400, "INVALID_DEFER"));
  }
  EXPECT_TRUE(HttpTextOk(Post("/pub?topic=t&defer=3600000", "x"))) << "max-req-timeout is allowed";
  EXPECT_TRUE(HttpTextOk(Post("/pub?topic=t&defer=0", "x")));
}

TEST_F(HttpTest, RepeatedQueryKeyUsesFirstValue) {
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=first&topic=second", "x")));
  EXPECT_TRUE(TopicExists("first"));
  EXPECT_FALSE(TopicExists("second"));
}

// ---------------------------------------------------------------- /mpub

TEST_F(HttpTest, MpubTextModeSplitsOnNewlinesAndSkipsEmptyLines) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t", "alpha\nbeta\n\ngamma\n")));
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m)) << i;
    got.push_back(m.body);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_TRUE(sub.ExpectNoFrame(300ms)) << "empty lines publish nothing";
  EXPECT_EQ(Val(TopicStats("t"), "message_count", -1), 3);
}

TEST_F(HttpTest, MpubTextModeWithoutLinesPublishesNothingAndSucceeds) {
  EXPECT_TRUE(HttpTextOk(Post("/mpub?topic=t", "\n\n")));
  json t = TopicStats("t");
  ASSERT_TRUE(t.is_object()) << "/mpub creates the topic";
  EXPECT_EQ(Val(t, "message_count", -1), 0);
}

TEST_F(HttpTest, MpubBinaryFalseMeansTextMode) {
  for (const std::string b : {"false", "0"}) {
    SCOPED_TRACE("binary=" + b);
    ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t" + b + "&binary=" + b, "a\nb")));
    EXPECT_EQ(Val(TopicStats("t" + b), "message_count", -1), 2);
  }
}

TEST_F(HttpTest, MpubBinaryModePublishesEveryMessage) {
  int n = 0;
  for (const std::string b : {"true", "1", "yes"}) {
    SCOPED_TRACE("binary=" + b);
    std::string body = EncodeMpubBody({"x", "line\nwith newline", std::string(kMaxMsgSize, 'z')});
    ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=bin&binary=" + b, body)));
    n += 3;
    EXPECT_TRUE(WaitForTopicValue("bin", "message_count", n));
  }
  TestClient sub = NewSubscriber("bin", "c");
  ASSERT_TRUE(sub.Rdy(20));
  int with_newline = 0;
  for (int i = 0; i < n; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m)) << i;
    if (m.body == "line\nwith newline") ++with_newline;
  }
  EXPECT_EQ(with_newline, 3) << "binary mode must not split on newlines";
}

TEST_F(HttpTest, MpubBinaryWithZeroCountIsBadBody) {
  EXPECT_TRUE(HttpError(Post("/mpub?topic=t&binary=true", BE32(0)), 413, "BAD_BODY"));
}

TEST_F(HttpTest, MpubBinaryWithEmptyMessageIsBadMessage) {
  std::string body = BE32(2) + BE32(1) + "a" + BE32(0);
  EXPECT_TRUE(HttpError(Post("/mpub?topic=t&binary=true", body), 413, "BAD_MESSAGE"));
  json t = TopicStats("t");
  EXPECT_TRUE(t.is_object()) << "/mpub creates the topic before reading the body";
  EXPECT_EQ(Val(t, "message_count", 0), 0) << "all-or-nothing";
}

TEST_F(HttpTest, MpubBinaryWithTooBigMessageIsBadMessage) {
  std::string body = BE32(1) + BE32(kMaxMsgSize + 1) + std::string(kMaxMsgSize + 1, 'x');
  EXPECT_TRUE(HttpError(Post("/mpub?topic=t&binary=true", body), 413, "BAD_MESSAGE"));
}

TEST_F(HttpTest, MpubTextLineAboveMaxMsgSizeIsMsgTooBig) {
  std::string body = "ok\n" + std::string(kMaxMsgSize + 1, 'x') + "\n";
  EXPECT_TRUE(HttpError(Post("/mpub?topic=t", body), 413, "MSG_TOO_BIG"));
}

TEST_F(HttpTest, MpubBodyAboveMaxBodySizeIsBodyTooBig) {
  std::string body;
  while (body.size() <= static_cast<size_t>(kMaxBodySize)) body += std::string(100, 'x') + "\n";
  EXPECT_TRUE(HttpError(Post("/mpub?topic=t", body), 413, "BODY_TOO_BIG"));
}

TEST_F(HttpTest, MpubTopicErrors) {
  EXPECT_TRUE(HttpError(Post("/mpub", "a\nb"), 400, "MISSING_ARG_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/mpub?topic=bad!topic", "a\nb"), 400, "INVALID_TOPIC"));
}

// ---------------------------------------------------------------- /stats

TEST_F(HttpTest, StatsJsonHasDocumentedShape) {
  TestClient sub = NewClient();
  ASSERT_TRUE(IsOk(sub.Identify(R"({"client_id":"cid","hostname":"host1","user_agent":"ua/1"})")));
  ASSERT_TRUE(IsOk(sub.Sub("t", "c")));
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "hello")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 1));

  auto r = Get("/stats?format=json");
  ASSERT_TRUE(r) << Describe(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_TRUE(HasNsqHeader(r));
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/json", 0), 0u);
  json s = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(HasKeys(s, {"version", "health", "start_time", "topics", "memory", "producers"}));
  EXPECT_TRUE(s["version"].is_string());
  EXPECT_EQ(s["health"], "OK");
  EXPECT_TRUE(s["start_time"].is_number_integer());
  EXPECT_TRUE(HasKeys(s["memory"], {"heap_objects", "heap_idle_bytes", "heap_in_use_bytes",
                                    "heap_released_bytes", "gc_pause_usec_100", "gc_pause_usec_99",
                                    "gc_pause_usec_95", "next_gc_bytes", "gc_total_runs"}));

  ASSERT_TRUE(s["topics"].is_array());
  ASSERT_EQ(s["topics"].size(), 1u) << s["topics"];
  const json& t = s["topics"][0];
  ASSERT_TRUE(HasKeys(t, {"topic_name", "depth", "backend_depth", "message_count", "message_bytes",
                          "paused", "e2e_processing_latency", "channels"}));
  EXPECT_TRUE(IsE2eObject(t));
  EXPECT_EQ(t["topic_name"], "t");
  EXPECT_EQ(t["message_count"], 1);
  EXPECT_EQ(t["message_bytes"], 5);
  EXPECT_EQ(t["depth"], 0);
  EXPECT_EQ(t["paused"], false);

  ASSERT_TRUE(t["channels"].is_array());
  ASSERT_EQ(t["channels"].size(), 1u);
  const json& c = t["channels"][0];
  ASSERT_TRUE(HasKeys(c, {"channel_name", "depth", "backend_depth", "in_flight_count",
                          "deferred_count", "message_count", "requeue_count", "timeout_count",
                          "client_count", "paused", "e2e_processing_latency", "clients"}));
  EXPECT_TRUE(IsE2eObject(c));
  EXPECT_EQ(c["channel_name"], "c");
  EXPECT_EQ(c["depth"], 0);
  EXPECT_EQ(c["in_flight_count"], 1);
  EXPECT_EQ(c["deferred_count"], 0);
  EXPECT_EQ(c["message_count"], 1);
  EXPECT_EQ(c["client_count"], 1);
  EXPECT_EQ(c["paused"], false);

  ASSERT_TRUE(c["clients"].is_array());
  ASSERT_EQ(c["clients"].size(), 1u);
  const json& cl = c["clients"][0];
  ASSERT_TRUE(HasKeys(cl, {"client_id",
                           "hostname",
                           "version",
                           "remote_address",
                           "state",
                           "ready_count",
                           "in_flight_count",
                           "message_count",
                           "finish_count",
                           "requeue_count",
                           "connect_ts",
                           "sample_rate",
                           "deflate",
                           "snappy",
                           "user_agent",
                           "tls",
                           "tls_cipher_suite",
                           "tls_version",
                           "tls_negotiated_protocol",
                           "tls_negotiated_protocol_is_mutual",
                           "topology_zone",
                           "topology_region"}));
  EXPECT_EQ(cl["client_id"], "cid");
  EXPECT_EQ(cl["hostname"], "host1");
  EXPECT_EQ(cl["user_agent"], "ua/1");
  EXPECT_EQ(cl["version"], "V2");
  EXPECT_EQ(cl["state"], 3);
  EXPECT_EQ(cl["ready_count"], 1);
  EXPECT_EQ(cl["in_flight_count"], 1);
  EXPECT_EQ(cl["message_count"], 1);
  EXPECT_EQ(cl["finish_count"], 0);
  EXPECT_EQ(cl["deflate"], false);
  EXPECT_EQ(cl["snappy"], false);
  EXPECT_EQ(cl["tls"], false);
  ASSERT_TRUE(cl["remote_address"].is_string());
  EXPECT_EQ(cl["remote_address"].get<std::string>().rfind("127.0.0.1:", 0), 0u)
      << cl["remote_address"];
  EXPECT_NEAR(cl["connect_ts"].get<int64_t>(), std::time(nullptr), 60);

  // The TCP publisher is listed as a producer with its pub_counts.
  ASSERT_TRUE(s["producers"].is_array()) << s["producers"];
  bool found = false;
  for (const auto& p : s["producers"]) {
    if (!p.contains("pub_counts")) continue;
    for (const auto& pc : p["pub_counts"]) {
      if (pc.value("topic", "") == "t" && pc.value("count", 0) == 1) found = true;
    }
  }
  EXPECT_TRUE(found) << "no producer with pub_counts [{topic:t,count:1}]: " << s["producers"];
}

TEST_F(HttpTest, StatsCountersFollowDeliveries) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(2));
  ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t", "1\n2\n3")));
  ReceivedMessage a, b;
  ASSERT_TRUE(sub.ReadMessage(&a));
  ASSERT_TRUE(sub.ReadMessage(&b));
  ASSERT_TRUE(sub.Fin(a.id));
  ASSERT_TRUE(sub.Req(b.id, 60000));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1));
  ReceivedMessage c3;
  ASSERT_TRUE(sub.ReadMessage(&c3));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 1));
  json ch = ChannelStats("t", "c");
  EXPECT_EQ(Val(ch, "message_count", -1), 3);
  EXPECT_EQ(Val(ch, "requeue_count", -1), 1);
  EXPECT_EQ(Val(ch, "depth", -1), 0);
  EXPECT_EQ(Val(ch, "timeout_count", -1), 0);
  ASSERT_EQ(ch["clients"].size(), 1u);
  EXPECT_EQ(Val(ch["clients"][0], "finish_count", -1), 1);
  EXPECT_EQ(Val(ch["clients"][0], "requeue_count", -1), 1);
  EXPECT_EQ(Val(ch["clients"][0], "message_count", -1), 3);
  EXPECT_EQ(Val(ch["clients"][0], "ready_count", -1), 2);
}

TEST_F(HttpTest, StatsTopicFilterSelectsOneTopic) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t1", "c"));
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t2", "c"));
  json s = Stats("topic=t1");
  ASSERT_TRUE(s["topics"].is_array());
  ASSERT_EQ(s["topics"].size(), 1u);
  EXPECT_EQ(s["topics"][0]["topic_name"], "t1");
  json none = Stats("topic=nope");
  ASSERT_TRUE(none.contains("topics"));
  EXPECT_TRUE(none["topics"].is_null())
      << "unknown topic gives \"topics\": null, got " << none["topics"];
}

TEST_F(HttpTest, StatsChannelFilterDropsTopicsWithoutThatChannel) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t1", "c1"));
  ASSERT_TRUE(HttpEmptyOk(Post("/channel/create?topic=t1&channel=c2")));
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t2", "c2"));
  json s = Stats("channel=c1");
  ASSERT_TRUE(s["topics"].is_array()) << s;
  ASSERT_EQ(s["topics"].size(), 1u) << s["topics"];
  EXPECT_EQ(s["topics"][0]["topic_name"], "t1");
  ASSERT_EQ(s["topics"][0]["channels"].size(), 1u);
  EXPECT_EQ(s["topics"][0]["channels"][0]["channel_name"], "c1");

  json both = Stats("topic=t1&channel=c2");
  ASSERT_EQ(both["topics"].size(), 1u);
  ASSERT_EQ(both["topics"][0]["channels"].size(), 1u);
  EXPECT_EQ(both["topics"][0]["channels"][0]["channel_name"], "c2");
}

TEST_F(HttpTest, StatsIncludeClientsFalseGivesNullClients) {
  TestClient sub = NewSubscriber("t", "c");
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  for (const std::string v : {"false", "0"}) {
    SCOPED_TRACE("include_clients=" + v);
    json s = Stats("include_clients=" + v);
    ASSERT_TRUE(s["topics"].is_array() && s["topics"].size() == 1) << s;
    const json& c = s["topics"][0]["channels"][0];
    ASSERT_TRUE(c.contains("clients"));
    EXPECT_TRUE(c["clients"].is_null()) << c["clients"];
    EXPECT_EQ(Val(c, "client_count", -1), 1) << "client_count is still reported";
    ASSERT_TRUE(s.contains("producers"));
    EXPECT_TRUE(s["producers"].is_null()) << s["producers"];
  }
  for (const std::string v : {"true", "1", "maybe"}) {
    SCOPED_TRACE("include_clients=" + v + " (anything but false/0 means true)");
    json with = Stats("include_clients=" + v);
    ASSERT_TRUE(with["topics"].is_array() && with["topics"].size() == 1) << with;
    EXPECT_TRUE(with["topics"][0]["channels"][0]["clients"].is_array());
  }
}

TEST_F(HttpTest, StatsIncludeMemFalseOmitsMemory) {
  json s = Stats("include_mem=false");
  ASSERT_TRUE(s.is_object());
  EXPECT_FALSE(s.contains("memory")) << s;
  json with = Stats();
  EXPECT_TRUE(with.contains("memory") && with["memory"].is_object());
}

TEST_F(HttpTest, StatsWithNoTopicsHasEmptyTopicList) {
  json s = Stats();
  ASSERT_TRUE(s.contains("topics"));
  EXPECT_TRUE(s["topics"].is_array() && s["topics"].empty()) << s["topics"];
}

TEST_F(HttpTest, StatsSortsTopicsAndChannelsByName) {
  for (const std::string t : {"tb", "ta", "tc"}) {
    ASSERT_TRUE(HttpEmptyOk(Post("/topic/create?topic=" + t)));
  }
  for (const std::string c : {"z", "x", "y"}) {
    ASSERT_TRUE(HttpEmptyOk(Post("/channel/create?topic=ta&channel=" + c)));
  }
  json s = Stats();
  std::vector<std::string> topics, channels;
  for (const auto& t : s["topics"]) topics.push_back(t["topic_name"]);
  for (const auto& c : s["topics"][0]["channels"]) channels.push_back(c["channel_name"]);
  EXPECT_EQ(topics, (std::vector<std::string>{"ta", "tb", "tc"}));
  EXPECT_EQ(channels, (std::vector<std::string>{"x", "y", "z"}));
}

TEST_F(HttpTest, StatsDefaultFormatAnswers) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  auto r = Get("/stats");
  ASSERT_TRUE(r) << Describe(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->body.empty());
}

// ---------------------------------------------------------------- /topic/*

TEST_F(HttpTest, TopicCreateCreatesTopicAndIsIdempotent) {
  EXPECT_TRUE(HttpEmptyOk(Post("/topic/create?topic=made")));
  EXPECT_TRUE(TopicExists("made"));
  EXPECT_TRUE(HttpEmptyOk(Post("/topic/create?topic=made")));
}

TEST_F(HttpTest, TopicCreateErrors) {
  EXPECT_TRUE(HttpError(Post("/topic/create"), 400, "MISSING_ARG_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/topic/create?topic=bad!topic"), 400, "INVALID_TOPIC"));
}

TEST_F(HttpTest, TopicDeleteRemovesTopic) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("gone", "c"));
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=gone", "x")));
  EXPECT_TRUE(HttpEmptyOk(Post("/topic/delete?topic=gone")));
  EXPECT_TRUE(WaitFor([&] { return !TopicExists("gone"); }, 5s));
  EXPECT_TRUE(HttpError(Post("/topic/delete?topic=gone"), 404, "TOPIC_NOT_FOUND"));
}

TEST_F(HttpTest, TopicDeleteErrors) {
  EXPECT_TRUE(HttpError(Post("/topic/delete"), 400, "MISSING_ARG_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/topic/delete?topic=nope"), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(HttpError(Post("/topic/delete?topic=bad!name"), 404, "TOPIC_NOT_FOUND"))
      << "delete does not validate the name";
}

TEST_F(HttpTest, TopicDeleteClosesSubscribers) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/delete?topic=t")));
  EXPECT_TRUE(sub.ExpectClosed());
}

TEST_F(HttpTest, TopicEmptyDropsBacklog) {
  ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t", "1\n2\n3")));
  ASSERT_TRUE(WaitForTopicValue("t", "depth", 3));
  EXPECT_TRUE(HttpEmptyOk(Post("/topic/empty?topic=t")));
  EXPECT_TRUE(WaitForTopicValue("t", "depth", 0));
  EXPECT_EQ(Val(TopicStats("t"), "message_count", -1), 3) << "counters are not reset";
}

TEST_F(HttpTest, TopicEmptyErrors) {
  EXPECT_TRUE(HttpError(Post("/topic/empty"), 400, "MISSING_ARG_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/topic/empty?topic=bad!topic"), 400, "INVALID_TOPIC"));
  EXPECT_TRUE(HttpError(Post("/topic/empty?topic=nope"), 404, "TOPIC_NOT_FOUND"));
}

TEST_F(HttpTest, TopicPauseHoldsMessagesInTopicAndUnpauseFansOut) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/pause?topic=t")));
  EXPECT_EQ(Val(TopicStats("t"), "paused", false), true);
  ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t", "1\n2")));
  EXPECT_TRUE(WaitForTopicValue("t", "depth", 2));
  EXPECT_EQ(Val(ChannelStats("t", "c"), "depth", -1), 0) << "paused topic must not fan out";
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/unpause?topic=t")));
  EXPECT_EQ(Val(TopicStats("t"), "paused", true), false);
  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 2));
  EXPECT_TRUE(WaitForTopicValue("t", "depth", 0));
}

TEST_F(HttpTest, TopicPauseErrors) {
  for (const std::string op : {"pause", "unpause"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(HttpError(Post("/topic/" + op), 400, "MISSING_ARG_TOPIC"));
    EXPECT_TRUE(HttpError(Post("/topic/" + op + "?topic=nope"), 404, "TOPIC_NOT_FOUND"));
  }
}

// ---------------------------------------------------------------- /channel/*

TEST_F(HttpTest, ChannelCreateCreatesChannelInExistingTopic) {
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/create?topic=t")));
  EXPECT_TRUE(HttpEmptyOk(Post("/channel/create?topic=t&channel=c")));
  EXPECT_TRUE(ChannelExists("t", "c"));
  // It receives messages published afterwards.
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=t", "x")));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 1));
}

TEST_F(HttpTest, ChannelCreateDoesNotCreateTheTopic) {
  EXPECT_TRUE(HttpError(Post("/channel/create?topic=nope&channel=c"), 404, "TOPIC_NOT_FOUND"));
  EXPECT_FALSE(TopicExists("nope"));
}

TEST_F(HttpTest, ChannelEndpointsValidateArguments) {
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/create?topic=t")));
  for (const std::string op : {"create", "delete", "empty", "pause", "unpause"}) {
    SCOPED_TRACE(op);
    std::string p = "/channel/" + op;
    EXPECT_TRUE(HttpError(Post(p + "?channel=c"), 400, "MISSING_ARG_TOPIC"));
    EXPECT_TRUE(HttpError(Post(p + "?topic=bad!topic&channel=c"), 400, "INVALID_ARG_TOPIC"));
    EXPECT_TRUE(HttpError(Post(p + "?topic=t"), 400, "MISSING_ARG_CHANNEL"));
    EXPECT_TRUE(HttpError(Post(p + "?topic=t&channel=bad!chan"), 400, "INVALID_ARG_CHANNEL"));
    EXPECT_TRUE(HttpError(Post(p + "?topic=nope&channel=c"), 404, "TOPIC_NOT_FOUND"));
    if (op != "create") {
      EXPECT_TRUE(HttpError(Post(p + "?topic=t&channel=nope"), 404, "CHANNEL_NOT_FOUND"));
    }
  }
}

TEST_F(HttpTest, ChannelDeleteRemovesChannel) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicAndChannel("t", "c"));
  EXPECT_TRUE(HttpEmptyOk(Post("/channel/delete?topic=t&channel=c")));
  EXPECT_TRUE(WaitFor([&] { return !ChannelExists("t", "c"); }, 5s));
  EXPECT_TRUE(TopicExists("t"));
}

TEST_F(HttpTest, ChannelDeleteClosesSubscriberConnection) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  ASSERT_TRUE(HttpEmptyOk(Post("/channel/delete?topic=t&channel=c")));
  EXPECT_TRUE(sub.ExpectClosed());
  EXPECT_TRUE(WaitFor([&] { return !ChannelExists("t", "c"); }, 5s));
}

TEST_F(HttpTest, ChannelEmptyDropsQueuedAndInFlightMessages) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  ASSERT_TRUE(HttpTextOk(Post("/mpub?topic=t", "1\n2\n3")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", 2));
  ASSERT_TRUE(sub.Rdy(0));
  EXPECT_TRUE(HttpEmptyOk(Post("/channel/empty?topic=t&channel=c")));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 0));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  // The emptied in-flight message can no longer be finished (non-fatal).
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(IsError(sub.ReadFrame(), "E_FIN_FAILED"));
  EXPECT_TRUE(IsOk(sub.Pub("t", "x"))) << "E_FIN_FAILED is not fatal";
}

TEST_F(HttpTest, ChannelPauseStopsDeliveryAndUnpauseResumes) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  ASSERT_TRUE(HttpEmptyOk(Post("/channel/pause?topic=t&channel=c")));
  EXPECT_EQ(Val(ChannelStats("t", "c"), "paused", false), true);
  ASSERT_TRUE(HttpTextOk(Post("/pub?topic=t", "held")));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 1));
  EXPECT_TRUE(sub.ExpectNoFrame(600ms)) << "paused channel must not deliver";
  ASSERT_TRUE(HttpEmptyOk(Post("/channel/unpause?topic=t&channel=c")));
  EXPECT_EQ(Val(ChannelStats("t", "c"), "paused", true), false);
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "held");
}

TEST_F(HttpTest, EphemeralChannelDisappearsWhenLastConsumerLeaves) {
  auto a = std::make_unique<TestClient>(NewSubscriber("t", "e#ephemeral"));
  auto b = std::make_unique<TestClient>(NewSubscriber("t", "e#ephemeral"));
  ASSERT_TRUE(ChannelExists("t", "e#ephemeral")) << Stats();
  a.reset();
  ASSERT_TRUE(WaitForChannelValue("t", "e#ephemeral", "client_count", 1));
  EXPECT_TRUE(ChannelExists("t", "e#ephemeral")) << "one consumer is still there";
  b.reset();
  EXPECT_TRUE(WaitFor([&] { return !ChannelExists("t", "e#ephemeral"); }, 5s)) << Stats();
  EXPECT_TRUE(TopicExists("t")) << "a normal topic stays";
}

TEST_F(HttpTest, EphemeralTopicDisappearsWithItsLastChannel) {
  {
    TestClient sub = NewSubscriber("t#ephemeral", "c#ephemeral");
    ASSERT_TRUE(TopicExists("t#ephemeral")) << Stats();
  }
  EXPECT_TRUE(WaitFor([&] { return !TopicExists("t#ephemeral"); }, 5s)) << Stats();
}

TEST_F(HttpTest, EphemeralChannelCreatedOverHttpStays) {
  ASSERT_TRUE(HttpEmptyOk(Post("/topic/create?topic=t")));
  ASSERT_TRUE(HttpEmptyOk(Post("/channel/create?topic=t&channel=" + QueryEscape("h#ephemeral"))));
  EXPECT_TRUE(ChannelExists("t", "h#ephemeral"));
  // Still there after the scanner and pump had time to run.
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(ChannelExists("t", "h#ephemeral"));
}

// ---------------------------------------------------------------- /config

TEST_F(HttpTest, ConfigGetReturnsOptionValues) {
  auto r = Get("/config/max_msg_size");
  ASSERT_TRUE(r) << Describe(r);
  ASSERT_EQ(r->status, 200) << Describe(r);
  EXPECT_TRUE(HasNsqHeader(r));
  EXPECT_EQ(json::parse(r->body, nullptr, false), json(kMaxMsgSize)) << r->body;
  auto l = Get("/config/nsqlookupd_tcp_addresses");
  ASSERT_TRUE(l) << Describe(l);
  ASSERT_EQ(l->status, 200) << Describe(l);
  json addrs = json::parse(l->body, nullptr, false);
  EXPECT_TRUE(addrs.is_array() || addrs.is_null()) << l->body;
  EXPECT_TRUE(HttpError(Get("/config/no_such_option"), 400, "INVALID_OPTION"));
}

TEST_F(HttpTest, ConfigPutChangesOnlyLogLevelAndLookupdAddresses) {
  auto r = Http().Put("/config/log_level", "debug", "text/plain");
  ASSERT_TRUE(r) << Describe(r);
  EXPECT_EQ(r->status, 200) << Describe(r);
  EXPECT_TRUE(
      HttpError(Http().Put("/config/log_level", "loudest", "text/plain"), 400, "INVALID_VALUE"));
  EXPECT_TRUE(HttpError(Http().Put("/config/log_level", "", "text/plain"), 413, "INVALID_VALUE"));
  EXPECT_TRUE(
      HttpError(Http().Put("/config/max_msg_size", "5", "text/plain"), 400, "INVALID_OPTION"));
  EXPECT_TRUE(HttpError(Http().Put("/config/nsqlookupd_tcp_addresses", "not json", "text/plain"),
                        400, "INVALID_VALUE"));
  auto e = Http().Put("/config/nsqlookupd_tcp_addresses", "[]", "application/json");
  ASSERT_TRUE(e) << Describe(e);
  EXPECT_EQ(e->status, 200) << Describe(e);
}

// ---------------------------------------------------------------- router

TEST_F(HttpTest, UnknownPathIsNotFound) {
  EXPECT_TRUE(HttpError(Get("/no/such/path"), 404, "NOT_FOUND"));
  EXPECT_TRUE(HttpError(Post("/put?topic=t", "x"), 404, "NOT_FOUND")) << "pre-1.0 endpoint";
  EXPECT_TRUE(HttpError(Post("/dpub?topic=t", "x"), 404, "NOT_FOUND")) << "there is no /dpub";
}

TEST_F(HttpTest, WrongMethodIsMethodNotAllowed) {
  EXPECT_TRUE(HttpError(Get("/pub?topic=t"), 405, "METHOD_NOT_ALLOWED"));
  EXPECT_TRUE(HttpError(Get("/topic/create?topic=t"), 405, "METHOD_NOT_ALLOWED"));
  EXPECT_TRUE(HttpError(Post("/stats"), 405, "METHOD_NOT_ALLOWED"));
  EXPECT_TRUE(HttpError(Post("/info"), 405, "METHOD_NOT_ALLOWED"));
  EXPECT_FALSE(TopicExists("t"));
}

TEST_F(HttpTest, MalformedQueryStringIsInvalidRequest) {
  EXPECT_TRUE(HttpError(Get("/stats?format=json&topic=%zz"), 400, "INVALID_REQUEST"));
  EXPECT_TRUE(HttpError(Post("/topic/create?topic=%zz"), 400, "INVALID_REQUEST"));
  EXPECT_TRUE(HttpError(Post("/pub?topic=%zz", "x"), 400, "INVALID_REQUEST"));
}

TEST_F(HttpTest, NsqContentTypeHeaderIsOnEveryResponseExceptPing) {
  EXPECT_TRUE(HasNsqHeader(Get("/info")));
  EXPECT_TRUE(HasNsqHeader(Get("/stats?format=json")));
  EXPECT_TRUE(HasNsqHeader(Post("/pub?topic=t", "x")));
  EXPECT_TRUE(HasNsqHeader(Post("/mpub?topic=t", "x")));
  EXPECT_TRUE(HasNsqHeader(Post("/topic/create?topic=t2")));
  EXPECT_TRUE(HasNsqHeader(Post("/pub?topic=t", "")));  // error
  EXPECT_TRUE(HasNsqHeader(Get("/nope")));              // 404
  EXPECT_TRUE(HasNsqHeader(Get("/pub")));               // 405
  auto ping = Get("/ping");
  ASSERT_TRUE(ping);
  EXPECT_FALSE(ping->has_header(kNsqHeader));
}

}  // namespace
}  // namespace q::test
