// Transactional messages against a real qd (docs/transactions.md): half messages are
// invisible until committed, rolled back ones never appear, check-backs over TCP and HTTP
// decide abandoned ones, undecided ones survive kill -9, bad input gets its E_* code.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "common/byte_order.h"
#include "qd_fixture.h"

namespace q::test {
namespace {

using namespace std::chrono_literals;

// A decoded check-back frame (type 3).
struct TxCheck {
  std::string topic, txid, id, body;
  int checks = 0;
  int64_t timestamp = 0;
};

std::optional<TxCheck> DecodeTxCheck(const Frame& f) {
  if (!f.is_frame() || f.type != wire::FrameType::kTxCheck) return std::nullopt;
  std::string_view p = f.data;
  TxCheck c;
  auto str = [&p](std::string* out) {
    if (p.size() < 2) return false;
    uint16_t n = LoadBE16(p.data());
    if (p.size() < 2u + n) return false;
    out->assign(p.data() + 2, n);
    p.remove_prefix(2u + n);
    return true;
  };
  if (!str(&c.topic) || !str(&c.txid) || p.size() < 2 + 8 + 16) return std::nullopt;
  c.checks = LoadBE16(p.data());
  c.timestamp = static_cast<int64_t>(LoadBE64(p.data() + 2));
  c.id.assign(p.data() + 10, 16);
  c.body.assign(p.substr(26));
  return c;
}

class TxTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override { return {"--tx-check-interval=200ms", "--tx-max-checks=50"}; }

  void PostOk(const std::string& path, const std::string& body = "") {
    auto res = Post(path, body);
    ASSERT_TRUE(res) << "POST " << path << ": " << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200) << "POST " << path << ": " << res->body;
  }

  // A connection identified as a transaction producer of group.
  TestClient NewTxProducer(const std::string& group) {
    TestClient c = NewClient();
    EXPECT_TRUE(IsOk(c.Identify(R"({"tx_group":")" + group + R"("})"))) << "IDENTIFY tx_group " << group;
    return c;
  }

  static Frame TxPub(TestClient& c, const std::string& topic, const std::string& txid, const std::string& body) {
    EXPECT_TRUE(c.CommandWithBody("TXPUB " + topic + " " + txid, body));
    return c.ReadFrame();
  }
  static Frame Tx(TestClient& c, const std::string& verb, const std::string& topic, const std::string& txid) {
    EXPECT_TRUE(c.Command(verb + " " + topic + " " + txid));
    return c.ReadFrame();
  }
  // Reads frames until a check-back arrives (answering heartbeats); nullopt on anything else.
  static std::optional<TxCheck> ReadCheck(TestClient& c, std::chrono::milliseconds timeout = 5s) {
    Frame f = c.ReadFrame(timeout);
    std::optional<TxCheck> check = DecodeTxCheck(f);
    EXPECT_TRUE(check.has_value()) << "expected a check-back frame, got " << f.Describe();
    return check;
  }
  // Sends verb for the check and reads frames until its OK (skipping further check-backs,
  // which may arrive meanwhile).
  static void Answer(TestClient& c, const std::string& verb, const TxCheck& check) {
    ASSERT_TRUE(c.Command(verb + " " + check.topic + " " + check.txid));
    for (;;) {
      Frame f = c.ReadFrame();
      if (DecodeTxCheck(f)) continue;
      ASSERT_TRUE(IsOk(f)) << verb << " " << check.txid;
      return;
    }
  }

  void CreateChannels(const std::string& topic, std::initializer_list<std::string> channels) {
    ASSERT_NO_FATAL_FAILURE(PostOk("/topic/create?topic=" + topic));
    for (const auto& c : channels) ASSERT_NO_FATAL_FAILURE(PostOk("/channel/create?topic=" + topic + "&channel=" + c));
  }

  json TxList(const std::string& topic) {
    auto res = Get("/tx/list?topic=" + topic);
    if (!res || res->status != 200) {
      ADD_FAILURE() << "GET /tx/list failed";
      return json();
    }
    json j = json::parse(res->body, nullptr, false);
    for (const auto& t : j["topics"])
      if (t["topic_name"] == topic) return t;
    return json::object({{"half_messages", json::array()}, {"expired", json::array()}});
  }
};

