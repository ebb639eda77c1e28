// qadmin's /api against a real cluster: one qlookupd, two qd registered with it, and qadmin
// reading them through the lookupd. Checks that the numbers qadmin shows are the ones the qd
// report in /stats, that its actions change the daemons, that the ACL guards the actions,
// that each action is POSTed to the notification endpoint, and that an unreachable daemon is
// reported instead of failing the call.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/integration/lookupd_fixture.h"

namespace q::test {
namespace {

constexpr auto kRegisterTimeout = 10s;

// Collects the JSON bodies POSTed to it, as a --notification-http-endpoint.
class NotificationSink {
 public:
  NotificationSink() {
    server_.Post("/notify", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        events_.push_back(json::parse(req.body, nullptr, false));
      }
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([&] { return server_.is_running(); }, 5s, 1ms);
  }
  ~NotificationSink() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/notify"; }
  std::vector<json> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> events_;
};

// qadmin as a child process: only an HTTP listener.
std::unique_ptr<QdProcess> StartAdmin(std::vector<std::string> flags) {
  auto p = std::make_unique<QdProcess>(QADMIN_BINARY, std::vector<std::string>{"--http-address=127.0.0.1:0"},
                                       std::move(flags), /*listens_tcp=*/false);
  if (!p->Start()) ADD_FAILURE() << "qadmin did not start:\n" << p->log();
  return p;
}

HttpReply Call(int port, const std::string& method, const std::string& path, const std::string& body = "",
               const std::string& user = "alice") {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(10, 0);
  httplib::Headers headers;
  if (!user.empty()) headers.emplace("X-Forwarded-User", user);
  httplib::Result res = method == "GET"    ? cli.Get(path, headers)
                        : method == "POST" ? cli.Post(path, headers, body, "application/json")
                                           : cli.Delete(path, headers);
  HttpReply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.content_type = res->get_header_value("Content-Type");
  return r;
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lookupd_ = std::make_unique<LookupdProcess>();
    ASSERT_TRUE(lookupd_->Start()) << lookupd_->log();
    for (int i = 0; i < 2; ++i) {
      qds_.push_back(std::make_unique<QdProcess>(std::vector<std::string>{
          "--lookupd-tcp-address=" + lookupd_->tcp_address(), "--broadcast-address=127.0.0.1"}));
      ASSERT_TRUE(qds_.back()->Start()) << qds_.back()->log();
    }
    admin_ = StartAdmin({"--lookupd-http-address=" + lookupd_->http_address(), "--admin-user=alice",
                         "--notification-http-endpoint=" + sink_.url()});
    ASSERT_TRUE(admin_->IsRunning());
  }

  void TearDown() override {
    EXPECT_TRUE(admin_->IsRunning()) << "qadmin died: " << admin_->ExitDescription();
    if (admin_->IsRunning()) {
      EXPECT_TRUE(admin_->Stop()) << "qadmin did not stop cleanly";
    }
    for (auto& q : qds_)
      if (q->IsRunning()) q->Stop();
    if (lookupd_->IsRunning()) lookupd_->Stop();
    if (HasFailure()) {
      std::cerr << "======== qadmin log ========\n" << Tail(admin_->log(), 8000) << "\n";
      for (size_t i = 0; i < qds_.size(); ++i)
        std::cerr << "======== qd " << i << " log ========\n" << Tail(qds_[i]->log(), 4000) << "\n";
    }
  }

  QdProcess& qd(int i) { return *qds_[static_cast<size_t>(i)]; }
  std::string node(int i) { return "127.0.0.1:" + std::to_string(qd(i).http_port()); }

