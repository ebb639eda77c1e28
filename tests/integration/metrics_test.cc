// GET /metrics: Prometheus text format with the numbers /stats reports.
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
