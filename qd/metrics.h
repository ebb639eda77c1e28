// GET /metrics: the numbers of /stats in the Prometheus text exposition format (0.0.4),
// for operators who scrape rather than poll JSON. Names are prefixed qd_; counters end in
// _total; topic and channel names are labels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qd/stats.h"

namespace q {

struct MetricsSnapshot {
  std::vector<TopicStats> topics;
  int64_t connections = 0;
  int64_t resident_bytes = 0;
  int64_t start_time = 0;
  bool healthy = true;
};

std::string ToPrometheus(const MetricsSnapshot& m);

}  // namespace q
