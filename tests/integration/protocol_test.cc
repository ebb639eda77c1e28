// The V2 TCP protocol of the real qd binary, command by command (spec: tcp-protocol.md,
// behaviour.md §3-§5). Each test starts its own qd; see qd_fixture.h.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// An error frame with this code, then the connection closes.
::testing::AssertionResult FatalError(TestClient& c, std::string_view code) {
  Frame f = c.ReadFrame();
  if (auto r = IsError(f, code); !r) return r;
  Frame next = c.ReadFrame();
  if (!next.closed()) {
    return ::testing::AssertionFailure()
           << "got " << f.Describe() << " but then, instead of a close: " << next.Describe();
  }
  return ::testing::AssertionSuccess();
}

// An error frame with exactly this text, then the connection closes.
::testing::AssertionResult FatalErrorText(TestClient& c, std::string_view text) {
  Frame f = c.ReadFrame();
  if (!f.IsError() || f.data != text) {
    return ::testing::AssertionFailure()
           << "expected error \"" << text << "\", got " << f.Describe();
  }
  Frame next = c.ReadFrame();
  if (!next.closed()) {
    return ::testing::AssertionFailure()
           << "got " << f.Describe() << " but then, instead of a close: " << next.Describe();
  }
  return ::testing::AssertionSuccess();
}

// Message ids travel back in text commands: exactly 16 printable bytes, no space/CR/LF.
::testing::AssertionResult IsUsableId(const std::string& id) {
  if (id.size() != 16) return ::testing::AssertionFailure() << "id length " << id.size();
  for (char ch : id) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7f) {
      return ::testing::AssertionFailure() << "id has a non-printable or space byte " << int(u);
    }
  }
  return ::testing::AssertionSuccess();
}

class ProtocolTest : public QdFixture {
 protected:
  static constexpr int kMaxMsgSize = 4096;
  std::vector<std::string> Flags() const override {
    return {"--max-msg-size=" + std::to_string(kMaxMsgSize)};
  }

  // Tests prove "no error frame was sent" by publishing to topic "probe" and reading OK.
  // The topic is created up front so that this probe never depends on topic creation.
  void SetUp() override {
    QdFixture::SetUp();
    if (HasFatalFailure()) return;
    auto r = Post("/topic/create?topic=probe");
    ASSERT_TRUE(r && r->status == 200) << "could not pre-create topic probe";
  }

  // A fresh connection can still publish: the daemon survived whatever came before.
  ::testing::AssertionResult DaemonStillServes() {
    TestClient c;
    if (!c.ConnectV2(qd_->tcp_port())) return ::testing::AssertionFailure() << "connect failed";
    Frame f = c.Pub("probe", "still alive");
    if (!f.IsResponse("OK")) {
      return ::testing::AssertionFailure() << "PUB on a new connection got " << f.Describe();
    }
    return ::testing::AssertionSuccess();
  }

  // Publishes n messages "<prefix><i>" on a separate connection and waits until the
  // channel holds them (so later RDY sees a full backlog).
  void PublishAndWaitForDepth(const std::string& topic, const std::string& channel, int n,
                              const std::string& prefix = "m") {
    TestClient pub = NewClient();
    for (int i = 0; i < n; ++i) ASSERT_TRUE(IsOk(pub.Pub(topic, prefix + std::to_string(i))));
    ASSERT_TRUE(WaitForChannelValue(topic, channel, "depth", n)) << ChannelStats(topic, channel);
  }
};

// ---------------------------------------------------------------- connection setup

TEST_F(ProtocolTest, WrongMagicGetsBadProtocolFrameThenClose) {
  TestClient c;
  ASSERT_TRUE(c.Connect(qd_->tcp_port()));
  ASSERT_TRUE(c.Send("  V3"));
  Frame f = c.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_BAD_PROTOCOL"));
  EXPECT_TRUE(c.ExpectClosed());
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, UnknownCommandIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("FOO"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID invalid command FOO"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, CommandsAreCaseSensitive) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("nop"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID invalid command nop"));
}

TEST_F(ProtocolTest, CrLfTerminatedCommandsAreAccepted) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Send("NOP\r\n"));
  std::string pub = "PUB crlf\r\n" + BE32(5) + "hello";
  ASSERT_TRUE(c.Send(pub));
  EXPECT_TRUE(IsOk(c.ReadFrame()));
  EXPECT_TRUE(WaitForTopicValue("crlf", "message_count", 1));
}

TEST_F(ProtocolTest, NopHasNoResponse) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Nop());
  ASSERT_TRUE(c.Nop());
  // The next frame is the PUB's OK: NOP produced nothing.
  EXPECT_TRUE(IsOk(c.Pub("probe", "x")));
}

TEST_F(ProtocolTest, PipelinedSubRdyPubWorkWithoutWaitingForReplies) {
  TestClient c = NewClient();
  std::string burst;
  burst += "SUB t c\n";
  burst += "RDY 1\n";
  burst += "PUB t\n" + BE32(3) + "abc";
  ASSERT_TRUE(c.Send(burst));
  EXPECT_TRUE(IsOk(c.ReadFrame()));  // SUB
  // PUB's OK and the delivered message may come in either order relative to each other,
  // but both must arrive.
  bool got_ok = false, got_msg = false;
  std::string seen;
  for (int i = 0; i < 2; ++i) {
    Frame f = c.ReadFrame();
    seen += f.Describe() + "; ";
    if (f.IsResponse("OK")) got_ok = true;
    if (auto m = f.AsMessage()) got_msg = (m->body == "abc");
  }
  EXPECT_TRUE(got_ok) << seen;
  EXPECT_TRUE(got_msg) << seen;
}

// A publisher moves to the shard of the first topic it publishes to (docs/architecture.md).
// With four shards, connections accepted round robin mostly start elsewhere; commands
// pipelined behind the first publish, publishes to topics on other shards, and a later SUB
// must all work across that move.
class PublisherMoveTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override { return {"--worker-threads=4"}; }
};