TEST_F(TxTest, CommitMakesTheMessageVisibleToEveryChannelOnce) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail", "billing"}));
  TestClient mail = NewSubscriber("orders", "mail");
  TestClient billing = NewSubscriber("orders", "billing");
  ASSERT_TRUE(mail.Rdy(10));
  ASSERT_TRUE(billing.Rdy(10));
  TestClient producer = NewTxProducer("shop");
  ASSERT_TRUE(IsOk(TxPub(producer, "orders", "o-1001", "order 1001 created")));

  // Stored but invisible: nothing queued or in flight on either channel.
  json t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_pending", -1), 1) << t;
  for (const char* ch : {"mail", "billing"}) {
    json c = ChannelStats("orders", ch);
    EXPECT_EQ(Val<int64_t>(c, "depth", -1), 0) << c;
    EXPECT_EQ(Val<int64_t>(c, "in_flight_count", -1), 0) << c;
  }
  EXPECT_EQ(TxList("orders")["half_messages"].size(), 1u);

  ASSERT_TRUE(IsOk(Tx(producer, "TXCOMMIT", "orders", "o-1001")));
  ReceivedMessage a, b;
  ASSERT_TRUE(mail.ReadMessage(&a));
  ASSERT_TRUE(billing.ReadMessage(&b));
  EXPECT_EQ(a.body, "order 1001 created");
  EXPECT_EQ(b.body, "order 1001 created");
  EXPECT_EQ(a.id, b.id);
  mail.Fin(a.id);
  billing.Fin(b.id);

  // Committing again is answered OK and publishes nothing more.
  EXPECT_TRUE(IsOk(Tx(producer, "TXCOMMIT", "orders", "o-1001")));
  EXPECT_TRUE(IsError(Tx(producer, "TXROLLBACK", "orders", "o-1001"), "E_TX_DECIDED"));
  EXPECT_TRUE(mail.ExpectNoFrame(300ms));
  EXPECT_TRUE(billing.ExpectNoFrame(10ms));
  t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_pending", -1), 0) << t;
  EXPECT_EQ(Val<int64_t>(t, "tx_committed", -1), 1) << t;
  EXPECT_EQ(Val<int64_t>(t, "message_count", -1), 1) << t;
}

TEST_F(TxTest, RollbackIsNeverVisible) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  TestClient mail = NewSubscriber("orders", "mail");
  ASSERT_TRUE(mail.Rdy(10));
  TestClient producer = NewTxProducer("shop");
  ASSERT_TRUE(IsOk(TxPub(producer, "orders", "o-1", "never")));
  ASSERT_TRUE(IsOk(TxPub(producer, "orders", "o-2", "visible")));
  ASSERT_TRUE(IsOk(Tx(producer, "TXROLLBACK", "orders", "o-1")));
  EXPECT_TRUE(IsOk(Tx(producer, "TXROLLBACK", "orders", "o-1")));  // idempotent
  EXPECT_TRUE(IsError(Tx(producer, "TXCOMMIT", "orders", "o-1"), "E_TX_DECIDED"));
  // A later commit of another message shows the rolled back one did not slip in before it.
  ASSERT_TRUE(IsOk(Tx(producer, "TXCOMMIT", "orders", "o-2")));
  ReceivedMessage m;
  ASSERT_TRUE(mail.ReadMessage(&m));
  EXPECT_EQ(m.body, "visible");
  mail.Fin(m.id);
  EXPECT_TRUE(mail.ExpectNoFrame(300ms));
  json t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_rolled_back", -1), 1) << t;
  EXPECT_EQ(Val<int64_t>(t, "tx_committed", -1), 1) << t;
  EXPECT_EQ(Val<int64_t>(t, "message_count", -1), 1) << t;
}

