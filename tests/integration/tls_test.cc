// TLS on the TCP protocol (IDENTIFY tls_v1) and on the HTTP API (--https-address), against
// a real qd with a test-made CA (tests/make_test_certs.sh).
#include <gtest/gtest.h>

#include <csignal>

#include "tests/integration/qd_fixture.h"
#include "tests/integration/tls_client.h"

namespace q::test {
namespace {

std::string Pub(const std::string& topic, const std::string& body) {
  return "PUB " + topic + "\n" + BE32(static_cast<uint32_t>(body.size())) + body;
}

std::string Identify(const std::string& json) {
  return "IDENTIFY\n" + BE32(static_cast<uint32_t>(json.size())) + json;
}

constexpr const char* kIdentifyTls = R"({"feature_negotiation":true,"tls_v1":true})";

// A PUB sent over c's TLS session is answered OK.
bool PubOverTlsWorks(TlsClient& c, const std::string& topic) {
  return c.SendTls(Pub(topic, "x")) && IsOk(c.ReadTlsSkippingHeartbeats());
}

class TlsFixture : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    const TestCerts& c = Certs();
    std::vector<std::string> f = {"--tls-cert=" + c.server_cert, "--tls-key=" + c.server_key,
                                  "--https-address=127.0.0.1:0", "--worker-threads=4"};
    for (const auto& extra : ExtraFlags()) f.push_back(extra);
    return f;
  }
  virtual std::vector<std::string> ExtraFlags() const { return {}; }

  void SetUp() override {
    // OpenSSL writes to sockets without MSG_NOSIGNAL: an HTTPS client writing its request
    // to a qd that just refused its certificate would otherwise kill this test process.
    std::signal(SIGPIPE, SIG_IGN);
    ASSERT_FALSE(Certs().dir.empty()) << "tests/make_test_certs.sh failed (is openssl installed?)";
    QdFixture::SetUp();
  }

  // A client connected to qd's TCP port (magic sent, nothing else) that trusts the test CA
  // and presents cert/key when given; nullptr if it could not connect.
  std::unique_ptr<TlsClient> NewTlsClient(const std::string& cert = "", const std::string& key = "") {
    contexts_.push_back(ClientContext(Certs().ca, cert, key));
    auto c = std::make_unique<TlsClient>(*contexts_.back());
    if (!c->Connect(qd_->tcp_port())) return nullptr;
    return c;
  }

 private:
  std::vector<std::unique_ptr<asio::ssl::context>> contexts_;  // outlive the test's clients
};

using TlsTest = TlsFixture;

TEST_F(TlsTest, NegotiationOrderIsPlainResponseThenHandshakeThenOkOverTls) {
  auto client = NewTlsClient();
  ASSERT_TRUE(client);
  TlsClient& c = *client;
  ASSERT_TRUE(c.SendPlain(Identify(kIdentifyTls)));
  // 1. The JSON response, in the clear.
  Frame f = c.ReadPlainFrame();
  ASSERT_TRUE(f.is_frame()) << f.Describe();
  ASSERT_EQ(f.type, wire::FrameType::kResponse);
  json r = json::parse(f.data, nullptr, false);
  EXPECT_EQ(Val(r, "tls_v1", false), true) << f.data;
  // 2. The handshake, verifying qd's certificate against the CA.
  ASSERT_EQ(c.Handshake(), "");
  // 3. An OK, over TLS.
  EXPECT_TRUE(IsOk(c.ReadTlsFrame()));
  // Then commands work over TLS.
  ASSERT_TRUE(c.SendTls(Pub("tls_order", "hello")));
  EXPECT_TRUE(IsOk(c.ReadTlsSkippingHeartbeats()));
  EXPECT_TRUE(WaitForTopicValue("tls_order", "message_count", 1));
}

