// RateHistory: the last few minutes of message rate and depth per topic and per channel, so a
// page opened now draws charts with history instead of starting empty. qadmin's sampler feeds
// it every few seconds with cluster-wide totals; rates are the difference of cumulative
// message counts between samples (never negative: a restarted qd resets its counters).
//
// Thread-safety: all methods lock; the sampler writes while HTTP threads read.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace q::admin {

struct Totals {
  int64_t message_count = 0;
  // Messages waiting: for a topic (and the cluster) its own depth plus its channels'.
  int64_t depth = 0;
};

class RateHistory {
 public:
  explicit RateHistory(size_t capacity) : capacity_(capacity) {}

  // Key of the cluster-wide series, of a topic's and of a channel's.
  static std::string ClusterKey() { return ""; }
  static std::string TopicKey(const std::string& topic) { return topic; }
  static std::string ChannelKey(const std::string& topic, const std::string& channel) { return topic + "/" + channel; }
  static std::string TopicOnNodeKey(const std::string& topic, const std::string& node) { return topic + "@" + node; }

  // One sample taken at ts_ms (Unix milliseconds). Series missing from totals are dropped
  // (their topic or channel is gone).
  void Record(int64_t ts_ms, const std::map<std::string, Totals>& totals);
  // [{"ts": ms, "rate": msgs/s, "depth": n}], oldest first; one point fewer than samples.
  nlohmann::json Series(const std::string& key) const;
  // Messages per second between the last two samples; 0 without two samples.
  double LatestRate(const std::string& key) const;

 private:
  struct Sample {
    int64_t ts_ms;
    Totals totals;
  };
  static double Rate(const Sample& a, const Sample& b);

  size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Sample>> series_;  // guarded by mu_
};

}  // namespace q::admin
