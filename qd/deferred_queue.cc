#include "qd/deferred_queue.h"

namespace q {

bool DeferredQueue::Add(Message m) {
  if (!ids_.insert(m.id).second) return false;
  heap_.push(std::move(m));
  return true;
}

std::vector<Message> DeferredQueue::PopDue(int64_t now) {
  std::vector<Message> out;
  while (!heap_.empty() && heap_.top().deliver_at <= now) {
    out.push_back(heap_.top());
    heap_.pop();
    ids_.erase(out.back().id);
  }
  return out;
}

std::vector<Message> DeferredQueue::TakeAll() {
  std::vector<Message> out;
  out.reserve(heap_.size());
  while (!heap_.empty()) {
    out.push_back(heap_.top());
    heap_.pop();
  }
  ids_.clear();
  return out;
}

}  // namespace q