  json Api(const std::string& path) {
    HttpReply r = Call(admin_->http_port(), "GET", "/api/" + path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.Json();
  }
  json QdStats(int i) { return HttpCall(qd(i).http_port(), "GET", "/stats?format=json").Json(); }
  const json* QdTopic(int i, const std::string& topic) {
    stats_cache_ = QdStats(i);
    return FindByName(stats_cache_["topics"], "topic_name", topic);
  }

  void Publish(int i, const std::string& topic, int n) {
    for (int k = 0; k < n; ++k)
      ASSERT_EQ(HttpCall(qd(i).http_port(), "POST", "/pub?topic=" + topic, "m" + std::to_string(k)).status, 200);
  }
  void CreateChannel(int i, const std::string& topic, const std::string& channel) {
    ASSERT_EQ(HttpCall(qd(i).http_port(), "POST", "/topic/create?topic=" + topic).status, 200);
    ASSERT_EQ(HttpCall(qd(i).http_port(), "POST", "/channel/create?topic=" + topic + "&channel=" + channel).status,
              200);
  }
  // Both qd registered the topic with the lookupd, so qadmin sees both.
  void WaitRegistered(const std::string& topic) {
    ASSERT_TRUE(WaitFor([&] { return LookupTcpPorts(lookupd_->http_port(), topic).size() == 2; }, kRegisterTimeout))
        << HttpCall(lookupd_->http_port(), "GET", "/lookup?topic=" + topic).body;
  }
  // Topic t with channel c on both qd: 3 messages on qd0, 2 on qd1.
  void MakeTopic(const std::string& t, const std::string& c) {
    for (int i = 0; i < 2; ++i) CreateChannel(i, t, c);
    Publish(0, t, 3);
    Publish(1, t, 2);
    WaitRegistered(t);
  }
  bool WaitNotified(const std::string& action) {
    return WaitFor(
        [&] {
          for (const json& e : sink_.events())
            if (e.is_object() && e.value("action", "") == action) return true;
          return false;
        },
        5s);
  }

  NotificationSink sink_;
  std::unique_ptr<LookupdProcess> lookupd_;
  std::vector<std::unique_ptr<QdProcess>> qds_;
  std::unique_ptr<QdProcess> admin_;
  json stats_cache_;
};

TEST_F(AdminTest, TopicsAddUpEveryNode) {
  MakeTopic("orders", "billing");
  // Without a channel the messages stay in the topic, so its depth is theirs.
  Publish(0, "audit", 4);
  Publish(1, "audit", 1);
  WaitRegistered("audit");
  json j = Api("topics");
  EXPECT_TRUE(j["errors"].empty()) << j.dump();
  const json* a = FindByName(j["topics"], "topic_name", "audit");
  ASSERT_NE(a, nullptr) << j.dump();
  EXPECT_EQ((*a)["depth"], 5);
  EXPECT_EQ((*a)["channel_count"], 0);
  const json* t = FindByName(j["topics"], "topic_name", "orders");
  ASSERT_NE(t, nullptr) << j.dump();
  EXPECT_EQ((*t)["depth"], (*QdTopic(0, "orders"))["depth"].get<int64_t>() + (*QdTopic(1, "orders"))["depth"].get<int64_t>());
  EXPECT_EQ((*t)["message_count"], 5);
  EXPECT_EQ((*t)["node_count"], 2);
  EXPECT_EQ((*t)["channels"], json::array({"billing"}));
  EXPECT_EQ((*t)["paused"], false);
  EXPECT_TRUE((*t)["rate"].is_number());
  EXPECT_TRUE(j["history"].is_array());
}

TEST_F(AdminTest, TopicViewMatchesEachNodesStats) {
  MakeTopic("orders", "billing");
  json j = Api("topics/orders");
  ASSERT_EQ(j["nodes"].size(), 2u) << j.dump();
  for (int i = 0; i < 2; ++i) {
    const json* n = FindByName(j["nodes"], "node", node(i));
    ASSERT_NE(n, nullptr) << node(i) << " missing in " << j.dump();
    const json* s = QdTopic(i, "orders");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ((*n)["depth"], (*s)["depth"]);
    EXPECT_EQ((*n)["message_count"], (*s)["message_count"]);
    EXPECT_TRUE((*n)["rate"].is_number());
  }
  const json* c = FindByName(j["channels"], "channel_name", "billing");
  ASSERT_NE(c, nullptr) << j.dump();
  EXPECT_EQ((*c)["depth"], 5);
  EXPECT_EQ((*c)["in_flight_count"], 0);
  EXPECT_EQ((*c)["deferred_count"], 0);
  EXPECT_EQ((*c)["client_count"], 0);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/topics/nosuch").status, 404);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/topics/bad!name").status, 400);
}

