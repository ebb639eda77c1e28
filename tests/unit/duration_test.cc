#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace q {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationTest, ParsesGoSyntax) {
  EXPECT_EQ(ParseGoDuration("250ms"), Nanos(milliseconds(250)));
  EXPECT_EQ(ParseGoDuration("1m30s"), Nanos(seconds(90)));
  EXPECT_EQ(ParseGoDuration("1.5h"), Nanos(minutes(90)));
  EXPECT_EQ(ParseGoDuration("0"), Nanos(0));
  EXPECT_EQ(ParseGoDuration("-1s"), Nanos(seconds(-1)));
  EXPECT_EQ(ParseGoDuration("10us"), Nanos(microseconds(10)));
  EXPECT_EQ(ParseGoDuration("10\xC2\xB5s"), Nanos(microseconds(10)));
  EXPECT_EQ(ParseGoDuration("7ns"), Nanos(7));
  EXPECT_EQ(ParseGoDuration("2h45m"), Nanos(hours(2) + minutes(45)));
  EXPECT_EQ(ParseGoDuration(".5s"), Nanos(milliseconds(500)));
  EXPECT_EQ(ParseGoDuration("+5s"), Nanos(seconds(5)));
}

TEST(DurationTest, KeepsNanosecondPrecisionOfLargeValues) {
  EXPECT_EQ(ParseGoDuration("2562047h47m16.854775807s"), Nanos(INT64_MAX));
  // Past 2^53 ns (about 104 days) a double cannot hold every nanosecond.
  EXPECT_EQ(ParseGoDuration("3000h0.000000001s"), Nanos(10800000000000001LL));
  EXPECT_EQ(ParseGoDuration("-2562047h47m16.854775808s"), Nanos(INT64_MIN));
  EXPECT_FALSE(ParseGoDuration("2562047h47m16.854775808s").has_value());
}

TEST(DurationTest, RejectsWhatGoRejects) {
  EXPECT_FALSE(ParseGoDuration("10").has_value());  // a unit is required except for "0"
  EXPECT_FALSE(ParseGoDuration("").has_value());
  EXPECT_FALSE(ParseGoDuration("1x").has_value());
  EXPECT_FALSE(ParseGoDuration("s").has_value());
  EXPECT_FALSE(ParseGoDuration("-").has_value());
  EXPECT_FALSE(ParseGoDuration(".s").has_value());
  EXPECT_FALSE(ParseGoDuration("1s ").has_value());
  EXPECT_FALSE(ParseGoDuration("3000000h").has_value());  // overflows int64 nanoseconds
}

TEST(DurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatGoDuration(Nanos(seconds(90))), "1m30s");
  EXPECT_EQ(FormatGoDuration(Nanos(milliseconds(250))), "250ms");
  EXPECT_EQ(FormatGoDuration(Nanos(0)), "0s");
  EXPECT_EQ(FormatGoDuration(Nanos(hours(1))), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(Nanos(milliseconds(1500))), "1.5s");
  EXPECT_EQ(FormatGoDuration(Nanos(seconds(-1))), "-1s");
  EXPECT_EQ(FormatGoDuration(Nanos(1500)), "1.5\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(Nanos(7)), "7ns");
  EXPECT_EQ(FormatGoDuration(Nanos(INT64_MIN)), "-2562047h47m16.854775808s");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (int64_t n : {int64_t{1}, int64_t{999}, int64_t{1001}, int64_t{123456789},
                    int64_t{3600000000001}, INT64_MAX}) {
    EXPECT_EQ(ParseGoDuration(FormatGoDuration(Nanos(n))), Nanos(n)) << n;
  }
}

}  // namespace
}  // namespace q
