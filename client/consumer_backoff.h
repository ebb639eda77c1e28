// ConsumerBackoff: go-nsq's consumer-wide backoff as a pure state machine (time and the
// random source are passed in, so it is tested without clocks).
//
// A handler failure raises the level (up to the level whose delay reaches max_delay) and
// pauses the consumer: RDY 0 on every connection for delay(level) = multiplier × 2^level,
// capped at max_delay, with jitter (a uniform pick in [delay/2, delay]). When the pause ends
// (Resume) the consumer probes: RDY 1 on one connection. Each outcome while probing moves the
// level: a success lowers it — at 0 full RDY is restored, else a shorter pause follows — and
// a failure raises it and pauses again. Outcomes reported during a pause (messages that were
// in flight when it began) are ignored. max_delay 0 disables backoff.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>

namespace q {

class ConsumerBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kNormal, kPaused, kProbing };

  ConsumerBackoff(std::chrono::milliseconds multiplier, std::chrono::milliseconds max_delay);

  // Records a handler outcome. random01 in [0, 1) picks the jitter. true when the mode changed
  // or a new pause began (RDY must be recomputed).
  bool OnOutcome(bool success, Clock::time_point now, double random01);
  // Ends a pause whose time has come (now >= resume_at()): Paused → Probing. true if it did.
  bool Resume(Clock::time_point now);

  Mode mode() const { return mode_; }
  int level() const { return level_; }
  // When the current pause ends (only in kPaused).
  std::optional<Clock::time_point> resume_at() const;
  // The un-jittered pause for a level.
  std::chrono::milliseconds Delay(int level) const;
  int max_level() const { return max_level_; }

 private:
  std::chrono::milliseconds multiplier_;
  std::chrono::milliseconds max_delay_;
  int max_level_ = 0;
  Mode mode_ = Mode::kNormal;
  int level_ = 0;
  Clock::time_point resume_at_{};
};

}  // namespace q
