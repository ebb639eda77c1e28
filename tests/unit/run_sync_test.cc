// RunSync's promise to callers whose work captures their locals by reference: after a
// timeout the work either never runs, or has already started and the caller waited for it.
#include "qd/shard.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>

namespace q {
namespace {

TEST(RunSyncTest, WorkThatDidNotStartInTimeNeverRuns) {
  Shard shard(0);
  shard.Start();
  std::latch release(1);
  asio::post(shard.io(), [&release] { release.wait(); });
  // Owned by the work too, so reading it stays valid even if the work ran after this test.
  auto ran = std::make_shared<std::atomic<bool>>(false);
  auto result = RunSync(shard, [ran] {
    *ran = true;
    return 1;
  }, std::chrono::milliseconds(1));
  EXPECT_FALSE(result);
  release.count_down();
  // The shard runs posted work in order: once this answers, the abandoned work had its turn.
  ASSERT_TRUE(RunSync(shard, [] { return true; }));
  EXPECT_FALSE(*ran);
}

TEST(RunSyncTest, CallerWaitsForWorkStillRunningAtItsTimeout) {
  Shard shard(0);
  shard.Start();
  // Long enough that a loaded machine still starts the work before the caller gives up.
  const auto timeout = std::chrono::milliseconds(1000);
  int written = 0;  // the caller's local, written by reference by the work
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto result = RunSync(shard, [&] {
    // Nothing marks the moment the caller's timeout expires, so the work outlasts it by a margin.
    std::this_thread::sleep_until(deadline + std::chrono::milliseconds(200));
    written = 7;
    return 42;
  }, timeout);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(written, 7);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline + std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace q