TEST_F(TlsTest, CommandSentRightBehindTheHandshakeIsAnswered) {
  // A client that does not wait for the upgrade's OK. Its PUB may reach qd together with
  // its Finished (then the records are inside the session when the handshake ends); this
  // test cannot force that interleaving, it only shows pipelining after the handshake works.
  auto client = NewTlsClient();
  ASSERT_TRUE(client);
  TlsClient& c = *client;
  ASSERT_TRUE(c.SendPlain(Identify(kIdentifyTls)));
  ASSERT_TRUE(c.ReadPlainFrame().is_frame());
  ASSERT_EQ(c.Handshake(), "");
  ASSERT_TRUE(c.SendTls(Pub("tls_pipelined", "x")));
  EXPECT_TRUE(IsOk(c.ReadTlsFrame()));  // the upgrade's OK
  EXPECT_TRUE(IsOk(c.ReadTlsSkippingHeartbeats()));  // the PUB's
}

TEST_F(TlsTest, ConsumersKeepTheirSessionWhenMovingToTheTopicsShard) {
  // Several subscribers on several topics: with 4 shards most SUBs move the connection to
  // another thread, and the TLS session has to survive the move.
  constexpr int kTopics = 4;
  std::vector<std::unique_ptr<TlsClient>> subs;
  for (int i = 0; i < kTopics; ++i) {
    auto c = NewTlsClient();
    ASSERT_TRUE(c);
    ASSERT_EQ(c->Upgrade(), "");
    ASSERT_TRUE(c->SendTls("SUB tls_move" + std::to_string(i) + " ch\n"));
    ASSERT_TRUE(IsOk(c->ReadTlsSkippingHeartbeats())) << "SUB " << i;
    ASSERT_TRUE(c->SendTls("RDY 10\n"));
    subs.push_back(std::move(c));
  }
  auto pub = NewTlsClient();
  ASSERT_TRUE(pub);
  ASSERT_EQ(pub->Upgrade(), "");
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kTopics; ++i) {
      ASSERT_TRUE(pub->SendTls(Pub("tls_move" + std::to_string(i), "m" + std::to_string(round))));
      ASSERT_TRUE(IsOk(pub->ReadTlsSkippingHeartbeats()));
    }
  }
  for (int i = 0; i < kTopics; ++i) {
    for (int round = 0; round < 3; ++round) {
      Frame f = subs[i]->ReadTlsSkippingHeartbeats();
      ASSERT_TRUE(IsMessage(f)) << "topic " << i << " round " << round;
      auto m = f.AsMessage();
      ASSERT_TRUE(m);
      EXPECT_EQ(m->body, "m" + std::to_string(round));
      ASSERT_TRUE(subs[i]->SendTls("FIN " + m->id + "\n"));
    }
  }
  for (int i = 0; i < kTopics; ++i)
    EXPECT_TRUE(WaitForChannelValue("tls_move" + std::to_string(i), "ch", "in_flight_count", 0));
  // /stats reports the session.
  json ch = ChannelStats("tls_move0", "ch");
  ASSERT_TRUE(ch.is_object());
  ASSERT_FALSE(ch["clients"].empty());
  const json& cl = ch["clients"][0];
  EXPECT_EQ(cl["tls"], true);
  EXPECT_EQ(Val(cl, "tls_version", "").rfind("TLS1.", 0), 0u) << cl.dump();
  EXPECT_NE(Val(cl, "tls_cipher_suite", ""), "") << cl.dump();
}

TEST_F(TlsTest, CompressionNegotiatedWithTlsIsRefusedTogetherWithBoth) {
  // Both compressions at once is still fatal before anything is upgraded.
  auto client = NewTlsClient();
  ASSERT_TRUE(client);
  TlsClient& c = *client;
  ASSERT_TRUE(c.SendPlain(Identify(R"({"feature_negotiation":true,"tls_v1":true,"snappy":true,"deflate":true})")));
  EXPECT_TRUE(IsError(c.ReadPlainFrame(), "E_IDENTIFY_FAILED"));
}

