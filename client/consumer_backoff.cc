#include "client/consumer_backoff.h"

#include <algorithm>

namespace q {

ConsumerBackoff::ConsumerBackoff(std::chrono::milliseconds multiplier,
                                 std::chrono::milliseconds max_delay)
    : multiplier_(std::max(multiplier, std::chrono::milliseconds(1))), max_delay_(max_delay) {
  // Beyond the first level whose delay reaches max_delay, more failures change nothing; capping
  // the level there means as many successes as that bring the consumer back.
  if (max_delay_.count() > 0) {
    max_level_ = 1;
    while (max_level_ < 30 && Delay(max_level_) < max_delay_) ++max_level_;
  }
}

std::chrono::milliseconds ConsumerBackoff::Delay(int level) const {
  if (level <= 0) return std::chrono::milliseconds(0);
  int64_t d = multiplier_.count();
  for (int i = 0; i < level && d < max_delay_.count(); ++i) d *= 2;
  return std::min(std::chrono::milliseconds(d), max_delay_);
}

bool ConsumerBackoff::OnOutcome(bool success, Clock::time_point now, double random01) {
  if (max_delay_.count() <= 0 || mode_ == Mode::kPaused) return false;
  if (success) {
    if (level_ == 0) return false;
    --level_;
  } else {
    level_ = std::min(level_ + 1, max_level_);
  }
  if (level_ == 0) {
    mode_ = Mode::kNormal;
    return true;
  }
  auto full = Delay(level_);
  auto jittered = full / 2 + std::chrono::milliseconds(
                                 static_cast<int64_t>(static_cast<double>(full.count() / 2) *
                                                      std::clamp(random01, 0.0, 1.0)));
  mode_ = Mode::kPaused;
  resume_at_ = now + jittered;
  return true;
}

bool ConsumerBackoff::Resume(Clock::time_point now) {
  if (mode_ != Mode::kPaused || now < resume_at_) return false;
  mode_ = Mode::kProbing;
  return true;
}

std::optional<ConsumerBackoff::Clock::time_point> ConsumerBackoff::resume_at() const {
  if (mode_ != Mode::kPaused) return std::nullopt;
  return resume_at_;
}

}  // namespace q
