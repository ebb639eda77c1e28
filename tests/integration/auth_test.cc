// AUTH against a real auth server (an httplib server in this test process, on loopback):
// grants, refusals, the ttl, and an auth server that is down.
#include <atomic>
#include <thread>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

// Answers like an NSQ auth server: secret "good" may publish and subscribe on topics
// matching ^allowed; "nothing" gets no authorizations; anything else 403.
class FakeAuthServer {
 public:
  explicit FakeAuthServer(int ttl_seconds) : ttl_(ttl_seconds) {
    server_.Get("/auth", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      last_remote_ip_ = req.get_param_value("remote_ip");
      std::string secret = req.get_param_value("secret");
      if (secret == "good") {
        res.set_content(json{{"ttl", ttl_},
                             {"identity", "alice"},
                             {"identity_url", "http://example.test/alice"},
                             {"authorizations",
                              {{{"topic", "^allowed"}, {"channels", {".*"}}, {"permissions", {"subscribe", "publish"}}}}}}
                            .dump(),
                        "application/json");
      } else if (secret == "nothing") {
        res.set_content(json{{"ttl", ttl_}, {"authorizations", json::array()}}.dump(), "application/json");
      } else {
        res.status = 403;
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeAuthServer() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }
  std::string last_remote_ip() const { return last_remote_ip_; }

 private:
  int ttl_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::string last_remote_ip_;
};

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

}  // namespace
}  // namespace q::test
