// Messages delivered to a consumer and not yet FINished, REQueued or timed out, with the
// connection that owns each and its deadline. Thread-safety: none (owned by the channel's
// shard).
#pragma once
#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "common/message.h"

namespace q {

struct InFlight {
  Message message;
  uint64_t client_id = 0;
  int64_t delivered_at = 0;  // ns, wall clock
  int64_t deadline = 0;      // ns, wall clock
};

class InFlightQueue {
 public:
  // False if the id is already in flight (ids are unique per topic, so that is a bug or a
  // duplicate from disk recovery; the caller drops the copy).
  bool Add(InFlight entry);
  // Removes the entry if it is in flight and owned by client_id.
  enum class Result { kOk, kNotInFlight, kNotOwner };
  Result Remove(const MessageId& id, uint64_t client_id, InFlight* out);
  // Moves the deadline of an owned entry (TOUCH).
  Result SetDeadline(const MessageId& id, uint64_t client_id, int64_t deadline);
  const InFlight* Find(const MessageId& id) const;
  // Removes and returns every entry whose deadline is <= now.
  std::vector<InFlight> PopExpired(int64_t now);
  // Removes and returns everything (empty, shutdown).
  std::vector<InFlight> TakeAll();
  size_t size() const { return entries_.size(); }

 private:
  struct Deadline {
    int64_t at;
    MessageId id;
    bool operator>(const Deadline& o) const { return at > o.at; }
  };
  std::unordered_map<MessageId, InFlight, MessageIdHash> entries_;
  // Lazy heap: TOUCH pushes a new deadline; stale ones are skipped when popped.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
};

}  // namespace q
