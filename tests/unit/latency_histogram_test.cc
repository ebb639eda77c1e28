#include "cli/latency_histogram.h"

#include <gtest/gtest.h>

namespace q {
namespace {

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
}

TEST(LatencyHistogram, BucketsAreMonotonicAndContainTheirLowerBound) {
  uint64_t prev = 0;
  for (size_t i = 1; i < LatencyHistogram::kBuckets; ++i) {
    uint64_t lb = LatencyHistogram::LowerBound(i);
    EXPECT_GT(lb, prev);
    EXPECT_EQ(LatencyHistogram::BucketOf(lb), i);
    EXPECT_EQ(LatencyHistogram::BucketOf(lb - 1), i - 1);
    prev = lb;
  }
}

TEST(LatencyHistogram, PercentilesWithinRelativeError) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  auto near = [](uint64_t got, double want) {
    return static_cast<double>(got) <= want && static_cast<double>(got) >= want * (1 - 1.0 / 32);
  };
  EXPECT_TRUE(near(h.Percentile(0.5), 50e6)) << h.Percentile(0.5);
  EXPECT_TRUE(near(h.Percentile(0.99), 99e6)) << h.Percentile(0.99);
  EXPECT_TRUE(near(h.Percentile(0.999), 99.9e6)) << h.Percentile(0.999);
}

TEST(LatencyHistogram, NegativeCountsAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.Percentile(0.5), 0u);
}

}  // namespace
}  // namespace q