TEST_F(AdminTest, ChannelViewListsClients) {
  MakeTopic("orders", "billing");
  TestClient sub;
  ASSERT_TRUE(sub.ConnectV2(qd(0).tcp_port()));
  ASSERT_TRUE(sub.Identify(R"({"client_id":"worker1","hostname":"w1","user_agent":"admin-test/1.0"})").is_frame());
  ASSERT_TRUE(sub.Sub("orders", "billing").IsResponse("OK"));
  ASSERT_TRUE(sub.Rdy(2));
  ASSERT_TRUE(sub.ReadFrame().IsMessage());
  ASSERT_TRUE(sub.ReadFrame().IsMessage());
  json j;
  ASSERT_TRUE(WaitFor(
      [&] {
        j = Api("topics/orders/billing");
        return j["in_flight_count"] == 2;
      },
      5s))
      << j.dump();
  EXPECT_EQ(j["depth"], 3);
  EXPECT_EQ(j["client_count"], 1);
  ASSERT_EQ(j["clients"].size(), 1u) << j.dump();
  const json& cl = j["clients"][0];
  EXPECT_EQ(cl["node"], node(0));
  EXPECT_EQ(cl["user_agent"], "admin-test/1.0");
  EXPECT_EQ(cl["hostname"], "w1");
  EXPECT_EQ(cl["ready_count"], 2);
  EXPECT_EQ(cl["in_flight_count"], 2);
  EXPECT_TRUE(cl["connect_ts"].is_number());
  EXPECT_TRUE(cl.contains("tls") && cl.contains("snappy") && cl.contains("deflate"));
}

TEST_F(AdminTest, NodesAndNodeView) {
  MakeTopic("orders", "billing");
  json j = Api("nodes");
  ASSERT_EQ(j["nodes"].size(), 2u) << j.dump();
  for (int i = 0; i < 2; ++i) {
    const json* n = FindByName(j["nodes"], "address", node(i));
    ASSERT_NE(n, nullptr) << j.dump();
    EXPECT_EQ((*n)["reachable"], true);
    EXPECT_EQ((*n)["version"], QdStats(i)["version"]);
    EXPECT_EQ((*n)["tcp_port"], qd(i).tcp_port());
    EXPECT_EQ((*n)["topics"], json::array({"orders"}));
  }
  json n = Api("nodes/" + node(1));
  ASSERT_EQ(n["topics"].size(), 1u) << n.dump();
  EXPECT_EQ(n["topics"][0]["message_count"], 2);
  EXPECT_EQ(n["topics"][0]["channels"][0]["depth"], 2);
  EXPECT_EQ(n["topics"][0]["channels"][0]["channel_name"], "billing");
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/nodes/127.0.0.1:1").status, 404);
}

TEST_F(AdminTest, LookupViewShowsTopicsChannelsAndTombstones) {
  MakeTopic("orders", "billing");
  HttpReply r = Call(admin_->http_port(), "DELETE", "/api/nodes/" + node(0) + "?topic=orders");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(WaitNotified("tombstone_topic_producer"));
  EXPECT_EQ(LookupTcpPorts(lookupd_->http_port(), "orders"), std::vector<int>{qd(1).tcp_port()});
  json j = Api("lookup");
  ASSERT_EQ(j["lookupds"].size(), 1u) << j.dump();
  const json& l = j["lookupds"][0];
  EXPECT_EQ(l["ok"], true);
  const json* t = FindByName(l["topics"], "topic_name", "orders");
  ASSERT_NE(t, nullptr) << j.dump();
  EXPECT_EQ((*t)["channels"], json::array({"billing"}));
  EXPECT_EQ((*t)["tombstoned"], json::array({node(0)}));
  EXPECT_EQ((*t)["producers"], json::array({node(1)}));
}

