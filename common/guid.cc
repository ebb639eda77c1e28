#include "common/guid.h"

#include <chrono>

namespace q {

namespace {
constexpr int64_t kTwepoch = 1288834974288;  // the epoch NSQ's ids count from
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

MessageId GuidFactory::Next() {
  int64_t now_ms = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() >>
                   20;  // NSQ's pseudo-milliseconds
  if (now_ms <= last_ms_) {
    // Same (or an earlier, if the clock stepped back) tick: count on within the last one,
    // borrowing the next tick when the 12-bit sequence runs out. Ids stay unique and rising.
    now_ms = last_ms_;
    if (++sequence_ > 0xfff) {
      sequence_ = 0;
      ++now_ms;
    }
  } else {
    sequence_ = 0;
  }
  last_ms_ = now_ms;
  uint64_t v = (static_cast<uint64_t>(now_ms - kTwepoch) << 22) |
               (static_cast<uint64_t>(node_id_) << 12) | sequence_;
  MessageId id;
  for (int i = 15; i >= 0; --i) {
    id.bytes[i] = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

}  // namespace q
