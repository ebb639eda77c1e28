#include "client/consumer_backoff.h"

#include <gtest/gtest.h>

#include "client/lookupd_query.h"

namespace q {
namespace {

using namespace std::chrono_literals;
using Mode = ConsumerBackoff::Mode;
const ConsumerBackoff::Clock::time_point kT0{};

TEST(ConsumerBackoff, DelayDoublesPerLevelUpToTheMax) {
  ConsumerBackoff b(1000ms, 120000ms);
  EXPECT_EQ(b.Delay(1), 2000ms);
  EXPECT_EQ(b.Delay(2), 4000ms);
  EXPECT_EQ(b.Delay(6), 64000ms);
  EXPECT_EQ(b.Delay(7), 120000ms);
  EXPECT_EQ(b.max_level(), 7);
}

TEST(ConsumerBackoff, SuccessWithoutBackoffChangesNothing) {
  ConsumerBackoff b(1000ms, 120000ms);
  EXPECT_FALSE(b.OnOutcome(true, kT0, 0.5));
  EXPECT_EQ(b.mode(), Mode::kNormal);
  EXPECT_EQ(b.level(), 0);
}

TEST(ConsumerBackoff, FailurePausesWithJitterThenProbes) {
  ConsumerBackoff b(1000ms, 120000ms);
  ASSERT_TRUE(b.OnOutcome(false, kT0, 0.0));
  EXPECT_EQ(b.mode(), Mode::kPaused);
  EXPECT_EQ(b.level(), 1);
  EXPECT_EQ(*b.resume_at(), kT0 + 1000ms);  // jitter 0: half of 2 s
  // In-flight outcomes during the pause are ignored.
  EXPECT_FALSE(b.OnOutcome(false, kT0 + 10ms, 0.0));
  EXPECT_FALSE(b.OnOutcome(true, kT0 + 10ms, 0.0));
  EXPECT_EQ(b.level(), 1);
  EXPECT_FALSE(b.Resume(kT0 + 999ms));
  EXPECT_TRUE(b.Resume(kT0 + 1000ms));
  EXPECT_EQ(b.mode(), Mode::kProbing);
  EXPECT_FALSE(b.resume_at());
}

TEST(ConsumerBackoff, JitterStaysWithinHalfToFull) {
  ConsumerBackoff b(1000ms, 120000ms);
  b.OnOutcome(false, kT0, 0.999);
  EXPECT_LE(*b.resume_at(), kT0 + 2000ms);
  EXPECT_GT(*b.resume_at(), kT0 + 1900ms);
}

TEST(ConsumerBackoff, ProbeFailureRaisesAndSuccessesStepBackToNormal) {
  ConsumerBackoff b(100ms, 10000ms);
  b.OnOutcome(false, kT0, 1.0);
  b.Resume(kT0 + 1s);
  ASSERT_TRUE(b.OnOutcome(false, kT0 + 1s, 1.0));  // probe failed
  EXPECT_EQ(b.level(), 2);
  EXPECT_EQ(*b.resume_at(), kT0 + 1s + 400ms);
  b.Resume(kT0 + 2s);
  ASSERT_TRUE(b.OnOutcome(true, kT0 + 2s, 1.0));  // probe succeeded: shorter pause
  EXPECT_EQ(b.mode(), Mode::kPaused);
  EXPECT_EQ(b.level(), 1);
  EXPECT_EQ(*b.resume_at(), kT0 + 2s + 200ms);
  b.Resume(kT0 + 3s);
  ASSERT_TRUE(b.OnOutcome(true, kT0 + 3s, 1.0));
  EXPECT_EQ(b.mode(), Mode::kNormal);
  EXPECT_EQ(b.level(), 0);
}

TEST(ConsumerBackoff, LevelIsCappedWhereTheDelayReachesTheMax) {
  ConsumerBackoff b(1000ms, 5000ms);  // 2 s, 4 s, 5 s
  for (int i = 0; i < 10; ++i) {
    b.OnOutcome(false, kT0, 1.0);
    b.Resume(kT0 + 1h);
  }
  EXPECT_EQ(b.level(), 3);
  EXPECT_EQ(b.Delay(b.level()), 5000ms);
}

TEST(ConsumerBackoff, ZeroMaxDisablesIt) {
  ConsumerBackoff b(1000ms, 0ms);
  EXPECT_FALSE(b.OnOutcome(false, kT0, 0.5));
  EXPECT_EQ(b.mode(), Mode::kNormal);
}

TEST(ParseLookupProducers, ReadsBroadcastAddressAndTcpPort) {
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ParseLookupProducers(
      R"({"channels":["c"],"producers":[{"broadcast_address":"h1","tcp_port":4150,"http_port":4151},)"
      R"({"broadcast_address":"::1","tcp_port":5150}]})",
      &out, &error));
  EXPECT_EQ(out, (std::vector<std::string>{"h1:4150", "[::1]:5150"}));
}

TEST(ParseLookupProducers, AcceptsTheOldEnvelopeAndRejectsGarbage) {
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ParseLookupProducers(
      R"({"status_code":200,"status_txt":"OK","data":{"producers":[{"broadcast_address":"a","tcp_port":1}]}})",
      &out, &error));
  EXPECT_EQ(out, (std::vector<std::string>{"a:1"}));
  EXPECT_FALSE(ParseLookupProducers("not json", &out, &error));
  EXPECT_FALSE(ParseLookupProducers(R"({"producers":3})", &out, &error));
}

}  // namespace
}  // namespace q
