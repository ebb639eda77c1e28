// The client library and qctl over TLS (IDENTIFY tls_v1) against a real qd with the test CA
// of tests/make_test_certs.sh: publish and consume with the certificate verified, a client
// certificate for --tls-client-auth-policy=require-verify, and the failures a user must be
// told about (an untrusted certificate, a qd without TLS, plain TCP to --tls-required).
#include <csignal>

#include "q/consumer.h"
#include "q/producer.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/received_bodies.h"
#include "tests/integration/tls_client.h"

namespace q::test {
namespace {

TlsOptions TrustTestCa() {
  TlsOptions t;
  t.enabled = true;
  t.ca_file = Certs().ca;
  return t;
}

class ClientTlsTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    std::vector<std::string> f = {"--tls-cert=" + Certs().server_cert, "--tls-key=" + Certs().server_key,
                                  "--tls-required=tcp-https"};
    for (const auto& extra : ExtraFlags()) f.push_back(extra);
    return f;
  }
  virtual std::vector<std::string> ExtraFlags() const { return {}; }
  void SetUp() override {
    ASSERT_FALSE(Certs().dir.empty()) << "tests/make_test_certs.sh failed (is openssl installed?)";
    QdFixture::SetUp();
  }
  std::string Addr() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }
};

// Many messages, one of 1 MiB, consumed while FINs go the other way on the same session.
TEST_F(ClientTlsTest, PublishAndConsumeOverVerifiedTls) {
  Producer::Options po;
  po.tls = TrustTestCa();
  Producer producer(Addr(), po);
  std::vector<std::future<Status>> results;
  for (int i = 0; i < 2000; ++i) results.push_back(producer.Publish("t", "m" + std::to_string(i)));
  results.push_back(producer.Publish("t", std::string(1 << 20, 'x')));
  ASSERT_TRUE(AllPublished(results, 20s));

  ReceivedBodies seen;
  Consumer::Options co;
  co.tls = TrustTestCa();
  co.max_in_flight = 100;
  co.concurrency = 2;
  Consumer consumer("t", "c", [&](Delivery& m) { return seen.Add(m.body().size() > 100 ? "big" : m.body()); }, co);
  Status s = consumer.ConnectToQd(Addr());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(seen.WaitForCount(2001, 30s)) << seen.size();
  json c = ChannelStats("t", "c");
  ASSERT_EQ(c["clients"].size(), 1u) << c.dump();
  EXPECT_EQ(c["clients"][0]["tls"], true);
  EXPECT_TRUE(WaitForChannelValue("t", "c", "in_flight_count", 0));
  consumer.Stop();
  EXPECT_EQ(seen.count("big"), 1);
  for (int i = 0; i < 2000; i += 199) EXPECT_EQ(seen.count("m" + std::to_string(i)), 1) << i;
}

TEST_F(ClientTlsTest, UntrustedCertificateOrPlainTcpFailsWithTheReason) {
  Producer::Options untrusted;
  untrusted.tls = TrustTestCa();
  untrusted.tls.ca_file = Certs().other_ca;
  Producer p1(Addr(), untrusted);
  Status s = p1.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("certificate"), std::string::npos) << s.message();

  // insecure_skip_verify accepts it (tests only).
  untrusted.tls.insecure_skip_verify = true;
  Producer p2(Addr(), untrusted);
  s = p2.Publish("t", "x").get();
  EXPECT_TRUE(s.ok()) << s.message();

  Producer plain(Addr());
  s = plain.Publish("t", "x").get();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TLS required"), std::string::npos) << s.message();
}

TEST_F(ClientTlsTest, QctlTakesGoNsqTlsOptions) {
  const std::string tls = " --producer-opt tls_v1,true --producer-opt tls_root_ca_file," + Certs().ca;
  CommandResult pub = RunQctl("pub --topic t --nsqd-tcp-address " + Addr() + tls, "one\ntwo\n");
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  CommandResult tail = RunQctl("tail --topic t -n 2 --consumer-opt tls_v1,true --consumer-opt tls_root_ca_file," +
                               Certs().ca + " --nsqd-tcp-address " + Addr());
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_NE(tail.output.find("one\ntwo\n"), std::string::npos) << tail.output;
  CommandResult bad = RunQctl("tail --topic t --consumer-opt tls_v1,maybe --nsqd-tcp-address " + Addr());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--consumer-opt tls_v1: invalid value \"maybe\""), std::string::npos) << bad.output;
}

// TLS first, then compression on top, as qd negotiates them.
TEST_F(ClientTlsTest, SnappyOverTls) {
  Producer::Options po;
  po.tls = TrustTestCa();
  po.snappy = true;
  Producer producer(Addr(), po);
  Status s = producer.Publish("t", std::string(100 * 1024, 'q')).get();
  ASSERT_TRUE(s.ok()) << s.message();
  ReceivedBodies seen;
  Consumer::Options co;
  co.tls = TrustTestCa();
  co.snappy = true;
  Consumer consumer("t", "c", [&](Delivery& m) { return seen.Add(m.body()); }, co);
  s = consumer.ConnectToQd(Addr());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(seen.WaitForCount(1, 10s));
  json c = ChannelStats("t", "c");
  ASSERT_EQ(c["clients"].size(), 1u) << c.dump();
  EXPECT_EQ(c["clients"][0]["tls"], true);
  EXPECT_EQ(c["clients"][0]["snappy"], true);
  consumer.Stop();
  EXPECT_EQ(seen.count(std::string(100 * 1024, 'q')), 1);
}

class ClientCertTest : public ClientTlsTest {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    return {"--tls-client-auth-policy=require-verify", "--tls-root-ca-file=" + Certs().ca};
  }
};

TEST_F(ClientCertTest, ClientCertificateIsPresentedWhenQdRequiresOne) {
  Producer::Options with;
  with.tls = TrustTestCa();
  with.tls.cert_file = Certs().client_cert;
  with.tls.key_file = Certs().client_key;
  Producer good(Addr(), with);
  Status s = good.Publish("t", "x").get();
  EXPECT_TRUE(s.ok()) << s.message();

  Producer::Options without;
  without.tls = TrustTestCa();
  without.publish_timeout = 1s;
  Producer refused(Addr(), without);
  s = refused.Publish("t", "x").get();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TLS"), std::string::npos) << s.message();
}

// A qd without a certificate cannot agree to tls_v1: the client refuses to go on in plain text.
TEST(ClientTlsWithoutQdTls, AskingForTlsFromAQdWithoutItFailsTheConnect) {
  QdProcess qd;
  ASSERT_TRUE(qd.Start()) << qd.log();
  Producer::Options po;
  po.tls = TrustTestCa();
  Producer producer("127.0.0.1:" + std::to_string(qd.tcp_port()), po);
  Status s = producer.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("qd did not agree to TLS"), std::string::npos) << s.message();
  EXPECT_TRUE(qd.Stop());
}

}  // namespace
}  // namespace q::test
