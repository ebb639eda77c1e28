#include "qd/latency_window.h"

#include <gtest/gtest.h>

namespace q {
namespace {

TEST(LatencyWindow, QuantilesOfTheSamplesInTheWindow) {
  LatencyWindow w(1000);
  for (int i = 1; i <= 100; ++i) w.Add(500, i);
  int64_t count = 0;
  auto q = w.Quantiles(600, {0.5, 0.99, 1.0}, &count);
  EXPECT_EQ(count, 100);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_NEAR(q[0].second, 50, 1);
  EXPECT_NEAR(q[1].second, 99, 1);
  EXPECT_EQ(q[2].second, 100);
}

TEST(LatencyWindow, SamplesOlderThanTheWindowAreDropped) {
  LatencyWindow w(1000);
  w.Add(0, 7);
  w.Add(5000, 3);
  int64_t count = 0;
  auto q = w.Quantiles(5500, {1.0}, &count);
  EXPECT_EQ(count, 1);
  EXPECT_EQ(q[0].second, 3);
  EXPECT_TRUE(w.Quantiles(100000, {1.0}, &count).empty());
  EXPECT_EQ(count, 0);
}

TEST(LatencyWindow, KeepsAtMostTheNewestSamples) {
  LatencyWindow w(1'000'000);
  for (size_t i = 0; i < LatencyWindow::kMaxSamples + 10; ++i) w.Add(1, static_cast<int64_t>(i));
  int64_t count = 0;
  auto q = w.Quantiles(1, {0.0001}, &count);
  EXPECT_EQ(count, static_cast<int64_t>(LatencyWindow::kMaxSamples));
  EXPECT_GE(q[0].second, 10);  // the oldest ten are gone
}

}  // namespace
}  // namespace q