TEST_F(PublisherMoveTest, PipelinedPublishesToManyTopicsSurviveTheMove) {
  const std::vector<std::string> topics = {"pm_a", "pm_b", "pm_c", "pm_d", "pm_e", "pm_f"};
  std::vector<TestClient> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(NewClient());
  // Everything in one write: the first publish (PUB, MPUB or DPUB, by connection) triggers
  // the move while the rest is buffered.
  std::string mpub = EncodeMpubBody({"m1", "m2"});
  std::vector<std::string> bursts(conns.size());
  int commands = 0;
  for (int round = 0; round < 2; ++round) {
    for (const auto& t : topics) {
      std::string kinds[3] = {"PUB " + t + "\n" + BE32(2) + "p" + std::to_string(round),
                              "MPUB " + t + "\n" + BE32(static_cast<uint32_t>(mpub.size())) + mpub,
                              "DPUB " + t + " 0\n" + BE32(1) + "d"};
      for (size_t i = 0; i < conns.size(); ++i) {
        for (size_t k = 0; k < 3; ++k) bursts[i] += kinds[(i + k) % 3];
        bursts[i] += "NOP\n";
      }
      commands += 3;
    }
  }
  for (size_t i = 0; i < conns.size(); ++i) ASSERT_TRUE(conns[i].Send(bursts[i]));
  for (size_t i = 0; i < conns.size(); ++i) {
    for (int k = 0; k < commands; ++k) {
      Frame f = conns[i].ReadFrame();
      ASSERT_TRUE(f.IsResponse("OK")) << "connection " << i << " answer " << k << ": " << f.Describe();
    }
  }
  // 4 connections x 2 rounds x (PUB 1 + MPUB 2 + DPUB 1) per topic.
  for (const auto& t : topics) EXPECT_TRUE(WaitForTopicValue(t, "message_count", 32)) << t;
  // The same connections go on publishing, one command at a time.
  for (auto& c : conns) {
    for (const auto& t : topics) ASSERT_TRUE(IsOk(c.Pub(t, "after")));
  }
  for (const auto& t : topics) EXPECT_TRUE(WaitForTopicValue(t, "message_count", 36)) << t;
  // A publisher that moved can still subscribe (and move again) and receive.
  TestClient& sub = conns[0];
  ASSERT_TRUE(IsOk(sub.Sub("pm_sub", "ch")));
  ASSERT_TRUE(sub.Rdy(1));
  ASSERT_TRUE(IsOk(conns[1].Pub("pm_sub", "to the subscriber")));
  Frame f = sub.ReadFrame();
  auto m = f.AsMessage();
  ASSERT_TRUE(m) << f.Describe();
  EXPECT_EQ(m->body, "to the subscriber");
}

// A subscriber that sent CLS still finishes its in-flight messages; publishing from it
// must not take it away from its channel's thread (it does not follow a topic).
TEST_F(PublisherMoveTest, ClosingSubscriberThatPublishesStillFinishesItsMessages) {
  TestClient sub = NewSubscriber("pm_sub_t", "ch");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("pm_sub_t", "in flight")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(IsResponse(sub.Cls(), "CLOSE_WAIT"));
  // Topics on every shard, so one of them is on another shard than pm_sub_t.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(IsOk(sub.Pub("pm_other_" + std::to_string(i), "x")));
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(IsOk(sub.Pub("pm_other_0", "after FIN"))) << "FIN after CLS must succeed";
  EXPECT_TRUE(WaitForChannelValue("pm_sub_t", "ch", "in_flight_count", 0)) << ChannelStats("pm_sub_t", "ch");
  EXPECT_TRUE(WaitForChannelValue("pm_sub_t", "ch", "depth", 0)) << ChannelStats("pm_sub_t", "ch");
  json c = ChannelStats("pm_sub_t", "ch");
  EXPECT_EQ(Val(c, "timeout_count", -1), 0) << c;
}

// ---------------------------------------------------------------- IDENTIFY

TEST_F(ProtocolTest, IdentifyWithFeatureNegotiationReturnsJson) {
  TestClient c = NewClient();
  json req = {{"client_id", "it"},
              {"hostname", "it.local"},
              {"user_agent", "it/1.0"},
              {"feature_negotiation", true}};
  Frame f = c.Identify(req.dump());
  ASSERT_TRUE(f.is_frame() && f.type == wire::FrameType::kResponse) << f.Describe();
  json r = json::parse(f.data, nullptr, false);
  ASSERT_TRUE(r.is_object()) << f.data;
  EXPECT_EQ(Val(r, "max_rdy_count", -1), 2500);
  ASSERT_TRUE(r.contains("version") && r["version"].is_string()) << r;
  EXPECT_FALSE(r["version"].get<std::string>().empty());
  EXPECT_EQ(Val(r, "max_msg_timeout", -1), 900000);
  EXPECT_EQ(Val(r, "msg_timeout", -1), 60000);
  EXPECT_EQ(Val(r, "tls_v1", true), false);
  EXPECT_EQ(Val(r, "deflate", true), false);
  EXPECT_EQ(Val(r, "snappy", true), false);
  EXPECT_EQ(Val(r, "deflate_level", -1), 6);
  EXPECT_EQ(Val(r, "max_deflate_level", -1), 6);
  EXPECT_EQ(Val(r, "sample_rate", -1), 0);
  EXPECT_EQ(Val(r, "auth_required", true), false);
  EXPECT_EQ(Val(r, "output_buffer_size", -1), 16384);
  EXPECT_EQ(Val(r, "output_buffer_timeout", -1), 250);
  // The connection is usable afterwards.
  EXPECT_TRUE(IsOk(c.Sub("t", "c")));
}

TEST_F(ProtocolTest, IdentifyReplyReflectsNegotiatedValues) {
  TestClient c = NewClient();
  json req = {{"feature_negotiation", true},  {"msg_timeout", 5000}, {"output_buffer_size", 1024},
              {"output_buffer_timeout", 100}, {"sample_rate", 0},    {"heartbeat_interval", 5000}};
  Frame f = c.Identify(req.dump());
  json r = json::parse(f.data, nullptr, false);
  ASSERT_TRUE(r.is_object()) << f.Describe();
  EXPECT_EQ(Val(r, "msg_timeout", -1), 5000);
  EXPECT_EQ(Val(r, "output_buffer_size", -1), 1024);
  EXPECT_EQ(Val(r, "output_buffer_timeout", -1), 100);
}

