// LatencyHistogram: counts of nanosecond values in log-linear buckets (64 per power of two,
// so a reported percentile is within 1/64 ≈ 1.6 % of the true value). Record() is lock-free
// and may be called from any thread; Percentile() reads a snapshot.
#pragma once
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace q {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = kSub + (64 - kSubBits) * kSub;

  static size_t BucketOf(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    int e = 63 - std::countl_zero(v);  // v in [2^e, 2^(e+1)), e >= kSubBits
    uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<size_t>(kSub + static_cast<uint64_t>(e - kSubBits) * kSub + sub);
  }
  // Smallest value that falls in bucket i.
  static uint64_t LowerBound(size_t i) {
    if (i < kSub) return i;
    uint64_t e = (i - kSub) / kSub + kSubBits;
    uint64_t sub = (i - kSub) % kSub;
    return (kSub + sub) << (e - kSubBits);
  }

  void Record(int64_t ns) {
    uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
    counts_[BucketOf(v)].fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count() const { return total_.load(std::memory_order_relaxed); }

  // The value below which a fraction p (0..1) of the recorded values lie (bucket lower bound);
  // 0 when empty.
  uint64_t Percentile(double p) const {
    uint64_t total = count();
    if (total == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(p * static_cast<double>(total));
    if (rank >= total) rank = total - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen > rank) return LowerBound(i);
    }
    return LowerBound(kBuckets - 1);
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> total_{0};
};

}  // namespace q
