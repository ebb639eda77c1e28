// GET /metrics: Prometheus text format with the numbers /stats reports.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

class MetricsTest : public QdFixture {};


// Returns the value of the sample `name{labels}` or -1 when absent.
int64_t Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stoll(line.substr(series.size() + 1));
  return -1;
}

TEST_F(MetricsTest, ReportsTopicAndChannelFiguresInPrometheusFormat) {
  ASSERT_TRUE(Post("/topic/create?topic=orders"));
  ASSERT_TRUE(Post("/channel/create?topic=orders&channel=mail"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Post("/pub?topic=orders", "m" + std::to_string(i)));
  {
    TestClient sub = NewSubscriber("orders", "mail");
    ASSERT_TRUE(sub.Rdy(1));
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m));
    ASSERT_TRUE(WaitForChannelValue("orders", "mail", "in_flight_count", 1));

    auto res = Get("/metrics");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    EXPECT_NE(res->get_header_value("Content-Type").find("text/plain; version=0.0.4"), std::string::npos);
    const std::string& body = res->body;
    EXPECT_EQ(Sample(body, "qd_up"), 1);
    EXPECT_EQ(Sample(body, "qd_topic_messages_total{topic=\"orders\"}"), 3);
    EXPECT_EQ(Sample(body, "qd_channel_depth{topic=\"orders\",channel=\"mail\"}"), 2);
    EXPECT_EQ(Sample(body, "qd_channel_in_flight{topic=\"orders\",channel=\"mail\"}"), 1);
    EXPECT_EQ(Sample(body, "qd_channel_clients{topic=\"orders\",channel=\"mail\"}"), 1);
    EXPECT_GE(Sample(body, "qd_connections"), 1);
    EXPECT_GT(Sample(body, "qd_process_resident_memory_bytes"), 0);

    // Every sample line belongs to a family declared with # TYPE before it.
    std::istringstream in(body);
    std::string line;
    std::set<std::string> declared;
    std::regex sample(R"(^([a-z_]+)(\{[^}]*\})? -?[0-9]+$)");
    while (std::getline(in, line)) {
      if (line.rfind("# TYPE ", 0) == 0) {
        declared.insert(line.substr(7, line.find(' ', 7) - 7));
        continue;
      }
      if (line.rfind("# HELP ", 0) == 0) continue;
      std::smatch m2;
      ASSERT_TRUE(std::regex_match(line, m2, sample)) << "not a valid sample line: " << line;
      EXPECT_TRUE(declared.contains(m2[1].str())) << "sample before its # TYPE: " << line;
    }
  }
}

}  // namespace
}  // namespace q::test

namespace q::test {
namespace {

class E2eLatencyTest : public QdFixture {
 protected:
  std::vector<std::string> Flags() const override {
    return {"--e2e-processing-latency-percentile=0.5", "--e2e-processing-latency-percentile=0.99"};
  }
};

TEST_F(E2eLatencyTest, FinishedMessagesGiveQuantilesInStatsAndMetrics) {
  TestClient sub = NewSubscriber("lat", "c");
  ASSERT_TRUE(sub.Rdy(10));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Post("/pub?topic=lat", "x"));
  for (int i = 0; i < 5; ++i) {
    ReceivedMessage m;
    ASSERT_TRUE(sub.ReadMessage(&m));
    ASSERT_TRUE(sub.Fin(m.id));
  }
  ASSERT_TRUE(WaitForChannelValue("lat", "c", "in_flight_count", 0));
  json ch = ChannelStats("lat", "c");
  // FINs are processed in order after the in-flight count drops, so all five are counted.
  EXPECT_EQ(ch["e2e_processing_latency"]["count"], 5) << ch.dump();
  ASSERT_TRUE(ch["e2e_processing_latency"]["percentiles"].is_array()) << ch.dump();
  ASSERT_EQ(ch["e2e_processing_latency"]["percentiles"].size(), 2u);
  EXPECT_EQ(ch["e2e_processing_latency"]["percentiles"][1]["quantile"], 0.99);
  EXPECT_GT(ch["e2e_processing_latency"]["percentiles"][1]["value"].get<int64_t>(), 0);
  json topic = TopicStats("lat");
  EXPECT_EQ(topic["e2e_processing_latency"]["count"], 5) << topic.dump();

  auto res = Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("qd_channel_e2e_processing_latency_seconds{topic=\"lat\",channel=\"c\",quantile=\"0.99\"}"),
            std::string::npos)
      << res->body;
}

// `promtool check metrics` (Prometheus' own linter, Debian package prometheus) on a
// /metrics page with topics, channels, a consumer, a producer and latency quantiles.
TEST_F(E2eLatencyTest, PromtoolAcceptsTheMetricsPage) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool")) << "promtool missing: run scripts/install-deps.sh";
  TestClient sub = NewSubscriber("prom", "c");
  ASSERT_TRUE(sub.Rdy(10));
  TestClient producer = NewClient();
  ASSERT_TRUE(IsOk(producer.Pub("prom", "x")));
  ASSERT_TRUE(Post("/channel/create?topic=prom&channel=idle#ephemeral"));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  ASSERT_TRUE(sub.Fin(m.id));
  ASSERT_TRUE(WaitForChannelValue("prom", "c", "in_flight_count", 0));
  auto res = Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::string path = qd_->data_path() + "/metrics.txt";
  std::ofstream(path) << res->body;
  std::string cmd = "/usr/bin/promtool check metrics < '" + path + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out << "\n--- /metrics ---\n" << res->body;
}

TEST_F(MetricsTest, WithoutPercentilesE2eIsAnObjectWithNullPercentiles) {
  ASSERT_TRUE(Post("/topic/create?topic=plain"));
  ASSERT_TRUE(Post("/channel/create?topic=plain&channel=c"));
  json ch = ChannelStats("plain", "c");
  ASSERT_TRUE(ch["e2e_processing_latency"].is_object()) << ch.dump();
  EXPECT_TRUE(ch["e2e_processing_latency"]["percentiles"].is_null());
}

}  // namespace
}  // namespace q::test
