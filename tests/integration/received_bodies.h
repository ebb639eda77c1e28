// ReceivedBodies: what a consumer's handlers received, for tests. Handlers on any thread
// Add() each body; the test waits, with a deadline, for a number of bodies or for given
// ones, then reads how often each came. AllPublished waits for a batch of publishes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "q/status.h"

namespace q::test {

class ReceivedBodies {
 public:
  // Returns true, so a handler can `return received.Add(m.body());` to FIN.
  bool Add(const std::string& body) {
    {
      std::lock_guard lock(mu_);
      ++times_[body];
      ++total_;
    }
    changed_.notify_all();
    return true;
  }

  // Waits until at least n bodies came (repeats counted).
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return total_ >= n; });
  }
  // Waits until every one of bodies came at least once.
  bool WaitForBodies(const std::vector<std::string>& bodies, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& b : bodies) {
        if (!times_.count(b)) return false;
      }
      return true;
    });
  }

  // How many times body came.
  int count(const std::string& body) {
    std::lock_guard lock(mu_);
    auto it = times_.find(body);
    return it == times_.end() ? 0 : it->second;
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return total_;
  }
  size_t distinct() {
    std::lock_guard lock(mu_);
    return times_.size();
  }
  // Bodies that came more than once, counted once per repeat.
  size_t duplicates() {
    std::lock_guard lock(mu_);
    return total_ - times_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, int> times_;
  size_t total_ = 0;
};

// Waits until every publish is answered, all within timeout; fails naming the first that
// was not answered in time or failed, with its message.
inline ::testing::AssertionResult AllPublished(std::vector<std::future<Status>>& results,
                                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].wait_until(deadline) != std::future_status::ready) {
      return ::testing::AssertionFailure() << "publish " << i << " of " << results.size() << " not answered in time";
    }
    Status s = results[i].get();
    if (!s.ok()) return ::testing::AssertionFailure() << "publish " << i << ": " << s.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace q::test
