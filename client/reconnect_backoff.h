// ReconnectBackoff: when to dial a qd again. The first wait is Options::reconnect_backoff_min,
// each failed dial doubles it up to reconnect_backoff_max, and a successful dial starts over,
// so a qd that is down is not dialled in a loop and one that comes back is found soon.
// Shared by Producer, TransactionProducer and Consumer; not thread-safe (callers hold their
// own lock).
#pragma once
#include <algorithm>
#include <chrono>

namespace q {

class ReconnectBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  ReconnectBackoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}

  // A dial failed: returns how long to wait before the next one (due() from now on).
  std::chrono::milliseconds Failed() {
    wait_ = wait_.count() == 0 ? min_ : std::min(wait_ * 2, max_);
    due_ = Clock::now() + wait_;
    return wait_;
  }
  // A live connection closed: wait the minimum before dialling again.
  void Dropped() {
    wait_ = min_;
    due_ = Clock::now() + wait_;
  }
  // A dial succeeded.
  void Connected() { wait_ = std::chrono::milliseconds(0); }

  // When the next dial may happen.
  Clock::time_point due() const { return due_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds wait_{0};
  Clock::time_point due_{};
};

}  // namespace q
