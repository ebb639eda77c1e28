#include "admin/rate_history.h"

namespace q::admin {

double RateHistory::Rate(const Sample& a, const Sample& b) {
  int64_t dt = b.ts_ms - a.ts_ms;
  int64_t dm = b.totals.message_count - a.totals.message_count;
  if (dt <= 0 || dm <= 0) return 0;
  return static_cast<double>(dm) * 1000.0 / static_cast<double>(dt);
}

void RateHistory::Record(int64_t ts_ms, const std::map<std::string, Totals>& totals) {
  std::lock_guard lock(mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    if (!totals.contains(it->first)) it = series_.erase(it);
    else ++it;
  }
  for (const auto& [key, t] : totals) {
    auto& samples = series_[key];
    samples.push_back({ts_ms, t});
    while (samples.size() > capacity_) samples.pop_front();
  }
}

nlohmann::json RateHistory::Series(const std::string& key) const {
  std::lock_guard lock(mu_);
  nlohmann::json points = nlohmann::json::array();
  auto it = series_.find(key);
  if (it == series_.end()) return points;
  const auto& s = it->second;
  for (size_t i = 1; i < s.size(); ++i)
    points.push_back({{"ts", s[i].ts_ms}, {"rate", Rate(s[i - 1], s[i])}, {"depth", s[i].totals.depth}});
  return points;
}

double RateHistory::LatestRate(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end() || it->second.size() < 2) return 0;
  const auto& s = it->second;
  return Rate(s[s.size() - 2], s.back());
}

}  // namespace q::admin
