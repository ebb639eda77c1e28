// AUTH against a real auth server (an httplib server in this test process, on loopback):
// grants, refusals, the ttl, and an auth server that is down.
#include <atomic>
#include <thread>

#include "tests/integration/fake_auth_server.h"
#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

class AuthTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--auth-http-address=127.0.0.1:" + std::to_string(auth_.port())};
  }
  TestClient Authed(const std::string& secret) {
    TestClient c = NewClient();
    EXPECT_TRUE(c.CommandWithBody("AUTH", secret));
    return c;
  }
  FakeAuthServer auth_{1};  // ttl 1 s, so a test can see the grant asked for again
};

TEST_F(AuthTest, IdentifyReportsAuthRequired) {
  TestClient c = NewClient();
  Frame f = c.Identify(R"({"feature_negotiation":true})");
  ASSERT_TRUE(f.is_frame()) << f.Describe();
  EXPECT_EQ(json::parse(f.data)["auth_required"], true);
}

TEST_F(AuthTest, PubBeforeAuthIsFatalAuthFirst) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsError(c.Pub("allowed", "x"), "E_AUTH_FIRST"));
  EXPECT_TRUE(c.ReadFrame().closed());
}

TEST_F(AuthTest, GrantAllowsItsTopicAndRefusesOthers) {
  TestClient c = Authed("good");
  Frame f = c.ReadFrame();
  ASSERT_TRUE(f.is_frame() && f.type == wire::FrameType::kResponse) << f.Describe();
  json r = json::parse(f.data);
  EXPECT_EQ(r["identity"], "alice");
  EXPECT_EQ(r["identity_url"], "http://example.test/alice");
  EXPECT_EQ(r["permission_count"], 1);
  EXPECT_EQ(auth_.last_remote_ip(), "127.0.0.1");
  EXPECT_TRUE(IsOk(c.Pub("allowed_orders", "x")));
  Frame denied = c.Pub("secret_orders", "x");
  EXPECT_TRUE(IsError(denied, "E_UNAUTHORIZED"));
  EXPECT_NE(denied.data.find("\"secret_orders\""), std::string::npos) << denied.data;
  EXPECT_TRUE(c.ReadFrame().closed());
}

TEST_F(AuthTest, SubscribeNeedsTheSubscribePermissionOnTopicAndChannel) {
  TestClient ok = Authed("good");
  ASSERT_TRUE(ok.ReadFrame().is_frame());
  EXPECT_TRUE(IsOk(ok.Sub("allowed", "ch")));
  ASSERT_TRUE(ok.Rdy(1));

  TestClient denied = Authed("good");
  ASSERT_TRUE(denied.ReadFrame().is_frame());
  EXPECT_TRUE(IsError(denied.Sub("other", "ch"), "E_UNAUTHORIZED"));

  json stats = ChannelStats("allowed", "ch");
  ASSERT_EQ(stats["clients"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["clients"][0]["authed"], true);
  EXPECT_EQ(stats["clients"][0]["auth_identity"], "alice");
}

TEST_F(AuthTest, RefusedSecretIsAuthFailedWithoutDetails) {
  TestClient c = Authed("wrong");
  Frame f = c.ReadFrame();
  EXPECT_TRUE(IsError(f, "E_AUTH_FAILED"));
  EXPECT_EQ(f.data, "E_AUTH_FAILED AUTH failed");
  EXPECT_TRUE(c.ReadFrame().closed());
}

TEST_F(AuthTest, NoAuthorizationsIsUnauthorized) {
  TestClient c = Authed("nothing");
  EXPECT_TRUE(IsError(c.ReadFrame(), "E_UNAUTHORIZED"));
}

TEST_F(AuthTest, SecondAuthIsInvalid) {
  TestClient c = Authed("good");
  ASSERT_TRUE(c.ReadFrame().is_frame());
  ASSERT_TRUE(c.CommandWithBody("AUTH", "good"));
  EXPECT_TRUE(IsError(c.ReadFrame(), "E_INVALID"));
}

TEST_F(AuthTest, GrantIsAskedForAgainAfterItsTtl) {
  TestClient c = Authed("good");
  ASSERT_TRUE(c.ReadFrame().is_frame());
  ASSERT_TRUE(IsOk(c.Pub("allowed", "1")));
  EXPECT_EQ(auth_.requests(), 1);
  // The ttl is a span of time that has to pass; nothing to wait on but the clock.
  std::this_thread::sleep_for(1100ms);
  ASSERT_TRUE(IsOk(c.Pub("allowed", "2")));
  EXPECT_EQ(auth_.requests(), 2);
}

TEST_F(AuthTest, AuthServerDownIsAuthFailedAndQdCarriesOn) {
  auth_.Stop();
  TestClient c = Authed("good");
  EXPECT_TRUE(IsError(c.ReadFrame(10000ms), "E_AUTH_FAILED"));
  // qd is still serving (the fixture also checks it is alive and stops cleanly).
  TestClient other = NewClient();
  EXPECT_TRUE(IsError(other.Pub("allowed", "x"), "E_AUTH_FIRST"));
  auto res = Get("/ping");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// --http-auth-required: the HTTP API's writes need X-NSQ-Auth-Secret (qd only).
class HttpAuthTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--auth-http-address=127.0.0.1:" + std::to_string(auth_.port()), "--http-auth-required"};
  }
  FakeAuthServer auth_{60};  // long enough that a cached grant cannot expire mid-test
  httplib::Result PostWith(const std::string& secret, const std::string& path, const std::string& body = "") {
    httplib::Headers h;
    if (!secret.empty()) h.emplace("X-NSQ-Auth-Secret", secret);
    return Http().Post(path.c_str(), h, body, "application/octet-stream");
  }
  static std::string Message(const httplib::Result& res) {
    return res ? Val(json::parse(res->body, nullptr, false), "message", "") : "(no response)";
  }
};