TEST_F(TlsTest, GarbageInsteadOfAHandshakeEndsTheConnection) {
  auto client = NewTlsClient();
  ASSERT_TRUE(client);
  TlsClient& c = *client;
  ASSERT_TRUE(c.SendPlain(Identify(kIdentifyTls)));
  ASSERT_TRUE(c.ReadPlainFrame().is_frame());
  ASSERT_TRUE(c.SendPlain(std::string(300, 'x')));
  // No TLS record, so no alert: E_IDENTIFY_FAILED in the clear (as nsqd), then the close.
  Frame f = c.ReadPlainFrame();
  EXPECT_TRUE(IsError(f, "E_IDENTIFY_FAILED"));
  EXPECT_EQ(f.data.rfind("E_IDENTIFY_FAILED IDENTIFY failed handshake", 0), 0u) << f.data;
  EXPECT_TRUE(c.ReadPlainFrame().closed());
  EXPECT_TRUE(qd_->WaitForLog("TLS handshake", 5s)) << qd_->log();
  EXPECT_TRUE(qd_->IsRunning());
}

TEST_F(TlsTest, WithoutTlsV1TheConnectionStaysPlain) {
  TestClient c = NewClient();
  EXPECT_TRUE(c.Identify(R"({"feature_negotiation":true})").is_frame());
  EXPECT_TRUE(IsOk(c.Pub("tls_plain", "x")));
}

std::unique_ptr<httplib::SSLClient> Https(int port, bool with_client_cert = false) {
  auto cli = with_client_cert
                 ? std::make_unique<httplib::SSLClient>("127.0.0.1", port, Certs().client_cert, Certs().client_key)
                 : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  cli->set_ca_cert_path(Certs().ca.c_str());
  cli->enable_server_certificate_verification(true);
  cli->set_connection_timeout(5, 0);
  cli->set_read_timeout(10, 0);
  return cli;
}

TEST_F(TlsTest, HttpsServesPingAndPubVerifiedByTheCa) {
  ASSERT_GT(qd_->https_port(), 0) << "no \"HTTPS: listening on\" line";
  auto cli = Https(qd_->https_port());
  auto ping = cli->Get("/ping");
  ASSERT_TRUE(ping) << httplib::to_string(ping.error());
  EXPECT_EQ(ping->status, 200);
  EXPECT_EQ(ping->body, "OK");
  auto pub = cli->Post("/pub?topic=tls_https", "over https", "application/octet-stream");
  ASSERT_TRUE(pub) << httplib::to_string(pub.error());
  EXPECT_EQ(pub->status, 200) << pub->body;
  EXPECT_TRUE(WaitForTopicValue("tls_https", "message_count", 1));
  // Plain HTTP is still served without --tls-required.
  auto plain = Get("/ping");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
}

TEST_F(TlsTest, HttpsRefusesAClientThatDoesNotTrustTheCertificate) {
  httplib::SSLClient cli("127.0.0.1", qd_->https_port());
  cli.set_ca_cert_path(Certs().other_ca.c_str());
  cli.enable_server_certificate_verification(true);
  cli.set_connection_timeout(5, 0);
  EXPECT_FALSE(cli.Get("/ping"));
}

// --tls-required: nothing but IDENTIFY before the upgrade.
class TlsRequiredTest : public TlsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override { return {"--tls-required"}; }
};

TEST_F(TlsRequiredTest, PubBeforeTlsIsFatalInvalid) {
  TestClient c = NewClient();
  Frame f = c.Pub("tls_req", "x");
  ASSERT_TRUE(IsError(f, "E_INVALID"));
  EXPECT_EQ(f.data, "E_INVALID cannot PUB in current state (TLS required)");
  EXPECT_TRUE(c.ExpectClosed());
}

TEST_F(TlsRequiredTest, IdentifyWithoutTlsThenSubIsFatalInvalid) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsOk(c.Identify(R"({"client_id":"x"})")));
  Frame f = c.Sub("tls_req", "ch");
  ASSERT_TRUE(IsError(f, "E_INVALID"));
  EXPECT_EQ(f.data, "E_INVALID cannot SUB in current state (TLS required)");
}

