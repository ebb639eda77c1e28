// The client side of transactional messages (docs/transactions.md) against a real qd:
// TransactionProducer (half message, local transaction, commit/rollback, check-backs answered
// by its check function, a restarted producer answering for a dead one) and `qctl tx`.
#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "q/consumer.h"
#include "q/transaction_producer.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/received_bodies.h"

namespace q::test {
namespace {

using Outcome = TransactionProducer::Outcome;

// The check-backs a check function got, and what it answers: a script of states per txid
// (the last one repeats), kUnknown for a txid without a script.
struct CheckScript {
  std::mutex mu;
  std::map<std::string, std::vector<TransactionState>> answers;
  std::vector<CheckBack> calls;

  TransactionProducer::CheckFunction Function() {
    return [this](const CheckBack& c) {
      std::lock_guard lock(mu);
      calls.push_back(c);
      auto it = answers.find(c.txid);
      if (it == answers.end() || it->second.empty()) return TransactionState::kUnknown;
      TransactionState s = it->second.front();
      if (it->second.size() > 1) it->second.erase(it->second.begin());
      return s;
    };
  }
  void Answer(const std::string& txid, std::vector<TransactionState> states) {
    std::lock_guard lock(mu);
    answers[txid] = std::move(states);
  }
  std::vector<CheckBack> Calls() {
    std::lock_guard lock(mu);
    return calls;
  }
  size_t CallsFor(const std::string& txid) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (auto& c : calls) n += c.txid == txid;
    return n;
  }
};

class TxClientTest : public QdFixture {
 protected:
  // Fast check-backs: the first 200ms after TXPUB, then 400ms, 800ms, ...
  std::vector<std::string> Flags() const override {
    return {"--tx-check-interval=200ms", "--tx-max-checks=50", "--max-msg-size=4096"};
  }

  std::string Addr() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }
  std::string HttpAddr() const { return "127.0.0.1:" + std::to_string(qd_->http_port()); }

  TransactionProducer::Options FastOptions() const {
    TransactionProducer::Options o;
    o.command_timeout = 5s;
    o.reconnect_backoff_min = 20ms;
    o.reconnect_backoff_max = 200ms;
    return o;
  }

  std::unique_ptr<Consumer> Consume(const std::string& topic, const std::string& channel,
                                    ReceivedBodies* seen) {
    auto c = std::make_unique<Consumer>(topic, channel, [seen](Delivery& m) {
      seen->Add(std::string(m.body()));
      return true;
    });
    Status s = c->ConnectToQd(Addr());
    EXPECT_TRUE(s.ok()) << s.message();
    return c;
  }

  void CreateChannel(const std::string& topic, const std::string& channel) {
    for (std::string path : {"/topic/create?topic=" + topic,
                             "/channel/create?topic=" + topic + "&channel=" + channel}) {
      auto r = Post(path);
      ASSERT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : "no answer");
    }
  }

  int64_t ChannelCount(const std::string& topic, const std::string& channel, const char* key) {
    return Val<int64_t>(ChannelStats(topic, channel), key, -1);
  }

  // The txids /tx/list shows pending for topic.
  std::vector<std::string> PendingTxids(const std::string& topic) {
    std::vector<std::string> out;
    auto r = Get("/tx/list?topic=" + topic);
    if (!r || r->status != 200) return out;
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || !j.contains("topics")) return out;
    const json* t = FindByName(j["topics"], "topic_name", topic);
    if (!t || !t->contains("half_messages")) return out;
    for (const auto& h : (*t)["half_messages"]) out.push_back(Val(h, "txid", ""));
    return out;
  }
};

TEST_F(TxClientTest, CommitIsInvisibleUntilCommittedThenDeliveredToEachChannelOnce) {
  CreateChannel("orders", "billing");
  CreateChannel("orders", "shipping");
  TransactionProducer producer(Addr(), "orders-svc", nullptr, FastOptions());
  int64_t depth_during = -1;
  std::vector<std::string> pending_during;
  auto r = producer.Send("orders", "order 1001 created", [&](const std::string& txid) {
    // The half message is stored but no channel may see it yet.
    depth_during = ChannelCount("orders", "billing", "depth") +
                   ChannelCount("orders", "shipping", "depth");
    pending_during = PendingTxids("orders");
    EXPECT_EQ(pending_during, std::vector<std::string>{txid});
    return TransactionState::kCommit;
  });
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, Outcome::kCommitted);
  EXPECT_FALSE(r.txid.empty());
  EXPECT_EQ(depth_during, 0);

  ReceivedBodies billing, shipping;
  auto c1 = Consume("orders", "billing", &billing);
  auto c2 = Consume("orders", "shipping", &shipping);
  EXPECT_TRUE(WaitFor([&] { return billing.size() == 1 && shipping.size() == 1; }, 5s));
  EXPECT_TRUE(WaitForChannelValue("orders", "billing", "in_flight_count", 0));
  EXPECT_TRUE(WaitForChannelValue("orders", "shipping", "in_flight_count", 0));
  c1->Stop();
  c2->Stop();
  EXPECT_EQ(billing.count("order 1001 created"), 1);
  EXPECT_EQ(shipping.count("order 1001 created"), 1);
  EXPECT_EQ(ChannelCount("orders", "billing", "message_count"), 1);
  EXPECT_EQ(ChannelCount("orders", "shipping", "message_count"), 1);
  EXPECT_TRUE(PendingTxids("orders").empty());
  EXPECT_EQ(Val<int64_t>(TopicStats("orders"), "tx_committed", -1), 1);
}