TEST_F(ProtocolTest, IdentifyWithoutFeatureNegotiationRepliesOk) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Identify(R"({"client_id":"x","hostname":"h"})")));
  EXPECT_TRUE(IsOk(c.Identify(R"({"feature_negotiation":false})")))
      << "a second IDENTIFY is not forbidden";
}

TEST_F(ProtocolTest, IdentifyIgnoresUnknownKeys) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Identify(R"({"short_id":"s","long_id":"l","whatever":[1,2,3]})")));
}

TEST_F(ProtocolTest, IdentifyWithInvalidJsonIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY", "{not json"));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, IdentifyWithZeroBodySizeIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY", ""));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, IdentifyBodyAboveMaxBodySizeIsFatalBadBody) {
  TestClient c = NewClient();
  // Only the size is sent: qd must reject it before reading the body.
  ASSERT_TRUE(c.Send("IDENTIFY\n" + BE32(5242881)));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, IdentifyOutOfRangeHeartbeatIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY", R"({"heartbeat_interval":999})"));
  EXPECT_TRUE(FatalErrorText(c, "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid"));
}

TEST_F(ProtocolTest, IdentifyOutOfRangeFieldsAreFatalBadBody) {
  const std::vector<std::string> bad = {
      R"({"heartbeat_interval":60001})", R"({"heartbeat_interval":-2})",
      R"({"output_buffer_size":63})",    R"({"output_buffer_size":65537})",
      R"({"output_buffer_timeout":24})", R"({"output_buffer_timeout":30001})",
      R"({"msg_timeout":999})",          R"({"msg_timeout":900001})",
      R"({"sample_rate":100})",          R"({"sample_rate":-1})",
  };
  for (const auto& body : bad) {
    SCOPED_TRACE(body);
    TestClient c = NewClient();
    ASSERT_TRUE(c.CommandWithBody("IDENTIFY", body));
    Frame f = c.ReadFrame();
    EXPECT_TRUE(IsError(f, "E_BAD_BODY"));
    EXPECT_EQ(f.data.rfind("E_BAD_BODY IDENTIFY ", 0), 0u) << f.Describe();
    EXPECT_TRUE(c.ExpectClosed());
  }
}

TEST_F(ProtocolTest, IdentifyBoundaryValuesAreAccepted) {
  const std::vector<std::string> good = {
      R"({"heartbeat_interval":1000})",  R"({"heartbeat_interval":60000})",
      R"({"heartbeat_interval":-1})",    R"({"output_buffer_size":64})",
      R"({"output_buffer_size":65536})", R"({"output_buffer_size":-1})",
      R"({"output_buffer_timeout":25})", R"({"output_buffer_timeout":30000})",
      R"({"output_buffer_timeout":-1})", R"({"msg_timeout":1000})",
      R"({"msg_timeout":900000})",       R"({"sample_rate":99})",
  };
  for (const auto& body : good) {
    SCOPED_TRACE(body);
    TestClient c = NewClient();
    EXPECT_TRUE(IsOk(c.Identify(body)));
  }
}

TEST_F(ProtocolTest, IdentifyAfterSubIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY", "{}"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot IDENTIFY in current state"));
}

TEST_F(ProtocolTest, IdentifyRequestingBothCompressionsIsFatalIdentifyFailed) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY",
                                R"({"feature_negotiation":true,"deflate":true,"snappy":true})"));
  EXPECT_TRUE(
      FatalErrorText(c, "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression"));
}

// ---------------------------------------------------------------- AUTH

TEST_F(ProtocolTest, AuthWithoutAuthServerIsFatalAuthDisabled) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("AUTH", "secret"));
  EXPECT_TRUE(FatalErrorText(c, "E_AUTH_DISABLED AUTH disabled"));
}

TEST_F(ProtocolTest, AuthWithParametersIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("AUTH extra", "secret"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, AuthWithEmptyBodyIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("AUTH", ""));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, AuthAfterSubIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.CommandWithBody("AUTH", "secret"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot AUTH in current state"));
}

TEST_F(ProtocolTest, IdentifyReportsNoAuthRequiredAndPubNeedsNoAuth) {
  TestClient c = NewClient();
  Frame f = c.Identify(R"({"feature_negotiation":true})");
  json r = json::parse(f.data, nullptr, false);
  EXPECT_EQ(Val(r, "auth_required", true), false) << f.Describe();
  EXPECT_TRUE(IsOk(c.Pub("probe", "x")));
}

// ---------------------------------------------------------------- SUB

TEST_F(ProtocolTest, SubRepliesOkAndCreatesTopicAndChannel) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Sub("newtopic", "newchan")));
  json ch = ChannelStats("newtopic", "newchan");
  ASSERT_TRUE(ch.is_object()) << Stats();
  EXPECT_EQ(Val(ch, "client_count", -1), 1);
}

TEST_F(ProtocolTest, SubWithInvalidTopicIsFatalBadTopic) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("SUB bad!topic c"));
  EXPECT_TRUE(FatalErrorText(c, R"(E_BAD_TOPIC SUB topic name "bad!topic" is not valid)"));
}

TEST_F(ProtocolTest, SubWithTooLongTopicIsFatalBadTopic) {
  TestClient ok = NewClient();
  EXPECT_TRUE(IsOk(ok.Sub(std::string(64, 'a'), "c"))) << "64 bytes is the maximum";
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("SUB " + std::string(65, 'a') + " c"));
  EXPECT_TRUE(FatalError(c, "E_BAD_TOPIC"));
}

TEST_F(ProtocolTest, SubWithInvalidChannelIsFatalBadChannel) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("SUB t bad/chan"));
  EXPECT_TRUE(FatalErrorText(c, R"(E_BAD_CHANNEL SUB channel name "bad/chan" is not valid)"));
}

TEST_F(ProtocolTest, SubWithMissingChannelIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("SUB t"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, SubWithDoubleSpaceHasEmptyParamAndFails) {
  // "SUB  t c" splits into {"SUB", "", "t", "c"}: the topic is empty.
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("SUB  t c"));
  EXPECT_TRUE(FatalError(c, "E_BAD_TOPIC"));
}