TEST_F(HttpAuthTest, PubWithoutSecretIs401AuthRequired) {
  auto res = Post("/pub?topic=allowed", "x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(Message(res), "AUTH_REQUIRED") << res->body;
  EXPECT_EQ(auth_.requests(), 0);
}

TEST_F(HttpAuthTest, GrantedSecretPublishesOnItsTopicsOnly) {
  auto ok = PostWith("good", "/pub?topic=allowed_http", "x");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto mpub = PostWith("good", "/mpub?topic=allowed_http", "a\nb\n");
  ASSERT_TRUE(mpub);
  EXPECT_EQ(mpub->status, 200) << mpub->body;
  EXPECT_TRUE(WaitForTopicValue("allowed_http", "message_count", 3));
  auto other = PostWith("good", "/pub?topic=secret_topic", "x");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(Message(other), "UNAUTHORIZED") << other->body;
  EXPECT_TRUE(TopicStats("secret_topic").is_null()) << "refused before the topic is created";
  // The auth server's remote_ip is the HTTP client's.
  EXPECT_EQ(auth_.last_remote_ip(), "127.0.0.1");
}

TEST_F(HttpAuthTest, RefusedSecretIs401AndNoGrantsIs403) {
  auto refused = PostWith("wrong", "/pub?topic=allowed", "x");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(Message(refused), "AUTH_FAILED") << refused->body;
  auto nothing = PostWith("nothing", "/pub?topic=allowed", "x");
  ASSERT_TRUE(nothing);
  EXPECT_EQ(nothing->status, 403);
  EXPECT_EQ(Message(nothing), "UNAUTHORIZED") << nothing->body;
}

TEST_F(HttpAuthTest, AdminEndpointsAreGuardedAndReadsStayOpen) {
  auto create = Post("/topic/create?topic=allowed_admin");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->status, 401);
  create = PostWith("good", "/topic/create?topic=allowed_admin");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->status, 200) << create->body;
  auto channel = PostWith("good", "/channel/create?topic=allowed_admin&channel=ch");
  ASSERT_TRUE(channel);
  EXPECT_EQ(channel->status, 200) << channel->body;
  auto del = PostWith("good", "/topic/delete?topic=other_admin");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 403) << del->body;
  auto config = Http().Put("/config/log_level", "debug", "text/plain");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->status, 401) << config->body;
  for (const char* path : {"/ping", "/info", "/stats", "/config/log_level"}) {
    auto res = Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path << " " << res->body;
  }
}

TEST_F(HttpAuthTest, GrantIsCachedForItsTtl) {
  ASSERT_EQ(PostWith("good", "/pub?topic=allowed", "1")->status, 200);
  ASSERT_EQ(PostWith("good", "/pub?topic=allowed", "2")->status, 200);
  EXPECT_EQ(auth_.requests(), 1);
}

TEST(HttpAuthFlags, WithoutAnAuthServerIsAStartError) {
  QdProcess qd({"--http-auth-required"});
  EXPECT_FALSE(qd.Start(3s));
  EXPECT_NE(qd.log().find("--http-auth-required needs --auth-http-address"), std::string::npos) << qd.log();
}

}  // namespace
}  // namespace q::test