TEST_F(TxTest, BadInputGetsClearErrors) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("t1", {}));
  ASSERT_NO_FATAL_FAILURE(CreateChannels("t2", {}));
  {
    // No group: refused, the connection stays usable.
    TestClient plain = NewClient();
    EXPECT_TRUE(IsError(TxPub(plain, "t1", "x1", "body"), "E_TX_NO_GROUP"));
    EXPECT_TRUE(IsOk(plain.Pub("t1", "still fine")));
  }
  TestClient p = NewTxProducer("shop");
  ASSERT_TRUE(IsOk(TxPub(p, "t1", "tx-1", "body")));
  // The same txid again: OK with the same body (a retry), E_TX_EXISTS with another.
  EXPECT_TRUE(IsOk(TxPub(p, "t1", "tx-1", "body")));
  EXPECT_TRUE(IsError(TxPub(p, "t1", "tx-1", "other body"), "E_TX_EXISTS"));
  // The txid belongs to t1: on t2 (or on a topic qd does not have) it is unknown.
  EXPECT_TRUE(IsError(Tx(p, "TXCOMMIT", "t2", "tx-1"), "E_TX_UNKNOWN"));
  EXPECT_TRUE(IsError(Tx(p, "TXCOMMIT", "nosuchtopic", "tx-1"), "E_TX_UNKNOWN"));
  EXPECT_TRUE(IsError(Tx(p, "TXROLLBACK", "t1", "never-published"), "E_TX_UNKNOWN"));
  EXPECT_TRUE(IsError(Tx(p, "TXUNKNOWN", "t1", "never-published"), "E_TX_UNKNOWN"));
  EXPECT_TRUE(IsOk(Tx(p, "TXUNKNOWN", "t1", "tx-1")));
  // Still pending after all that.
  EXPECT_TRUE(IsOk(Tx(p, "TXCOMMIT", "t1", "tx-1")));
  {
    TestClient c = NewTxProducer("shop");
    EXPECT_TRUE(IsError(TxPub(c, "t1", std::string(65, 'x'), "body"), "E_BAD_TXID"));
    EXPECT_TRUE(c.ExpectClosed());
  }
  {
    TestClient c = NewTxProducer("shop");
    EXPECT_TRUE(IsError(Tx(c, "TXCOMMIT", "t1", "a/b"), "E_BAD_TXID"));
    EXPECT_TRUE(c.ExpectClosed());
  }
  {
    TestClient c = NewTxProducer("shop");
    EXPECT_TRUE(IsError(Tx(c, "TXCOMMIT", "t1", "a b"), "E_INVALID"));
  }
  {
    TestClient c = NewClient();
    EXPECT_TRUE(IsError(c.Identify(R"({"tx_group":"no spaces"})"), "E_BAD_BODY"));
  }
  {
    TestClient c = NewTxProducer("shop");
    EXPECT_TRUE(IsError(c.Sub("t1", "c"), "E_INVALID"));
  }
  // A 64-character txid is the longest allowed.
  EXPECT_TRUE(IsOk(TxPub(p, "t1", std::string(64, 'y'), "body")));
}