TEST_F(ProtocolTest, SubTwiceIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Command("SUB t c2"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot SUB in current state"));
}

TEST_F(ProtocolTest, SubWithHeartbeatsDisabledIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(IsOk(c.Identify(R"({"heartbeat_interval":-1})")));
  ASSERT_TRUE(c.Command("SUB t c"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot SUB with heartbeats disabled"));
}

TEST_F(ProtocolTest, SubscriberGetsNothingBeforeRdy) {
  TestClient sub = NewSubscriber("t", "c");
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  EXPECT_TRUE(sub.ExpectNoFrame(500ms));
  ASSERT_TRUE(sub.Rdy(1));
  EXPECT_TRUE(IsMessage(sub.ReadFrame()));
}

// ---------------------------------------------------------------- PUB

TEST_F(ProtocolTest, PubIsDeliveredToSubscriberWithAttemptsOne) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  int64_t before = NowUnixNanos();
  ASSERT_TRUE(IsOk(pub.Pub("t", "hello world")));
  int64_t after = NowUnixNanos();
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "hello world");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_TRUE(IsUsableId(m.id)) << m.id;
  // Publish time in ns since the epoch (allow clock granularity slack).
  EXPECT_GE(m.timestamp, before - 1'000'000'000);
  EXPECT_LE(m.timestamp, after + 1'000'000'000);
  sub.Fin(m.id);
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
}

TEST_F(ProtocolTest, PubCreatesTopicAndCounts) {
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("fresh", "abc")));
  ASSERT_TRUE(IsOk(pub.Pub("fresh", "defg")));
  json t = TopicStats("fresh");
  ASSERT_TRUE(t.is_object()) << Stats();
  EXPECT_EQ(Val(t, "message_count", -1), 2);
  EXPECT_EQ(Val(t, "message_bytes", -1), 7);
  EXPECT_EQ(Val(t, "depth", -1), 2) << "a topic without channels keeps its messages";
}

TEST_F(ProtocolTest, PubIsAllowedAfterSub) {
  TestClient c = NewSubscriber("t", "c");
  EXPECT_TRUE(IsOk(c.Pub("probe", "x")));
}

TEST_F(ProtocolTest, PubIdsAreUniqueAcrossMessages) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(100));
  TestClient pub = NewClient();
  std::vector<std::string> bodies;
  for (int i = 0; i < 50; ++i) bodies.push_back("b" + std::to_string(i));
  ASSERT_TRUE(IsOk(pub.Mpub("t", bodies)));
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m)) << "message " << i;
    EXPECT_TRUE(IsUsableId(m.id));
    ids.push_back(m.id);
    sub.Fin(m.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate message id";
}

TEST_F(ProtocolTest, PubWithEmptyBodyIsFatalBadMessage) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("PUB t", ""));
  EXPECT_TRUE(FatalErrorText(c, "E_BAD_MESSAGE PUB invalid message body size 0"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, PubAtMaxMsgSizeIsAccepted) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Pub("t", std::string(kMaxMsgSize, 'x'))));
}

TEST_F(ProtocolTest, PubAboveMaxMsgSizeIsFatalBadMessage) {
  TestClient c = NewClient();
  c.CommandWithBody("PUB t", std::string(kMaxMsgSize + 1, 'x'));
  EXPECT_TRUE(FatalErrorText(c, "E_BAD_MESSAGE PUB message too big 4097 > 4096"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, PubWithNegativeSizeIsFatalBadMessage) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Send("PUB t\n" + BE32(0xFFFFFFFFu)));  // int32 -1
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, PubWithHugeSizeIsRejectedBeforeReadingBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Send("PUB t\n" + BE32(0x7FFFFFFFu)));
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, PubWithInvalidTopicIsFatalBadTopic) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("PUB bad!topic"));
  EXPECT_TRUE(FatalErrorText(c, R"(E_BAD_TOPIC PUB topic name "bad!topic" is not valid)"));
}

TEST_F(ProtocolTest, PubWithoutTopicIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("PUB"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

// ---------------------------------------------------------------- MPUB

TEST_F(ProtocolTest, MpubPublishesEveryMessage) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Mpub("t", {"one", "two", "three"})));
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m));
    EXPECT_EQ(m.attempts, 1);
    got.push_back(m.body);
    sub.Fin(m.id);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"one", "three", "two"}));
  EXPECT_TRUE(WaitForTopicValue("t", "message_count", 3));
}

TEST_F(ProtocolTest, MpubWithZeroCountIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("MPUB t", BE32(0)));
  EXPECT_TRUE(FatalErrorText(c, "E_BAD_BODY MPUB invalid message count 0"));
}

TEST_F(ProtocolTest, MpubWithZeroBodySizeIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("MPUB t", ""));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, MpubBodyAboveMaxBodySizeIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Send("MPUB t\n" + BE32(5242881)));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, MpubWithTooManyMessagesIsFatalBadBody) {
  // Count above (max-body-size - 4) / 5 = 1048575.
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("MPUB t", BE32(1048576) + BE32(1) + "x"));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(ProtocolTest, MpubWithEmptyMessageIsFatalBadMessage) {
  TestClient c = NewClient();
  std::string body = BE32(2) + BE32(1) + "a" + BE32(0);
  ASSERT_TRUE(c.CommandWithBody("MPUB t", body));
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
}

TEST_F(ProtocolTest, MpubWithTooBigMessageIsFatalBadMessage) {
  TestClient c = NewClient();
  std::string body = BE32(1) + BE32(kMaxMsgSize + 1) + std::string(kMaxMsgSize + 1, 'x');
  c.CommandWithBody("MPUB t", body);
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, MpubWithOneBadMessagePublishesNothing) {
  TestClient c = NewClient();
  std::string body = BE32(3) + BE32(1) + "a" + BE32(1) + "b" + BE32(0);
  ASSERT_TRUE(c.CommandWithBody("MPUB allornothing", body));
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
  // NSQ creates the topic before reading the body, but enqueues only after all were read.
  json t = TopicStats("allornothing");
  ASSERT_TRUE(t.is_object()) << "MPUB creates the topic before reading the body: " << Stats();
  EXPECT_EQ(Val(t, "message_count", -1), 0);
  EXPECT_EQ(Val(t, "depth", -1), 0);
}

