// The client library and qctl against a qd that requires AUTH (--auth-http-address, with the
// auth server in this test process): the secret goes in Options::auth_secret, or in qctl as
// go-nsq's `--consumer-opt auth_secret,<secret>` / `--producer-opt auth_secret,<secret>`.
#include "q/consumer.h"
#include "q/producer.h"
#include "tests/integration/fake_auth_server.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/received_bodies.h"

namespace q::test {
namespace {

class ClientAuthTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--auth-http-address=127.0.0.1:" + std::to_string(auth_.port())};
  }
  std::string Addr() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }
  FakeAuthServer auth_{60};
};

TEST_F(ClientAuthTest, ProducerAndConsumerAuthenticateWithTheirSecret) {
  Producer::Options po;
  po.auth_secret = "good";
  Producer producer(Addr(), po);
  Status published = producer.Publish("allowed", "hello").get();
  ASSERT_TRUE(published.ok()) << published.message();

  ReceivedBodies got;
  Consumer::Options co;
  co.auth_secret = "good";
  Consumer consumer("allowed", "c", [&](Delivery& m) { return got.Add(m.body()); }, co);
  Status s = consumer.ConnectToQd(Addr());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(got.WaitForBodies({"hello"}, 10s));
  consumer.Stop();
  json c = ChannelStats("allowed", "c");
  ASSERT_EQ(c["clients"].size(), 0u) << "the consumer closed";
}

TEST_F(ClientAuthTest, MissingOrRefusedSecretFailsTheConnectWithTheReason) {
  Producer anonymous(Addr());
  Status s = anonymous.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("qd requires AUTH"), std::string::npos) << s.message();

  Consumer::Options co;
  co.auth_secret = "wrong";
  Consumer refused("allowed", "c", [](Delivery&) { return true; }, co);
  s = refused.ConnectToQd(Addr());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("E_AUTH_FAILED"), std::string::npos) << s.message();

  // Authenticated, but the grant does not cover the topic: SUB is refused.
  co.auth_secret = "good";
  Consumer elsewhere("secret", "c", [](Delivery&) { return true; }, co);
  s = elsewhere.ConnectToQd(Addr());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("E_UNAUTHORIZED"), std::string::npos) << s.message();
}

TEST_F(ClientAuthTest, QctlTakesTheSecretAsGoNsqOptions) {
  CommandResult pub = RunQctl("pub --topic allowed --producer-opt auth_secret,good --nsqd-tcp-address " + Addr(),
                              "one\ntwo\n");
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  CommandResult tail = RunQctl("tail --topic allowed -n 2 --consumer-opt auth_secret,good --consumer-opt "
                               "client_id,auditor --nsqd-tcp-address " + Addr());
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_NE(tail.output.find("one"), std::string::npos) << tail.output;
  EXPECT_NE(tail.output.find("two"), std::string::npos) << tail.output;

  CommandResult anonymous = RunQctl("tail --topic allowed -n 1 --nsqd-tcp-address " + Addr());
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.output.find("qd requires AUTH"), std::string::npos) << anonymous.output;
  // Options this client does not have, or that do not exist, are one readable line each.
  CommandResult sample = RunQctl("tail --topic allowed --consumer-opt sample_rate,10 --nsqd-tcp-address " + Addr());
  EXPECT_NE(sample.exit_code, 0);
  EXPECT_NE(sample.output.find("--consumer-opt sample_rate: not supported"), std::string::npos) << sample.output;
  CommandResult unknown = RunQctl("pub --topic allowed --producer-opt colour,blue --nsqd-tcp-address " + Addr());
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("--producer-opt colour: unknown option"), std::string::npos) << unknown.output;
  CommandResult bad = RunQctl("tail --topic allowed --consumer-opt max_in_flight,zero --nsqd-tcp-address " + Addr());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--consumer-opt max_in_flight: invalid value \"zero\""), std::string::npos)
      << bad.output;
}

}  // namespace
}  // namespace q::test