TEST_F(TxTest, CheckBackOverTcpReachesTheRestartedProducerOfTheGroup) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  TestClient mail = NewSubscriber("orders", "mail");
  ASSERT_TRUE(mail.Rdy(10));
  {
    // The producer dies between TXPUB and its decision.
    TestClient dying = NewTxProducer("shop");
    ASSERT_TRUE(IsOk(TxPub(dying, "orders", "commit-me", "c-body")));
    ASSERT_TRUE(IsOk(TxPub(dying, "orders", "roll-me", "r-body")));
    ASSERT_TRUE(IsOk(TxPub(dying, "orders", "wait-me", "w-body")));
  }
  TestClient other_group = NewTxProducer("elsewhere");
  TestClient restarted = NewTxProducer("shop");
  std::map<std::string, int> seen;
  // Answers: commit, rollback, and "unknown" first then commit.
  while (seen.size() < 3 || seen["wait-me"] < 2) {
    std::optional<TxCheck> check = ReadCheck(restarted);
    ASSERT_TRUE(check);
    EXPECT_EQ(check->topic, "orders");
    int n = ++seen[check->txid];
    EXPECT_GE(check->checks, n);
    if (check->txid == "commit-me") {
      EXPECT_EQ(check->body, "c-body");
      ASSERT_NO_FATAL_FAILURE(Answer(restarted, "TXCOMMIT", *check));
    } else if (check->txid == "roll-me") {
      ASSERT_NO_FATAL_FAILURE(Answer(restarted, "TXROLLBACK", *check));
    } else if (check->txid == "wait-me") {
      ASSERT_NO_FATAL_FAILURE(Answer(restarted, n == 1 ? "TXUNKNOWN" : "TXCOMMIT", *check));
    }
  }
  std::set<std::string> bodies;
  for (int i = 0; i < 2; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(mail.ReadMessage(&m));
    bodies.insert(m.body);
    mail.Fin(m.id);
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"c-body", "w-body"}));
  EXPECT_TRUE(mail.ExpectNoFrame(300ms));
  // Check-backs go only to the group of the half message.
  EXPECT_TRUE(other_group.ExpectNoFrame(10ms));
  json t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_committed", -1), 2) << t;
  EXPECT_EQ(Val<int64_t>(t, "tx_rolled_back", -1), 1) << t;
  EXPECT_EQ(Val<int64_t>(t, "tx_pending", -1), 0) << t;
}

// A check_url server in the test: answers per txid from a script.
class CheckServer {
 public:
  explicit CheckServer(std::map<std::string, std::vector<std::string>> script) : script_(std::move(script)) {
    server_.Get("/check", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      std::string txid = req.get_param_value("txid");
      asked_[txid].push_back(req.get_param_value("topic") + "#" + req.get_param_value("checks"));
      auto& answers = script_[txid];
      std::string answer = answers.empty() ? "unknown" : answers.front();
      if (answers.size() > 1) answers.erase(answers.begin());
      if (answer == "500") {
        res.status = 500;
        return;
      }
      res.set_content(answer, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([&] { return server_.is_running(); }, 5s);
  }
  ~CheckServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/check"; }
  std::vector<std::string> asked(const std::string& txid) {
    std::lock_guard lock(mu_);
    return asked_[txid];
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> script_;
  std::map<std::string, std::vector<std::string>> asked_;
};

TEST_F(TxTest, CheckBackOverHttpDecidesByTheCheckUrl) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  TestClient mail = NewSubscriber("orders", "mail");
  ASSERT_TRUE(mail.Rdy(10));
  CheckServer server({{"h-commit", {"commit"}},
                      {"h-rollback", {" ROLLBACK\n"}},
                      {"h-later", {"unknown", "500", "commit"}}});
  std::string url = UrlEncode(server.url());
  ASSERT_NO_FATAL_FAILURE(PostOk("/txpub?topic=orders&txid=h-commit&check_url=" + url, "hc"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/txpub?topic=orders&txid=h-rollback&check_url=" + url, "hr"));
  ASSERT_NO_FATAL_FAILURE(PostOk("/txpub?topic=orders&txid=h-later&check_url=" + url, "hl"));
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_pending", 0, 10s)) << TopicStats("orders");
  std::set<std::string> bodies;
  for (int i = 0; i < 2; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(mail.ReadMessage(&m));
    bodies.insert(m.body);
    mail.Fin(m.id);
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"hc", "hl"}));
  EXPECT_TRUE(mail.ExpectNoFrame(300ms));
  EXPECT_EQ(server.asked("h-commit"), (std::vector<std::string>{"orders#1"}));
  EXPECT_EQ(server.asked("h-later"), (std::vector<std::string>{"orders#1", "orders#2", "orders#3"}));
  json t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_committed", -1), 2) << t;
  EXPECT_EQ(Val<int64_t>(t, "tx_rolled_back", -1), 1) << t;
}

TEST_F(TxTest, HttpEndpointsAnswerWithNsqStyleErrors) {
  auto status = [this](const std::string& path, const std::string& body = "x") {
    auto res = Post(path, body);
    return res ? std::to_string(res->status) + " " + res->body : std::string("no response");
  };
  EXPECT_EQ(status("/txpub?txid=a"), R"(400 {"message":"MISSING_ARG_TOPIC"})");
  EXPECT_EQ(status("/txpub?topic=t"), R"(400 {"message":"MISSING_ARG_TXID"})");
  EXPECT_EQ(status("/txpub?topic=t&txid=" + std::string(65, 'a')), R"(400 {"message":"INVALID_TXID"})");
  EXPECT_EQ(status("/txpub?topic=t&txid=a&check_url=ftp%3A%2F%2Fx"), R"(400 {"message":"INVALID_CHECK_URL"})");
  EXPECT_EQ(status("/txpub?topic=t&txid=a", ""), R"(400 {"message":"MSG_EMPTY"})");
  EXPECT_EQ(status("/txpub?topic=t&txid=a&tx_group=shop"), "200 OK");
  EXPECT_EQ(status("/txpub?topic=t&txid=a&tx_group=shop", "other"), R"(409 {"message":"TX_EXISTS"})");
  EXPECT_EQ(status("/txcommit?topic=t&txid=b"), R"(404 {"message":"TX_UNKNOWN"})");
  EXPECT_EQ(status("/txcommit?topic=nosuch&txid=a"), R"(404 {"message":"TX_UNKNOWN"})");
  json list = TxList("t");
  ASSERT_EQ(list["half_messages"].size(), 1u) << list;
  EXPECT_EQ(list["half_messages"][0]["txid"], "a");
  EXPECT_EQ(list["half_messages"][0]["tx_group"], "shop");
  EXPECT_EQ(list["half_messages"][0]["body_size"], 1);
  auto metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("qd_topic_tx_pending{topic=\"t\"} 1"), std::string::npos) << metrics->body;
  EXPECT_EQ(status("/txrollback?topic=t&txid=a"), "200 OK");
  EXPECT_EQ(status("/txrollback?topic=t&txid=a"), "200 OK");
  EXPECT_EQ(status("/txcommit?topic=t&txid=a"), R"(409 {"message":"TX_DECIDED"})");
  EXPECT_EQ(TxList("t")["half_messages"].size(), 0u);
}

class TxExpiryTest : public TxTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--tx-check-interval=100ms", "--tx-max-checks=2"}; }
};

