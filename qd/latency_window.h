// End-to-end processing latency (publish timestamp → FIN) of one channel over a sliding
// window (--e2e-processing-latency-window-time), for the quantiles nsqd reports with
// --e2e-processing-latency-percentile. Keeps at most kMaxSamples recent samples: a quantile
// of the newest samples, not of every message, which is what an operator looks at anyway.
// Thread-safety: none (the channel's shard).
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace q {

class LatencyWindow {
 public:
  static constexpr size_t kMaxSamples = 8192;

  explicit LatencyWindow(int64_t window_ns) : window_ns_(window_ns) {}

  void Add(int64_t now_ns, int64_t latency_ns) {
    samples_.emplace_back(now_ns, latency_ns);
    if (samples_.size() > kMaxSamples) samples_.pop_front();
  }

  // Quantiles (each in (0,1]) of the samples taken within the window before now; also the
  // number of samples they were computed from.
  std::vector<std::pair<double, int64_t>> Quantiles(int64_t now_ns, const std::vector<double>& qs,
                                                    int64_t* count) {
    while (!samples_.empty() && samples_.front().first < now_ns - window_ns_) samples_.pop_front();
    std::vector<int64_t> values;
    values.reserve(samples_.size());
    for (auto& [at, v] : samples_) values.push_back(v);
    *count = static_cast<int64_t>(values.size());
    std::vector<std::pair<double, int64_t>> out;
    if (values.empty()) return out;
    for (double q : qs) {
      size_t rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
      out.emplace_back(q, values[rank]);
    }
    return out;
  }

 private:
  int64_t window_ns_;
  std::deque<std::pair<int64_t, int64_t>> samples_;  // (taken at, latency)
};

}  // namespace q