TEST_F(AdminTest, PauseEmptyDeleteChangeTheDaemons) {
  MakeTopic("orders", "billing");
  auto post = [&](const std::string& path, const std::string& body) {
    HttpReply r = Call(admin_->http_port(), "POST", "/api/" + path, body);
    EXPECT_EQ(r.status, 200) << path << " " << body << ": " << r.body;
  };
  post("topics/orders", R"({"action":"pause"})");
  for (int i = 0; i < 2; ++i) EXPECT_EQ((*QdTopic(i, "orders"))["paused"], true);
  EXPECT_EQ(Api("topics/orders")["paused"], true);
  post("topics/orders", R"({"action":"unpause"})");
  for (int i = 0; i < 2; ++i) EXPECT_EQ((*QdTopic(i, "orders"))["paused"], false);

  post("topics/orders/billing", R"({"action":"pause"})");
  for (int i = 0; i < 2; ++i) EXPECT_EQ((*FindByName((*QdTopic(i, "orders"))["channels"], "channel_name", "billing"))["paused"], true);
  post("topics/orders/billing", R"({"action":"empty"})");
  for (int i = 0; i < 2; ++i) EXPECT_EQ((*FindByName((*QdTopic(i, "orders"))["channels"], "channel_name", "billing"))["depth"], 0);
  EXPECT_EQ(Api("topics/orders/billing")["depth"], 0);

  HttpReply r = Call(admin_->http_port(), "DELETE", "/api/topics/orders/billing");
  EXPECT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 2; ++i) EXPECT_TRUE((*QdTopic(i, "orders"))["channels"].empty());

  r = Call(admin_->http_port(), "DELETE", "/api/topics/orders");
  EXPECT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 2; ++i) EXPECT_EQ(QdTopic(i, "orders"), nullptr);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/topics/orders").status, 404);

  for (const char* action : {"pause_topic", "unpause_topic", "pause_channel", "empty_channel", "delete_channel",
                             "delete_topic"})
    EXPECT_TRUE(WaitNotified(action)) << action;
  for (const json& e : sink_.events()) {
    EXPECT_EQ(e["user"], "alice") << e.dump();
    EXPECT_EQ(e["topic"], "orders") << e.dump();
  }
  EXPECT_EQ(Call(admin_->http_port(), "POST", "/api/topics/none", R"({"action":"pause"})").status, 404);
  EXPECT_EQ(Call(admin_->http_port(), "POST", "/api/topics/none", R"({"action":"explode"})").status, 400);
  EXPECT_EQ(Call(admin_->http_port(), "POST", "/api/topics/none", "not json").status, 400);
}

TEST_F(AdminTest, CreateGoesThroughTheLookupd) {
  HttpReply r = Call(admin_->http_port(), "POST", "/api/topics", R"({"topic":"fresh","channel":"first"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HttpCall(lookupd_->http_port(), "GET", "/topics").Json()["topics"], json::array({"fresh"}));
  EXPECT_EQ(HttpCall(lookupd_->http_port(), "GET", "/channels?topic=fresh").Json()["channels"],
            json::array({"first"}));
  EXPECT_NE(FindByName(Api("topics")["topics"], "topic_name", "fresh"), nullptr);
  EXPECT_TRUE(WaitNotified("create_topic"));
  EXPECT_TRUE(WaitNotified("create_channel"));
  EXPECT_EQ(Call(admin_->http_port(), "POST", "/api/topics", R"({"topic":"bad name"})").status, 400);
}

TEST_F(AdminTest, ActionsNeedAnAdminUser) {
  MakeTopic("orders", "billing");
  for (const std::string user : {"", "mallory"}) {
    HttpReply r = Call(admin_->http_port(), "POST", "/api/topics/orders", R"({"action":"pause"})", user);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.Json()["message"], "FORBIDDEN");
    EXPECT_EQ(Call(admin_->http_port(), "DELETE", "/api/topics/orders", "", user).status, 403);
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(QdTopic(i, "orders"), nullptr);
    EXPECT_EQ((*QdTopic(i, "orders"))["paused"], false);
  }
  // Reading needs no user.
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/topics", "", "").status, 200);
}