TEST_F(ProtocolTest, MpubInvalidTopicErrorRepeatsTheCode) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("MPUB bad!topic"));
  EXPECT_TRUE(
      FatalErrorText(c, R"(E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad!topic" is not valid)"));
}

// ---------------------------------------------------------------- DPUB

TEST_F(ProtocolTest, DpubDefersDelivery) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  auto published = Clock::now();
  ASSERT_TRUE(IsOk(pub.Dpub("t", 1500, "later")));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1, 1000ms)) << ChannelStats("t", "c");
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m, 6000ms));
  EXPECT_GE(MillisSince(published), 1300) << "delivered before its delay";
  EXPECT_EQ(m.body, "later");
  EXPECT_EQ(m.attempts, 1);
}

TEST_F(ProtocolTest, DpubAtMaxReqTimeoutIsAccepted) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Dpub("t", 3600000, "x")));
}

TEST_F(ProtocolTest, DpubAboveMaxReqTimeoutIsFatalInvalid) {
  TestClient c = NewClient();
  c.CommandWithBody("DPUB t 3600001", "x");
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID DPUB timeout 3600001 out of range 0-3600000"));
}

TEST_F(ProtocolTest, DpubNonNumericTimeoutIsFatalInvalid) {
  TestClient c = NewClient();
  c.CommandWithBody("DPUB t -5", "x");
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, DpubWithEmptyBodyIsFatalBadMessage) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("DPUB t 10", ""));
  EXPECT_TRUE(FatalError(c, "E_BAD_MESSAGE"));
}

TEST_F(ProtocolTest, DpubWithMissingTimeoutIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("DPUB t"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

// ---------------------------------------------------------------- RDY

TEST_F(ProtocolTest, RdyAboveMaxIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Rdy(2501));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID RDY count 2501 out of range 0-2500"));
}

TEST_F(ProtocolTest, RdyAtMaxIsAccepted) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Rdy(2500));
  EXPECT_TRUE(IsOk(c.Pub("probe", "x"))) << "RDY 2500 produced an error";
  EXPECT_TRUE(WaitForChannelValue("t", "c", "client_count", 1));
}

TEST_F(ProtocolTest, RdyNonNumericIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Command("RDY abc"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID RDY could not parse count abc"));
}

TEST_F(ProtocolTest, RdyNegativeIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Command("RDY -1"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, RdyBeforeSubIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Rdy(1));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot RDY in current state"));
}

TEST_F(ProtocolTest, RdyCapsUnacknowledgedMessagesNotCredits) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_NO_FATAL_FAILURE(PublishAndWaitForDepth("t", "c", 5));
  ASSERT_TRUE(sub.Rdy(2));
  ReceivedMessage a, b, c3;
  ASSERT_TRUE(sub.ReadMessage(&a));
  ASSERT_TRUE(sub.ReadMessage(&b));
  EXPECT_TRUE(sub.ExpectNoFrame(500ms)) << "RDY 2 allows only 2 unacknowledged messages";
  ASSERT_TRUE(sub.Fin(a.id));
  ASSERT_TRUE(sub.ReadMessage(&c3)) << "a FIN re-opens delivery without a new RDY";
  EXPECT_TRUE(sub.ExpectNoFrame(500ms));
  json ch = ChannelStats("t", "c");
  EXPECT_EQ(Val(ch, "in_flight_count", -1), 2);
  EXPECT_EQ(Val(ch, "depth", -1), 2);
  ASSERT_TRUE(ch.contains("clients") && ch["clients"].size() == 1) << ch;
  EXPECT_EQ(Val(ch["clients"][0], "ready_count", -1), 2);
  EXPECT_EQ(Val(ch["clients"][0], "in_flight_count", -1), 2);
}

TEST_F(ProtocolTest, RdyWithoutCountMeansOne) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_NO_FATAL_FAILURE(PublishAndWaitForDepth("t", "c", 3));
  ASSERT_TRUE(sub.Command("RDY"));
  EXPECT_TRUE(IsMessage(sub.ReadFrame()));
  EXPECT_TRUE(sub.ExpectNoFrame(500ms));
}

TEST_F(ProtocolTest, RdyZeroStopsFurtherDelivery) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(5));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "first")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(sub.Rdy(0));
  ASSERT_TRUE(sub.Fin(m.id));
  ASSERT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  ASSERT_TRUE(IsOk(pub.Pub("t", "second")));
  EXPECT_TRUE(sub.ExpectNoFrame(500ms));
  ASSERT_TRUE(sub.Rdy(1));
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "second");
}

// ---------------------------------------------------------------- FIN / REQ / TOUCH

TEST_F(ProtocolTest, FinOfUnknownIdIsNotFatal) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Fin("0000000000000000"));
  Frame f = c.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_FIN_FAILED"));
  EXPECT_EQ(f.data, "E_FIN_FAILED FIN 0000000000000000 failed ID not in flight");
  // The connection stays usable.
  ASSERT_TRUE(c.Nop());
  EXPECT_TRUE(IsOk(c.Pub("t", "after")));
  ASSERT_TRUE(c.Rdy(1));
  EXPECT_TRUE(IsMessage(c.ReadFrame()));
}

TEST_F(ProtocolTest, FinWithWrongLengthIdIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Fin("abc"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, FinWithoutIdIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Command("FIN"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, FinBeforeSubIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Fin("0000000000000000"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot FIN in current state"));
}

TEST_F(ProtocolTest, FinRemovesMessageFromFlight) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 1));
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  // A second FIN of the same id fails, non-fatally.
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(IsError(sub.ReadFrame(), "E_FIN_FAILED"));
  EXPECT_TRUE(IsOk(sub.Pub("probe", "y")));
  json ch = ChannelStats("t", "c");
  ASSERT_TRUE(ch.contains("clients") && ch["clients"].size() == 1) << ch;
  EXPECT_EQ(Val(ch["clients"][0], "finish_count", -1), 1);
  EXPECT_EQ(Val(ch["clients"][0], "message_count", -1), 1);
}