TEST_F(TxExpiryTest, UnansweredHalfMessageExpiresAndIsShown) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  {
    TestClient gone = NewTxProducer("shop");
    ASSERT_TRUE(IsOk(TxPub(gone, "orders", "lost-1", "body")));
  }
  // 100 ms, then 200 ms, then 400 ms until the third due time finds 2 checks done.
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_expired", 1, 10s)) << TopicStats("orders");
  json t = TopicStats("orders");
  EXPECT_EQ(Val<int64_t>(t, "tx_pending", -1), 0) << t;
  EXPECT_EQ(Val<int64_t>(ChannelStats("orders", "mail"), "depth", -1), 0);
  json list = TxList("orders");
  ASSERT_EQ(list["expired"].size(), 1u) << list;
  EXPECT_EQ(list["expired"][0]["txid"], "lost-1");
  EXPECT_TRUE(qd_->WaitForLog("lost-1 (group \"shop\") discarded undecided after 2 check-back(s)", 2s)) << qd_->log();
  // Deciding it now is refused: it is gone.
  TestClient late = NewTxProducer("shop");
  EXPECT_TRUE(IsError(Tx(late, "TXCOMMIT", "orders", "lost-1"), "E_TX_DECIDED"));
}

class TxCrashTest : public TxTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--tx-check-interval=300ms", "--tx-max-checks=50"}; }
};

