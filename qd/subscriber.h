// What a channel needs of a subscribed connection: its RDY state, a way to send a message,
// and its in-flight count. ClientV2 is the real one; unit tests use fakes.
// Called only on the channel's shard thread.
#pragma once
#include <cstdint>

#include "common/message.h"
#include "qd/stats.h"

namespace q {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual uint64_t id() const = 0;
  // Subscribed, not closing, and fewer messages in flight than its last RDY.
  virtual bool IsReadyForMessages() const = 0;
  // Sends (or buffers) a message frame and counts it in flight.
  virtual void SendMessage(const Message& m) = 0;
  // One of its messages left flight (FIN, REQ, timeout).
  virtual void InFlightDone() = 0;
  // The channel was emptied: nothing of it is in flight any more.
  virtual void ResetInFlight() = 0;
  virtual int64_t msg_timeout_ns() const = 0;
  virtual int sample_rate() const = 0;
  // The channel is going away: forget it and close the connection.
  virtual void DetachFromChannel() = 0;
  virtual ClientStats Stats() const = 0;
};

}  // namespace q