TEST_F(ProtocolTest, FinByAnotherConnectionOfTheChannelFails) {
  TestClient owner = NewSubscriber("t", "c");
  TestClient other = NewSubscriber("t", "c");
  ASSERT_TRUE(owner.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "mine")));
  ReceivedMessage m;
  ASSERT_TRUE(owner.ReadMessage(&m));
  ASSERT_TRUE(other.Fin(m.id));
  Frame f = other.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_FIN_FAILED"));
  EXPECT_EQ(f.data, "E_FIN_FAILED FIN " + m.id + " failed client does not own message");
  EXPECT_TRUE(IsOk(other.Pub("probe", "x"))) << "E_FIN_FAILED is not fatal";
  // The owner can still finish it.
  ASSERT_TRUE(owner.Fin(m.id));
  EXPECT_TRUE(IsOk(owner.Pub("probe", "y"))) << "the owner's FIN must not fail";
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
}

TEST_F(ProtocolTest, ReqOfUnknownIdIsNotFatal) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Req("0000000000000000", 0));
  Frame f = c.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_REQ_FAILED"));
  EXPECT_EQ(f.data, "E_REQ_FAILED REQ 0000000000000000 failed ID not in flight");
  EXPECT_TRUE(IsOk(c.Pub("t", "still usable")));
}

TEST_F(ProtocolTest, TouchOfUnknownIdIsNotFatal) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Touch("0000000000000000"));
  Frame f = c.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_TOUCH_FAILED"));
  EXPECT_EQ(f.data, "E_TOUCH_FAILED TOUCH 0000000000000000 failed ID not in flight");
  EXPECT_TRUE(IsOk(c.Pub("t", "still usable")));
}

TEST_F(ProtocolTest, ReqWithWrongLengthIdIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Req("short", 0));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, ReqWithNonNumericTimeoutIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(c.Command("REQ 0000000000000000 soon"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

TEST_F(ProtocolTest, ReqBeforeSubIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Req("0000000000000000", 0));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot REQ in current state"));
}

TEST_F(ProtocolTest, TouchBeforeSubIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Touch("0000000000000000"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot TOUCH in current state"));
}

TEST_F(ProtocolTest, ReqZeroRedeliversWithAttemptsTwo) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "again")));
  ReceivedMessage first, second;
  ASSERT_TRUE(sub.ReadMessage(&first));
  EXPECT_EQ(first.attempts, 1);
  ASSERT_TRUE(sub.Req(first.id, 0));
  ASSERT_TRUE(sub.ReadMessage(&second));
  EXPECT_EQ(second.attempts, 2);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.body, "again");
  EXPECT_EQ(second.timestamp, first.timestamp) << "requeue keeps the publish timestamp";
  ASSERT_TRUE(sub.Fin(second.id));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "requeue_count", 1));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
}

TEST_F(ProtocolTest, ReqWithDelayDefersRedelivery) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "later")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto requeued = Clock::now();
  ASSERT_TRUE(sub.Req(m.id, 1500));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1, 1000ms)) << ChannelStats("t", "c");
  ReceivedMessage again;
  ASSERT_TRUE(sub.ReadMessage(&again, 6000ms));
  EXPECT_GE(MillisSince(requeued), 1300) << "redelivered before the REQ delay";
  EXPECT_EQ(again.id, m.id);
  EXPECT_EQ(again.attempts, 2);
}

TEST_F(ProtocolTest, ReqAboveMaxReqTimeoutIsClampedNotRejected) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(sub.Req(m.id, 99999999999));
  EXPECT_TRUE(IsOk(sub.Pub("probe", "y"))) << "REQ above max must be clamped silently";
  EXPECT_TRUE(WaitForChannelValue("t", "c", "deferred_count", 1));
}

TEST_F(ProtocolTest, TouchExtendsInFlightDeadline) {
  TestClient sub = NewClient();
  ASSERT_TRUE(IsOk(sub.Identify(R"({"msg_timeout":1000})")));
  ASSERT_TRUE(IsOk(sub.Sub("t", "c")));
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "slow work")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto delivered = Clock::now();
  // Keep touching for 2.5x the message timeout; it must never be redelivered.
  while (MillisSince(delivered) < 2500) {
    ASSERT_TRUE(sub.Touch(m.id));
    ASSERT_TRUE(sub.ExpectNoFrame(300ms)) << "TOUCH did not extend the deadline";
  }
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(IsOk(sub.Pub("probe", "x"))) << "FIN after TOUCHes must succeed";
  json ch = ChannelStats("t", "c");
  EXPECT_EQ(Val(ch, "timeout_count", -1), 0);
  EXPECT_EQ(Val(ch, "in_flight_count", -1), 0);
}

TEST_F(ProtocolTest, UnfinishedMessageTimesOutAndIsRedelivered) {
  TestClient sub = NewClient();
  ASSERT_TRUE(IsOk(sub.Identify(R"({"msg_timeout":1000})")));
  ASSERT_TRUE(IsOk(sub.Sub("t", "c")));
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "forgotten")));
  ReceivedMessage m, again;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto delivered = Clock::now();
  ASSERT_TRUE(sub.ReadMessage(&again, 6000ms));
  EXPECT_GE(MillisSince(delivered), 900) << "timed out before msg_timeout";
  EXPECT_EQ(again.id, m.id);
  EXPECT_EQ(again.attempts, 2);
  // The first delivery's id is no longer owned: after the timeout it was re-sent, and the
  // new delivery can be finished.
  ASSERT_TRUE(sub.Fin(again.id));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "timeout_count", 1));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
}