TEST_F(TxClientTest, RollbackIsNeverVisibleAndCannotBeCommittedAfterwards) {
  CreateChannel("orders", "billing");
  TransactionProducer producer(Addr(), "orders-svc", nullptr, FastOptions());
  auto r = producer.Send(
      "orders", "order 1002", [](const std::string&) { return TransactionState::kRollback; },
      "o-1002");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, Outcome::kRolledBack);
  EXPECT_EQ(r.txid, "o-1002");
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_rolled_back", 1));
  EXPECT_TRUE(PendingTxids("orders").empty());

  // Deciding the other way now is refused; the same way is idempotent.
  Status again = producer.Commit("orders", "o-1002");
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.message().rfind("E_TX_DECIDED", 0), 0u) << again.message();
  Status same = producer.Rollback("orders", "o-1002");
  EXPECT_TRUE(same.ok()) << same.message();
  // The connection survived the non-fatal error: another transaction goes through.
  auto next = producer.Send("orders", "order 1003",
                            [](const std::string&) { return TransactionState::kCommit; });
  EXPECT_EQ(next.outcome, Outcome::kCommitted) << next.status.message();

  ReceivedBodies billing;
  auto c = Consume("orders", "billing", &billing);
  EXPECT_TRUE(WaitFor([&] { return billing.count("order 1003") == 1; }, 5s));
  c->Stop();
  EXPECT_EQ(billing.count("order 1002"), 0);
  EXPECT_EQ(ChannelCount("orders", "billing", "message_count"), 1);
}

TEST_F(TxClientTest, UnknownThenCheckBackAnsweredCommitByTheCheckFunction) {
  CreateChannel("orders", "billing");
  CheckScript script;
  script.Answer("o-2001", {TransactionState::kCommit});
  TransactionProducer producer(Addr(), "orders-svc", script.Function(), FastOptions());
  auto r = producer.Send(
      "orders", "order 2001", [](const std::string&) { return TransactionState::kUnknown; },
      "o-2001");
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, Outcome::kPending);

  ReceivedBodies billing;
  auto c = Consume("orders", "billing", &billing);
  EXPECT_TRUE(WaitFor([&] { return billing.count("order 2001") == 1; }, 5s));
  c->Stop();
  auto calls = script.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].topic, "orders");
  EXPECT_EQ(calls[0].txid, "o-2001");
  EXPECT_EQ(calls[0].body, "order 2001");
  EXPECT_EQ(calls[0].checks, 1);
  EXPECT_EQ(calls[0].id.size(), 16u);
  EXPECT_GT(calls[0].timestamp_ns, 0);
  EXPECT_TRUE(PendingTxids("orders").empty());
}

TEST_F(TxClientTest, CheckFunctionAnswersUnknownThenCommit) {
  CreateChannel("orders", "billing");
  CheckScript script;
  script.Answer("o-3001", {TransactionState::kUnknown, TransactionState::kCommit});
  TransactionProducer producer(Addr(), "orders-svc", script.Function(), FastOptions());
  auto r = producer.Send(
      "orders", "order 3001", [](const std::string&) { return TransactionState::kUnknown; },
      "o-3001");
  ASSERT_EQ(r.outcome, Outcome::kPending) << r.status.message();

  ReceivedBodies billing;
  auto c = Consume("orders", "billing", &billing);
  EXPECT_TRUE(WaitFor([&] { return billing.count("order 3001") == 1; }, 5s));
  c->Stop();
  auto calls = script.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].checks, 1);
  EXPECT_EQ(calls[1].checks, 2);
  EXPECT_EQ(ChannelCount("orders", "billing", "message_count"), 1);
}