TEST_F(TlsRequiredTest, AfterTheUpgradeCommandsWork) {
  auto c = NewTlsClient();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->Upgrade(), "");
  EXPECT_TRUE(PubOverTlsWorks(*c, "tls_req"));
}

TEST_F(TlsRequiredTest, PlainHttpAnswersTlsRequiredWithTheHttpsPort) {
  auto res = Get("/ping");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  json j = json::parse(res->body, nullptr, false);
  EXPECT_EQ(Val(j, "message", ""), "TLS_REQUIRED") << res->body;
  EXPECT_EQ(Val(j, "https_port", 0), qd_->https_port()) << res->body;
}

class TlsRequiredTcpOnlyTest : public TlsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override { return {"--tls-required=tcp-https"}; }
};

TEST_F(TlsRequiredTcpOnlyTest, TcpNeedsTlsButPlainHttpIsServed) {
  TestClient c = NewClient();
  EXPECT_TRUE(IsError(c.Pub("tls_tcp", "x"), "E_INVALID"));
  auto res = Post("/pub?topic=tls_tcp", "x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

// --tls-client-auth-policy=require-verify with --tls-root-ca-file: only clients with a
// certificate from that CA get through.
class TlsClientAuthTest : public TlsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    return {"--tls-client-auth-policy=require-verify", "--tls-root-ca-file=" + Certs().ca};
  }
};

TEST_F(TlsClientAuthTest, ClientWithCertificateFromTheCaIsAccepted) {
  auto c = NewTlsClient(Certs().client_cert, Certs().client_key);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->Upgrade(), "");
  EXPECT_TRUE(PubOverTlsWorks(*c, "tls_auth"));
}

TEST_F(TlsClientAuthTest, HttpsAsksForTheClientCertificateToo) {
  auto with = Https(qd_->https_port(), /*with_client_cert=*/true)->Get("/ping");
  ASSERT_TRUE(with) << httplib::to_string(with.error());
  EXPECT_EQ(with->status, 200);
  EXPECT_FALSE(Https(qd_->https_port())->Get("/ping"));
}

TEST_F(TlsClientAuthTest, ClientWithoutCertificateIsRefused) {
  auto c = NewTlsClient();
  ASSERT_TRUE(c);
  // TLS 1.3 finishes the client's side of the handshake before the server has checked the
  // certificate: the refusal shows as an alert or a closed connection instead of the OK.
  EXPECT_NE(c->Upgrade(), "");
  ASSERT_TRUE(qd_->WaitForLog("TLS handshake", 5s));
  EXPECT_TRUE(qd_->IsRunning());
}

TEST_F(TlsClientAuthTest, ClientWithCertificateFromAnotherCaIsRefused) {
  auto c = NewTlsClient(Certs().other_client_cert, Certs().other_client_key);
  ASSERT_TRUE(c);
  EXPECT_NE(c->Upgrade(), "");
  ASSERT_TRUE(qd_->WaitForLog("TLS handshake", 5s));
}

class TlsMinVersionTest : public TlsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override { return {"--tls-min-version=tls1.3"}; }
};

TEST_F(TlsMinVersionTest, OlderClientIsRefused) {
  auto ctx = ClientContext(Certs().ca);
  SSL_CTX_set_max_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  TlsClient c(*ctx);
  ASSERT_TRUE(c.Connect(qd_->tcp_port()));
  EXPECT_NE(c.Upgrade(), "");
}

TEST(TlsFlags, RequiringTlsWithoutCertificateIsAStartError) {
  QdProcess qd({"--tls-required=true"});
  EXPECT_FALSE(qd.Start(3s));
  EXPECT_NE(qd.log().find("cannot require TLS client connections without TLS key and cert"), std::string::npos)
      << qd.log();
}

}  // namespace
}  // namespace q::test