TEST_F(TxCrashTest, UndecidedHalfMessagesSurviveKillDashNine) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  {
    TestClient p = NewTxProducer("shop");
    for (const char* txid : {"k-1", "k-2", "k-3", "k-done"})
      ASSERT_TRUE(IsOk(TxPub(p, "orders", txid, std::string("body of ") + txid)));
    ASSERT_TRUE(IsOk(Tx(p, "TXCOMMIT", "orders", "k-done")));
  }
  qd_->Kill();
  ASSERT_TRUE(qd_->Start()) << qd_->log();

  json list = TxList("orders");
  std::set<std::string> pending;
  for (const auto& h : list["half_messages"]) pending.insert(h["txid"].get<std::string>());
  EXPECT_EQ(pending, (std::set<std::string>{"k-1", "k-2", "k-3"})) << list;
  EXPECT_EQ(Val<int64_t>(TopicStats("orders"), "tx_pending", -1), 3);

  TestClient mail = NewSubscriber("orders", "mail");
  ASSERT_TRUE(mail.Rdy(10));
  // The committed one was delivered into the channel before the crash: it comes once.
  ReceivedMessage done;
  ASSERT_TRUE(mail.ReadMessage(&done));
  EXPECT_EQ(done.body, "body of k-done");
  mail.Fin(done.id);

  TestClient p = NewTxProducer("shop");
  std::set<std::string> answered;
  while (answered.size() < 3) {
    std::optional<TxCheck> check = ReadCheck(p);
    ASSERT_TRUE(check);
    if (!answered.insert(check->txid).second) continue;
    ASSERT_NO_FATAL_FAILURE(Answer(p, check->txid == "k-2" ? "TXROLLBACK" : "TXCOMMIT", *check));
  }
  std::set<std::string> bodies;
  for (int i = 0; i < 2; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(mail.ReadMessage(&m));
    EXPECT_TRUE(bodies.insert(m.body).second) << "delivered twice: " << m.body;
    mail.Fin(m.id);
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"body of k-1", "body of k-3"}));
  EXPECT_TRUE(mail.ExpectNoFrame(400ms));
  EXPECT_EQ(Val<int64_t>(TopicStats("orders"), "tx_pending", -1), 0);
}

// With --sync-every=1 TXPUB and TXCOMMIT answer only after the group commit's fsync; the
// answers and the outcome are the same.
class TxDurableTest : public TxTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--sync-every=1", "--tx-check-interval=60s"}; }
};

TEST_F(TxDurableTest, FsyncedTxpubAndCommitSurviveKillDashNine) {
  ASSERT_NO_FATAL_FAILURE(CreateChannels("orders", {"mail"}));
  {
    TestClient p = NewTxProducer("shop");
    ASSERT_TRUE(IsOk(TxPub(p, "orders", "d-1", "durable 1")));
    ASSERT_TRUE(IsOk(TxPub(p, "orders", "d-2", "durable 2")));
    ASSERT_TRUE(IsOk(Tx(p, "TXCOMMIT", "orders", "d-1")));
    ASSERT_NO_FATAL_FAILURE(PostOk("/txpub?topic=orders&txid=d-3&tx_group=shop", "durable 3"));
  }
  qd_->Kill();
  ASSERT_TRUE(qd_->Start()) << qd_->log();
  EXPECT_EQ(Val<int64_t>(TopicStats("orders"), "tx_pending", -1), 2);
  TestClient p = NewTxProducer("shop");
  EXPECT_TRUE(IsOk(Tx(p, "TXCOMMIT", "orders", "d-1")));  // remembered across the restart
  EXPECT_TRUE(IsOk(Tx(p, "TXCOMMIT", "orders", "d-3")));
  EXPECT_TRUE(IsOk(Tx(p, "TXROLLBACK", "orders", "d-2")));
  TestClient mail = NewSubscriber("orders", "mail");
  ASSERT_TRUE(mail.Rdy(10));
  std::set<std::string> bodies;
  for (int i = 0; i < 2; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(mail.ReadMessage(&m));
    EXPECT_TRUE(bodies.insert(m.body).second) << "delivered twice: " << m.body;
    mail.Fin(m.id);
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"durable 1", "durable 3"}));
  EXPECT_TRUE(mail.ExpectNoFrame(300ms));
}

}  // namespace
}  // namespace q::test
