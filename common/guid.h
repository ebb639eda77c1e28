// Message ids as NSQ makes them: a 64-bit number (milliseconds since NSQ's epoch, a 10-bit
// node id, a 12-bit sequence) written as 16 lowercase hex characters. Ids are unique per
// generator; one generator per topic is enough because ids only need to be unique per topic.
#pragma once
#include <cstdint>

#include "common/message.h"

namespace q {

class GuidFactory {
 public:
  explicit GuidFactory(uint16_t node_id) : node_id_(node_id & 0x3ff) {}
  // Not thread-safe: each generator belongs to one thread.
  MessageId Next();

 private:
  uint16_t node_id_;
  int64_t last_ms_ = 0;
  uint16_t sequence_ = 0;
};

}  // namespace q
