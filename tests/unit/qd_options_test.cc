#include "qd/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace q {
namespace {

ParseResult Parse(std::vector<const char*> flags) {
  flags.insert(flags.begin(), "qd");
  return ParseOptions(static_cast<int>(flags.size()), flags.data());
}

bool ExcludesEphemeral(std::vector<const char*> flags) {
  ParseResult r = Parse(std::move(flags));
  EXPECT_TRUE(r.options) << r.message;
  return r.options && r.options->statsd_exclude_ephemeral;
}

// nsqd's --statsd-exclude-ephemeral is a Go bool flag: given bare it means true.
TEST(QdOptionsTest, StatsdExcludeEphemeralIsAGoBoolFlag) {
  EXPECT_FALSE(ExcludesEphemeral({}));
  EXPECT_TRUE(ExcludesEphemeral({"--statsd-exclude-ephemeral"}));
  EXPECT_TRUE(ExcludesEphemeral({"-statsd-exclude-ephemeral"}));
  EXPECT_TRUE(ExcludesEphemeral({"--statsd-exclude-ephemeral=true"}));
  EXPECT_TRUE(ExcludesEphemeral({"--statsd-exclude-ephemeral=1"}));
  EXPECT_FALSE(ExcludesEphemeral({"--statsd-exclude-ephemeral=false"}));
  // A bare bool flag does not swallow the next flag.
  ParseResult r = Parse({"--statsd-exclude-ephemeral", "--statsd-prefix=p"});
  ASSERT_TRUE(r.options) << r.message;
  EXPECT_TRUE(r.options->statsd_exclude_ephemeral);
  EXPECT_EQ(r.options->statsd_prefix, "p");
}

TEST(QdOptionsTest, VersionAndBadFlagsEndTheProcessWithAMessage) {
  ParseResult version = Parse({"--version"});
  EXPECT_FALSE(version.options);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.message.find("qd v"), std::string::npos) << version.message;

  ParseResult unknown = Parse({"--no-such-flag=1"});
  EXPECT_FALSE(unknown.options);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.message.find("no-such-flag"), std::string::npos) << unknown.message;

  ParseResult config = Parse({"--config=/nonexistent/qd.cfg"});
  EXPECT_FALSE(config.options);
  EXPECT_NE(config.exit_code, 0);
  EXPECT_EQ(config.message.rfind("qd: ", 0), 0u) << config.message;
}

}  // namespace
}  // namespace q