TEST_F(AdminTest, UnreachableDaemonsAreReportedNotFatal) {
  MakeTopic("orders", "billing");
  // A qadmin with the fixed qd list, as for a cluster without a lookupd.
  auto fixed = StartAdmin({"--nsqd-http-address=" + node(0), "--nsqd-http-address=" + node(1)});
  ASSERT_EQ(Call(fixed->http_port(), "GET", "/api/topics").Json()["topics"][0]["message_count"], 5);
  std::string dead = node(1);
  qd(1).Kill();
  json j = Call(fixed->http_port(), "GET", "/api/topics").Json();
  ASSERT_EQ(j["errors"].size(), 1u) << j.dump();
  EXPECT_EQ(j["errors"][0]["node"], dead);
  EXPECT_EQ(j["topics"][0]["message_count"], 3);
  json nodes = Call(fixed->http_port(), "GET", "/api/nodes").Json();
  const json* n = FindByName(nodes["nodes"], "address", dead);
  ASSERT_NE(n, nullptr) << nodes.dump();
  EXPECT_EQ((*n)["reachable"], false);
  EXPECT_FALSE((*n)["error"].get<std::string>().empty());
  EXPECT_TRUE(fixed->Stop());

  lookupd_->Kill();
  j = Api("topics");
  ASSERT_EQ(j["errors"].size(), 1u) << j.dump();
  EXPECT_EQ(j["errors"][0]["role"], "lookupd");
  EXPECT_EQ(Api("lookup")["lookupds"][0]["ok"], false);
}

TEST_F(AdminTest, ServesThePageAndItsAssets) {
  HttpReply page = Call(admin_->http_port(), "GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("static/app.js"), std::string::npos);
  EXPECT_EQ(page.body.find("{{BASE_PATH}}"), std::string::npos);
  EXPECT_NE(page.body.find("http://"), 0u);
  HttpReply js = Call(admin_->http_port(), "GET", "/static/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.content_type.find("javascript"), std::string::npos);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/static/style.css").status, 200);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/static/nope.js").status, 404);
  EXPECT_EQ(Call(admin_->http_port(), "GET", "/api/nope").status, 404);

  auto based = StartAdmin({"--lookupd-http-address=" + lookupd_->http_address(), "--base-path=/ops"});
  HttpReply p = Call(based->http_port(), "GET", "/ops/");
  ASSERT_EQ(p.status, 200);
  EXPECT_NE(p.body.find("/ops/static/app.js"), std::string::npos);
  EXPECT_EQ(Call(based->http_port(), "GET", "/ops/api/topics").status, 200);
  EXPECT_EQ(Call(based->http_port(), "GET", "/api/topics").status, 404);
  EXPECT_TRUE(based->Stop());
}

TEST(AdminFlags, RefusesBadConfigurations) {
  for (std::vector<std::string> flags : std::vector<std::vector<std::string>>{
           {},
           {"--lookupd-http-address=127.0.0.1:1", "--nsqd-http-address=127.0.0.1:2"},
           {"--lookupd-http-address=nonsense"},
           {"--lookupd-http-address=127.0.0.1:1", "--log-level=loud"}}) {
    QdProcess p(QADMIN_BINARY, {"--http-address=127.0.0.1:0"}, flags, /*listens_tcp=*/false);
    EXPECT_FALSE(p.Start(5s));
    EXPECT_NE(p.log().find("qadmin: "), std::string::npos) << p.log();
  }
}

}  // namespace
}  // namespace q::test