TEST_F(TxClientTest, ProducerStoppedBeforeCommitIsCommittedByItsSuccessor) {
  CreateChannel("orders", "billing");
  auto first = std::make_unique<TransactionProducer>(Addr(), "orders-svc", nullptr, FastOptions());
  // The application dies after its local commit, before TXCOMMIT could be sent.
  auto r = first->Send("orders", "order 4001", [&](const std::string&) {
    first->Stop();
    return TransactionState::kCommit;
  });
  EXPECT_EQ(r.outcome, Outcome::kPending);
  EXPECT_NE(r.status.message().find("producer stopped"), std::string::npos) << r.status.message();
  first.reset();
  EXPECT_EQ(PendingTxids("orders"), std::vector<std::string>{r.txid});

  CheckScript script;
  script.Answer(r.txid, {TransactionState::kCommit});
  TransactionProducer successor(Addr(), "orders-svc", script.Function(), FastOptions());
  ReceivedBodies billing;
  auto c = Consume("orders", "billing", &billing);
  EXPECT_TRUE(WaitFor([&] { return billing.count("order 4001") == 1; }, 5s));
  c->Stop();
  EXPECT_GE(script.CallsFor(r.txid), 1u);
  EXPECT_TRUE(PendingTxids("orders").empty());
  EXPECT_EQ(ChannelCount("orders", "billing", "message_count"), 1);
}

TEST_F(TxClientTest, ProducerDestroyedAfterHalfMessageIsRolledBackByItsSuccessor) {
  CreateChannel("orders", "billing");
  std::string txid;
  {
    TransactionProducer dead(Addr(), "orders-svc", nullptr, FastOptions());
    auto r = dead.Send("orders", "order 5001",
                       [](const std::string&) { return TransactionState::kUnknown; });
    ASSERT_EQ(r.outcome, Outcome::kPending) << r.status.message();
    txid = r.txid;
  }
  CheckScript script;
  script.Answer(txid, {TransactionState::kRollback});
  TransactionProducer successor(Addr(), "orders-svc", script.Function(), FastOptions());
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_rolled_back", 1));
  EXPECT_GE(script.CallsFor(txid), 1u);
  EXPECT_TRUE(PendingTxids("orders").empty());
  EXPECT_EQ(ChannelCount("orders", "billing", "message_count"), 0);
  EXPECT_EQ(ChannelCount("orders", "billing", "depth"), 0);
}

TEST_F(TxClientTest, FailedHalfMessageRunsNoLocalTransaction) {
  TransactionProducer producer(Addr(), "orders-svc", nullptr, FastOptions());
  std::atomic<int> ran{0};
  auto local = [&](const std::string&) {
    ++ran;
    return TransactionState::kCommit;
  };
  auto bad_topic = producer.Send("no spaces", "x", local);
  EXPECT_EQ(bad_topic.outcome, Outcome::kNotPublished);
  EXPECT_EQ(bad_topic.status.message(), "invalid topic name \"no spaces\"");
  auto bad_txid = producer.Send("orders", "x", local, "a b");
  EXPECT_EQ(bad_txid.status.message(), "invalid txid \"a b\"");

  ASSERT_EQ(producer.Send("orders", "first", local, "o-6001").outcome, Outcome::kCommitted);
  auto exists = producer.Send("orders", "second", local, "o-6001");
  EXPECT_EQ(exists.outcome, Outcome::kNotPublished);
  EXPECT_EQ(exists.status.message().rfind("TXPUB: E_TX_EXISTS", 0), 0u) << exists.status.message();

  // Over --max-msg-size: a fatal E_BAD_MESSAGE, qd closes the connection; the producer
  // reconnects for the next transaction.
  auto too_big = producer.Send("orders", std::string(5000, 'x'), local);
  EXPECT_EQ(too_big.outcome, Outcome::kNotPublished);
  EXPECT_EQ(too_big.status.message().rfind("TXPUB: E_BAD_MESSAGE", 0), 0u)
      << too_big.status.message();
  EXPECT_EQ(ran.load(), 1);
  auto after = producer.Send("orders", "third", local);
  EXPECT_EQ(after.outcome, Outcome::kCommitted) << after.status.message();
  EXPECT_EQ(ran.load(), 2);
}