TEST_F(ProtocolTest, DisconnectedConsumersInFlightMessageWaitsForItsTimeout) {
  auto first = std::make_unique<TestClient>(NewClient());
  ASSERT_TRUE(IsOk(first->Identify(R"({"msg_timeout":1500})")));
  ASSERT_TRUE(IsOk(first->Sub("t", "c")));
  ASSERT_TRUE(first->Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "orphan")));
  ReceivedMessage m;
  ASSERT_TRUE(first->ReadMessage(&m));
  auto delivered = Clock::now();
  first.reset();  // disconnect without FIN

  TestClient second = NewSubscriber("t", "c");
  ASSERT_TRUE(second.Rdy(1));
  ReceivedMessage again;
  ASSERT_TRUE(second.ReadMessage(&again, 8000ms));
  EXPECT_GE(MillisSince(delivered), 1200)
      << "in-flight messages of a closed connection are requeued only on timeout";
  EXPECT_EQ(again.id, m.id);
  EXPECT_EQ(again.attempts, 2);
  ASSERT_TRUE(second.Fin(again.id));
}

// ---------------------------------------------------------------- CLS

TEST_F(ProtocolTest, ClsRepliesCloseWaitAndStopsDelivery) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(10));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "before")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_TRUE(IsResponse(sub.Cls(), "CLOSE_WAIT"));
  ASSERT_TRUE(IsOk(pub.Pub("t", "after1")));
  ASSERT_TRUE(IsOk(pub.Pub("t", "after2")));
  EXPECT_TRUE(sub.ExpectNoFrame(600ms)) << "no deliveries after CLS";
  // RDY after CLS is silently ignored (no error, no delivery).
  ASSERT_TRUE(sub.Rdy(5));
  EXPECT_TRUE(sub.ExpectNoFrame(400ms));
  // FIN is still allowed while closing.
  ASSERT_TRUE(sub.Fin(m.id));
  EXPECT_TRUE(IsOk(sub.Pub("probe", "x"))) << "FIN after CLS must succeed";
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  EXPECT_TRUE(WaitForChannelValue("t", "c", "depth", 2));
  // qd does not close the socket itself.
  EXPECT_TRUE(sub.ExpectNoFrame(200ms));
}

TEST_F(ProtocolTest, ClsBeforeSubIsFatalInvalid) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.Command("CLS"));
  EXPECT_TRUE(FatalErrorText(c, "E_INVALID cannot CLS in current state"));
}

TEST_F(ProtocolTest, SubAfterClsIsFatalInvalid) {
  TestClient c = NewSubscriber("t", "c");
  ASSERT_TRUE(IsResponse(c.Cls(), "CLOSE_WAIT"));
  ASSERT_TRUE(c.Command("SUB t c"));
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
}

// ---------------------------------------------------------------- heartbeats

TEST_F(ProtocolTest, HeartbeatArrivesAtNegotiatedInterval) {
  TestClient c = NewClient();
  ASSERT_TRUE(IsOk(c.Identify(R"({"heartbeat_interval":1000})")));
  auto start = Clock::now();
  Frame f = c.ReadFrame(3000ms, /*skip_heartbeats=*/false);
  EXPECT_TRUE(IsResponse(f, "_heartbeat_"));
  int64_t ms = MillisSince(start);
  EXPECT_GE(ms, 500);
  EXPECT_LE(ms, 2500);
}

TEST_F(ProtocolTest, SilentClientIsDisconnectedAfterTwoHeartbeatIntervals) {
  TestClient c = NewClient();
  ASSERT_TRUE(IsOk(c.Identify(R"({"heartbeat_interval":1000})")));
  auto start = Clock::now();
  int heartbeats = 0;
  Frame f;
  while (true) {
    f = c.ReadFrame(6000ms, /*skip_heartbeats=*/false);  // never answered
    if (!f.IsHeartbeat()) break;
    ++heartbeats;
  }
  EXPECT_TRUE(f.closed()) << "expected a close, got " << f.Describe();
  int64_t ms = MillisSince(start);
  EXPECT_GE(ms, 1500) << "closed before 2 heartbeat intervals";
  EXPECT_LE(ms, 4500) << "not closed soon after 2 heartbeat intervals";
  EXPECT_GE(heartbeats, 1);
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, ClientAnsweringHeartbeatsStaysConnected) {
  TestClient c = NewClient();
  ASSERT_TRUE(IsOk(c.Identify(R"({"heartbeat_interval":1000})")));
  ASSERT_TRUE(IsOk(c.Sub("t", "c")));
  // ReadFrame answers each heartbeat with NOP; nothing else may arrive.
  EXPECT_TRUE(c.ExpectNoFrame(3500ms));
  EXPECT_TRUE(IsOk(c.Pub("t", "still here")));
}

// ---------------------------------------------------------------- fan-out

TEST_F(ProtocolTest, EachChannelGetsItsOwnCopy) {
  TestClient a = NewSubscriber("t", "a");
  TestClient b = NewSubscriber("t", "b");
  ASSERT_TRUE(a.Rdy(1));
  ASSERT_TRUE(b.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "shared")));
  ReceivedMessage ma, mb;
  ASSERT_TRUE(a.ReadMessage(&ma));
  ASSERT_TRUE(b.ReadMessage(&mb));
  EXPECT_EQ(ma.body, "shared");
  EXPECT_EQ(mb.body, "shared");
  EXPECT_EQ(ma.id, mb.id) << "channel copies share the publish-time id";
  EXPECT_EQ(ma.timestamp, mb.timestamp);
}

TEST_F(ProtocolTest, ConsumersOfOneChannelCompete) {
  TestClient a = NewSubscriber("t", "c");
  TestClient b = NewSubscriber("t", "c");
  ASSERT_TRUE(a.Rdy(10));
  ASSERT_TRUE(b.Rdy(10));
  TestClient pub = NewClient();
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i) bodies.push_back(std::to_string(i));
  ASSERT_TRUE(IsOk(pub.Mpub("t", bodies)));
  std::vector<std::string> got;
  // Each message goes to exactly one of them; RDY 10 each holds all 20 in flight.
  for (TestClient* c : {&a, &b}) {
    while (true) {
      Frame f = c->ReadFrame(700ms);
      auto m = f.AsMessage();
      if (!m) {
        EXPECT_TRUE(f.timed_out()) << f.Describe();
        break;
      }
      got.push_back(m->body);
    }
  }
  std::sort(got.begin(), got.end());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(got, bodies);
}

