// Messages held back until a wall-clock time: DPUB and REQ with a delay. Thread-safety:
// none (owned by the channel's shard).
#pragma once
#include <cstdint>
#include <queue>
#include <unordered_set>
#include <vector>

#include "common/message.h"

namespace q {

class DeferredQueue {
 public:
  // False if a message with this id is already deferred.
  bool Add(Message m);  // due at m.deliver_at
  bool Contains(const MessageId& id) const { return ids_.contains(id); }
  // Removes and returns the messages due at or before now, earliest first.
  std::vector<Message> PopDue(int64_t now);
  std::vector<Message> TakeAll();
  size_t size() const { return ids_.size(); }

 private:
  struct Later {
    bool operator()(const Message& a, const Message& b) const { return a.deliver_at > b.deliver_at; }
  };
  std::priority_queue<Message, std::vector<Message>, Later> heap_;
  std::unordered_set<MessageId, MessageIdHash> ids_;
};

}  // namespace q
