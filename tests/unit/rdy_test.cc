#include "q/rdy.h"

#include <gtest/gtest.h>

#include <numeric>

namespace q {
namespace {

int Sum(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); }

TEST(DistributeRdy, OneConnectionGetsAll) {
  EXPECT_EQ(DistributeRdy(10, 1, 2500), (std::vector<int>{10}));
}

TEST(DistributeRdy, SplitsEvenlyWithRemainderToFirst) {
  EXPECT_EQ(DistributeRdy(10, 3, 2500), (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(DistributeRdy(9, 3, 2500), (std::vector<int>{3, 3, 3}));
}

TEST(DistributeRdy, CappedAtMaxRdyCount) {
  EXPECT_EQ(DistributeRdy(10000, 2, 2500), (std::vector<int>{2500, 2500}));
}

TEST(DistributeRdy, MoreConnectionsThanMaxInFlightNeverExceedsIt) {
  for (unsigned rot = 0; rot < 7; ++rot) {
    auto v = DistributeRdy(2, 3, 2500, rot);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(Sum(v), 2) << "rotation " << rot;
  }
  EXPECT_EQ(DistributeRdy(2, 3, 2500, 0), (std::vector<int>{1, 1, 0}));
  EXPECT_EQ(DistributeRdy(2, 3, 2500, 1), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(DistributeRdy(2, 3, 2500, 2), (std::vector<int>{1, 0, 1}));
}

TEST(DistributeRdy, RotationServesEveryConnection) {
  std::vector<int> served(5, 0);
  for (unsigned rot = 0; rot < 5; ++rot) {
    auto v = DistributeRdy(1, 5, 2500, rot);
    for (size_t i = 0; i < v.size(); ++i) served[i] += v[i];
  }
  EXPECT_EQ(served, (std::vector<int>{1, 1, 1, 1, 1}));
}

TEST(DistributeRdy, SumNeverExceedsMaxInFlight) {
  for (int mif = 0; mif < 30; ++mif) {
    for (int conns = 1; conns < 12; ++conns) {
      auto v = DistributeRdy(mif, conns, 2500);
      ASSERT_EQ(static_cast<int>(v.size()), conns);
      EXPECT_EQ(Sum(v), mif) << mif << " over " << conns;
    }
  }
}

TEST(DistributeRdy, NoConnections) { EXPECT_TRUE(DistributeRdy(5, 0, 2500).empty()); }

}  // namespace
}  // namespace q