TEST_F(ProtocolTest, TopicBacklogGoesToFirstChannel) {
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Mpub("t", {"a", "b", "c"})));
  ASSERT_TRUE(WaitForTopicValue("t", "depth", 3));
  TestClient sub = NewSubscriber("t", "first");
  ASSERT_TRUE(sub.Rdy(10));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(IsMessage(sub.ReadFrame())) << i;
}

// ---------------------------------------------------------------- abuse

TEST_F(ProtocolTest, GarbageAfterMagicClosesConnectionAndDaemonSurvives) {
  std::mt19937 rng(12345);
  std::string garbage(1000, '\0');
  for (auto& ch : garbage) ch = static_cast<char>(rng() & 0xff);
  garbage[0] = '\xff';
  garbage.back() = '\n';
  TestClient c = NewClient();
  c.Send(garbage);
  EXPECT_TRUE(FatalError(c, "E_INVALID"));
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, GarbageWithoutNewlineIsDroppedAtLineLimit) {
  std::mt19937 rng(777);
  std::string garbage(40000, '\0');
  for (auto& ch : garbage) {
    ch = static_cast<char>(rng() & 0xff);
    if (ch == '\n') ch = 'x';
  }
  TestClient c = NewClient();
  c.Send(garbage);
  EXPECT_TRUE(c.ExpectClosed()) << "a line over 16 KiB is a read error";
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, LineLongerThan16KiBClosesConnectionWithoutErrorFrame) {
  TestClient c = NewClient();
  c.Send("PUB " + std::string(17 * 1024, 'a') + "\n");
  EXPECT_TRUE(c.ExpectClosed());
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, DisconnectInTheMiddleOfABodyDoesNotHurtTheDaemon) {
  {
    TestClient c = NewClient();
    ASSERT_TRUE(c.Send("PUB t\n" + BE32(100) + "only ten b"));
  }
  {
    TestClient c = NewClient();
    ASSERT_TRUE(c.Send("IDENT"));
  }
  {
    TestClient c;
    ASSERT_TRUE(c.Connect(qd_->tcp_port()));
    ASSERT_TRUE(c.Send(" "));  // half a magic
  }
  EXPECT_TRUE(DaemonStillServes());
}

TEST_F(ProtocolTest, ManyShortLivedConnectionsAreHandled) {
  for (int i = 0; i < 50; ++i) {
    TestClient c = NewClient();
    ASSERT_TRUE(IsOk(c.Pub("churn", "m" + std::to_string(i)))) << i;
  }
  EXPECT_TRUE(WaitForTopicValue("churn", "message_count", 50));
}

// ---------------------------------------------------------------- --msg-timeout /
// --max-msg-timeout

class MsgTimeoutFlagsTest : public ProtocolTest {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--msg-timeout=1s", "--max-msg-timeout=2s"};
  }
};

TEST_F(MsgTimeoutFlagsTest, IdentifyReportsTheConfiguredTimeouts) {
  TestClient c = NewClient();
  Frame f = c.Identify(R"({"feature_negotiation":true})");
  json r = json::parse(f.data, nullptr, false);
  ASSERT_TRUE(r.is_object()) << f.Describe();
  EXPECT_EQ(Val(r, "msg_timeout", -1), 1000);
  EXPECT_EQ(Val(r, "max_msg_timeout", -1), 2000);
}

TEST_F(MsgTimeoutFlagsTest, IdentifyMsgTimeoutAboveMaxIsFatalBadBody) {
  TestClient c = NewClient();
  ASSERT_TRUE(c.CommandWithBody("IDENTIFY", R"({"msg_timeout":2001})"));
  EXPECT_TRUE(FatalError(c, "E_BAD_BODY"));
}

TEST_F(MsgTimeoutFlagsTest, MsgTimeoutFlagIsTheDefaultInFlightTimeout) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  ReceivedMessage m, again;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto delivered = Clock::now();
  ASSERT_TRUE(sub.ReadMessage(&again, 5000ms));
  EXPECT_GE(MillisSince(delivered), 900);
  EXPECT_LE(MillisSince(delivered), 3000) << "--msg-timeout=1s not applied";
  EXPECT_EQ(again.attempts, 2);
}

TEST_F(MsgTimeoutFlagsTest, TouchCannotExtendBeyondMaxMsgTimeout) {
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "x")));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  auto delivered = Clock::now();
  // Touch every 300 ms; the deadline is capped at delivery + 2 s, so it is redelivered.
  Frame f;
  while (MillisSince(delivered) < 6000) {
    ASSERT_TRUE(sub.Touch(m.id));
    f = sub.ReadFrame(300ms);
    if (!f.timed_out()) break;
  }
  auto again = f.AsMessage();
  ASSERT_TRUE(again) << "expected a redelivery despite TOUCH, got " << f.Describe();
  EXPECT_GE(MillisSince(delivered), 1800);
  EXPECT_EQ(again->id, m.id);
  EXPECT_EQ(again->attempts, 2);
}

// ---------------------------------------------------------------- --max-channel-consumers

class MaxChannelConsumersTest : public ProtocolTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--max-channel-consumers=1"}; }
};

TEST_F(MaxChannelConsumersTest, SecondSubOnFullChannelIsFatalSubFailed) {
  TestClient first = NewSubscriber("t", "c");
  TestClient second = NewClient();
  ASSERT_TRUE(second.Command("SUB t c"));
  EXPECT_TRUE(FatalError(second, "E_SUB_FAILED"));
  // Another channel is not affected; the first consumer keeps working.
  TestClient other = NewSubscriber("t", "other");
  ASSERT_TRUE(first.Rdy(1));
  ASSERT_TRUE(IsOk(other.Pub("t", "x")));
  EXPECT_TRUE(IsMessage(first.ReadFrame()));
}

TEST_F(MaxChannelConsumersTest, SlotIsFreedWhenConsumerLeaves) {
  { TestClient first = NewSubscriber("t", "c"); }
  ASSERT_TRUE(WaitForChannelValue("t", "c", "client_count", 0));
  TestClient again = NewClient();
  EXPECT_TRUE(IsOk(again.Sub("t", "c")));
}

}  // namespace
}  // namespace q::test
