#include "qd/in_flight_queue.h"

namespace q {

bool InFlightQueue::Add(InFlight entry) {
  MessageId id = entry.message.id;
  int64_t deadline = entry.deadline;
  if (!entries_.emplace(id, std::move(entry)).second) return false;
  deadlines_.push({deadline, id});
  return true;
}

InFlightQueue::Result InFlightQueue::Remove(const MessageId& id, uint64_t client_id, InFlight* out) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return Result::kNotInFlight;
  if (it->second.client_id != client_id) return Result::kNotOwner;
  if (out) *out = std::move(it->second);
  entries_.erase(it);
  // The heap entry goes stale and is dropped when it reaches the top; compact when stale
  // entries dominate so a long-lived channel's heap does not grow without bound.
  if (deadlines_.size() > 64 && deadlines_.size() > 4 * entries_.size()) {
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> fresh;
    for (auto& [mid, e] : entries_) fresh.push({e.deadline, mid});
    deadlines_.swap(fresh);
  }
  return Result::kOk;
}

InFlightQueue::Result InFlightQueue::SetDeadline(const MessageId& id, uint64_t client_id,
                                                 int64_t deadline) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return Result::kNotInFlight;
  if (it->second.client_id != client_id) return Result::kNotOwner;
  it->second.deadline = deadline;
  deadlines_.push({deadline, id});
  return Result::kOk;
}

const InFlight* InFlightQueue::Find(const MessageId& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<InFlight> InFlightQueue::PopExpired(int64_t now) {
  std::vector<InFlight> out;
  while (!deadlines_.empty() && deadlines_.top().at <= now) {
    Deadline top = deadlines_.top();
    deadlines_.pop();
    auto it = entries_.find(top.id);
    if (it == entries_.end() || it->second.deadline != top.at) continue;  // stale
    out.push_back(std::move(it->second));
    entries_.erase(it);
  }
  return out;
}

std::vector<InFlight> InFlightQueue::TakeAll() {
  std::vector<InFlight> out;
  out.reserve(entries_.size());
  for (auto& [id, e] : entries_) out.push_back(std::move(e));
  entries_.clear();
  deadlines_ = {};
  return out;
}

}  // namespace q
