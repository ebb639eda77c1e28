// The client library's stream compression (IDENTIFY snappy / deflate) against a real qd:
// many messages and a large one each way, qd's /stats naming the codec, qctl's go-nsq keys,
// and a qd that does not grant it.
#include "q/consumer.h"
#include "q/producer.h"
#include "tests/integration/qctl_runner.h"
#include "tests/integration/qd_fixture.h"
#include "tests/integration/received_bodies.h"

namespace q::test {
namespace {

class ClientCompressionTest : public QdFixture {
 protected:
  std::string Addr() const { return "127.0.0.1:" + std::to_string(qd_->tcp_port()); }

  // Publishes 500 small messages and one of 512 KiB with `codec` on, consumes them with it
  // on, and checks qd saw a compressed consumer.
  void RoundTrip(const std::string& topic, void (*codec)(ConnectionOptions*), const char* stats_key) {
    Producer::Options po;
    codec(&po);
    Producer producer(Addr(), po);
    std::vector<std::future<Status>> results;
    for (int i = 0; i < 500; ++i) results.push_back(producer.Publish(topic, "message " + std::to_string(i)));
    results.push_back(producer.Publish(topic, std::string(512 * 1024, 'z')));
    ASSERT_TRUE(AllPublished(results, 20s));
    ReceivedBodies got;
    Consumer::Options co;
    codec(&co);
    co.max_in_flight = 50;
    Consumer consumer(topic, "c", [&](Delivery& m) {
      return got.Add(m.body().size() > 1000 ? (m.body() == std::string(512 * 1024, 'z') ? "big" : "damaged") : m.body());
    }, co);
    Status s = consumer.ConnectToQd(Addr());
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(got.WaitForCount(501, 20s));
    json c = ChannelStats(topic, "c");
    ASSERT_EQ(c["clients"].size(), 1u) << c.dump();
    EXPECT_EQ(c["clients"][0][stats_key], true) << c.dump();
    consumer.Stop();
    EXPECT_EQ(got.count("big"), 1);
    EXPECT_EQ(got.count("damaged"), 0);
    for (int i = 0; i < 500; i += 49) EXPECT_EQ(got.count("message " + std::to_string(i)), 1) << i;
  }
};

TEST_F(ClientCompressionTest, SnappyBothWays) {
  RoundTrip("snappy_t", [](ConnectionOptions* o) { o->snappy = true; }, "snappy");
}

TEST_F(ClientCompressionTest, DeflateBothWays) {
  RoundTrip("deflate_t", [](ConnectionOptions* o) {
    o->deflate = true;
    o->deflate_level = 3;
  }, "deflate");
}

TEST_F(ClientCompressionTest, QctlTakesGoNsqCompressionOptions) {
  CommandResult pub = RunQctl("pub --topic t --producer-opt snappy,true --nsqd-tcp-address " + Addr(), "one\ntwo\n");
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  CommandResult tail = RunQctl("tail --topic t -n 2 --consumer-opt deflate,true --consumer-opt deflate_level,9 "
                               "--nsqd-tcp-address " + Addr());
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_NE(tail.output.find("one\ntwo\n"), std::string::npos) << tail.output;
  CommandResult both = RunQctl("pub --topic t --producer-opt snappy,true --producer-opt deflate,true "
                               "--nsqd-tcp-address " + Addr(), "x\n");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.output.find("choose one"), std::string::npos) << both.output;
  CommandResult level = RunQctl("tail --topic t --consumer-opt deflate_level,10 --nsqd-tcp-address " + Addr());
  EXPECT_NE(level.exit_code, 0);
  EXPECT_NE(level.output.find("--consumer-opt deflate_level: invalid value \"10\""), std::string::npos) << level.output;
}

class NoCompressionQdTest : public ClientCompressionTest {
 protected:
  std::vector<std::string> Flags() const override { return {"--snappy=false", "--deflate=false"}; }
};

TEST_F(NoCompressionQdTest, AskingForCompressionQdDoesNotGrantFailsTheConnect) {
  Producer::Options po;
  po.snappy = true;
  Producer producer(Addr(), po);
  Status s = producer.Connect();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("qd did not agree to snappy"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace q::test
