// RateHistory: rates from cumulative counts, bounded history, vanished series dropped.
#include "admin/rate_history.h"

#include <gtest/gtest.h>

namespace q::admin {
namespace {

TEST(RateHistory, RateIsTheCountDifferencePerSecond) {
  RateHistory h(10);
  EXPECT_EQ(h.LatestRate("t"), 0);
  h.Record(1000, {{"t", {100, 5}}});
  EXPECT_EQ(h.LatestRate("t"), 0);  // one sample: no rate yet
  EXPECT_TRUE(h.Series("t").empty());
  h.Record(3000, {{"t", {160, 7}}});
  EXPECT_DOUBLE_EQ(h.LatestRate("t"), 30.0);
  auto s = h.Series("t");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["ts"], 3000);
  EXPECT_DOUBLE_EQ(s[0]["rate"].get<double>(), 30.0);
  EXPECT_EQ(s[0]["depth"], 7);
}

TEST(RateHistory, ARestartedCounterIsNotANegativeRate) {
  RateHistory h(10);
  h.Record(1000, {{"t", {500, 0}}});
  h.Record(2000, {{"t", {20, 0}}});
  EXPECT_EQ(h.LatestRate("t"), 0);
}

TEST(RateHistory, KeepsOnlyCapacitySamplesAndDropsVanishedSeries) {
  RateHistory h(3);
  for (int i = 0; i < 10; ++i) h.Record(1000 * i, {{"t", {10 * i, i}}, {"u", {0, 0}}});
  auto s = h.Series("t");
  ASSERT_EQ(s.size(), 2u);  // 3 samples, 2 intervals
  EXPECT_EQ(s[0]["ts"], 8000);
  EXPECT_EQ(s[1]["depth"], 9);
  h.Record(10000, {{"t", {100, 0}}});
  EXPECT_TRUE(h.Series("u").empty());
}

}  // namespace
}  // namespace q::admin