TEST_F(TxClientTest, LocalTransactionThatThrowsLeavesTheMessageToCheckBack) {
  CheckScript script;
  script.Answer("o-7001", {TransactionState::kRollback});
  TransactionProducer producer(Addr(), "orders-svc", script.Function(), FastOptions());
  auto r = producer.Send(
      "orders", "order 7001",
      [](const std::string&) -> TransactionState { throw std::runtime_error("db down"); },
      "o-7001");
  EXPECT_EQ(r.outcome, Outcome::kPending);
  EXPECT_EQ(r.status.message(), "local transaction threw: db down");
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_rolled_back", 1));
  EXPECT_EQ(script.CallsFor("o-7001"), 1u);
}

TEST_F(TxClientTest, ConnectFailsWhenNoQdListens) {
  TransactionProducer::Options o = FastOptions();
  o.command_timeout = 300ms;
  TransactionProducer producer("127.0.0.1:1", "orders-svc", nullptr, o);
  Status s = producer.Connect();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("connect 127.0.0.1:1: ", 0), 0u) << s.message();
  auto r = producer.Send("orders", "x", [](const std::string&) { return TransactionState::kCommit; });
  EXPECT_EQ(r.outcome, Outcome::kNotPublished);
  EXPECT_NE(r.status.message().find("timed out waiting for a connection"), std::string::npos)
      << r.status.message();
}

// --- qctl tx ---

TEST_F(TxClientTest, QctlTxListCommitRollback) {
  CreateChannel("orders", "billing");
  for (const char* txid : {"o-8001", "o-8002"}) {
    auto r = Post(std::string("/txpub?topic=orders&txid=") + txid, std::string("body of ") + txid);
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  }
  std::string at = " --nsqd-http-address " + HttpAddr();
  CommandResult list = RunQctl("tx list" + at);
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.output.rfind("TOPIC", 0), 0u) << list.output;
  EXPECT_NE(list.output.find("orders"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("o-8001"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("o-8002"), std::string::npos) << list.output;
  CommandResult other = RunQctl("tx list --topic nothing-here" + at);
  EXPECT_NE(other.output.find("no pending half messages"), std::string::npos) << other.output;

  CommandResult commit = RunQctl("tx commit --topic orders --txid o-8001" + at);
  EXPECT_EQ(commit.exit_code, 0) << commit.output;
  EXPECT_EQ(commit.output, "commit orders/o-8001: done on " + HttpAddr() + "\n");
  CommandResult rollback = RunQctl("tx rollback --topic orders --txid o-8002" + at);
  EXPECT_EQ(rollback.exit_code, 0) << rollback.output;
  EXPECT_TRUE(WaitForChannelValue("orders", "billing", "depth", 1));
  EXPECT_TRUE(PendingTxids("orders").empty());
  CommandResult empty = RunQctl("tx list --topic orders" + at);
  EXPECT_EQ(empty.output, "no pending half messages on topic orders\n");

  // Errors: one line each, exit 1.
  CommandResult decided = RunQctl("tx commit --topic orders --txid o-8002" + at);
  EXPECT_EQ(decided.exit_code, 1);
  EXPECT_EQ(decided.output, "qctl tx commit: POST " + HttpAddr() +
                                "/txcommit?topic=orders&txid=o-8002: HTTP 409 TX_DECIDED\n");
  CommandResult unknown = RunQctl("tx rollback --topic orders --txid o-nope" + at);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.output, "qctl tx rollback: POST " + HttpAddr() +
                                "/txrollback?topic=orders&txid=o-nope: HTTP 404 TX_UNKNOWN\n");
  CommandResult bad = RunQctl("tx commit --topic orders --txid 'a b'" + at);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.output,
            "qctl tx commit: invalid txid \"a b\" (1-64 characters of [.a-zA-Z0-9_:-])\n");
  CommandResult refused = RunQctl("tx list --nsqd-http-address 127.0.0.1:1");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.output.rfind("qctl tx list: GET 127.0.0.1:1/tx/list", 0), 0u)
      << refused.output;
  CommandResult help = RunQctl("tx commit --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("qctl tx commit --topic orders --txid o-1001"), std::string::npos)
      << help.output;
}

class TxClientExpiryTest : public TxClientTest {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--tx-check-interval=100ms", "--tx-max-checks=1"};
  }
};

TEST_F(TxClientExpiryTest, QctlTxListShowsExpiredHalfMessages) {
  auto r = Post("/txpub?topic=orders&txid=o-9001", "nobody answers for this");
  ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  EXPECT_TRUE(WaitForTopicValue("orders", "tx_expired", 1));
  CommandResult list = RunQctl("tx list --topic orders --nsqd-http-address " + HttpAddr());
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("no pending half messages on topic orders"), std::string::npos)
      << list.output;
  EXPECT_NE(list.output.find("expired"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("o-9001"), std::string::npos) << list.output;
}

}  // namespace
}  // namespace q::test
