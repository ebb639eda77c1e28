// A channel: one copy of every message of its topic, shared by the consumers SUBscribed
// to it, who compete for its messages. Holds the queue (a disk log with a memory cache), the
// in-flight table and the deferred store, and pushes messages to consumers within their RDY
// counts. A durable channel's message stays in its queue's log until FIN (or until it has
// been copied on, by REQ or timeout, to the queue's end or the deferred log), so messages in
// flight at a crash are delivered again.
//
// Thread-safety: everything runs on the owning topic's shard thread. Owned by its Topic;
// consumers hold a raw pointer that Delete() clears before the channel goes away.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/message.h"
#include "qd/backed_queue.h"
#include "qd/subscriber.h"
#include "qd/deferred_store.h"
#include "qd/in_flight_queue.h"
#include "qd/latency_window.h"
#include "qd/stats.h"

namespace q {

class Topic;
struct Options;

class Channel {
 public:
  // disk and deferred_log are null for ephemeral channels.
  Channel(Topic* topic, std::string name, const Options& options, std::unique_ptr<DiskQueue> disk,
          std::unique_ptr<DiskQueue> deferred_log);
  ~Channel();

  const std::string& name() const { return name_; }
  bool ephemeral() const { return ephemeral_; }
  bool paused() const { return paused_; }
  Topic* topic() const { return topic_; }

  // A copy from the topic's fan-out. Counts it, holds it back if deferred, else queues it
  // and delivers what consumers have room for. False (*error) if it could not be stored.
  bool Put(Message m, std::string* error);

  // Consumers. AddClient fails (false, *error) past --max-channel-consumers.
  bool AddClient(Subscriber* client, std::string* error);
  void RemoveClient(Subscriber* client);
  size_t client_count() const { return clients_.size(); }
  // Delivers while some consumer is ready (in flight < RDY) and a message is queued.
  void Pump();

  // FIN / REQ / TOUCH from a consumer. Empty string on success, else the failure reason
  // ("ID not in flight", "client does not own message").
  std::string Finish(Subscriber* client, const MessageId& id);
  std::string Requeue(Subscriber* client, const MessageId& id, int64_t delay_ns);
  std::string Touch(Subscriber* client, const MessageId& id);

  // Moves timed-out in-flight messages back to the queue and due deferred ones into it.
  void Scan(int64_t now);

  void SetPaused(bool paused);
  // Drops queued, in-flight and deferred messages.
  void Empty();
  // Closes every consumer's connection and removes the channel's files.
  void Delete();
  // Clean shutdown: in-flight and deferred messages go back to the queue, the queue to disk.
  void Close();
  // Periodic sync (--sync-timeout): fsyncs and saves read positions, in the order that keeps
  // every message somewhere on disk while it moves between the queue and the deferred log.
  void SyncDisk();
  // Writes buffered records out without fsync (they then survive the process dying).
  void Flush();
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error);

  // Not const: computing e2e quantiles drops samples that left the window.
  ChannelStats Stats(bool include_clients);

 private:
  Subscriber* NextReadyClient();
  void Deliver(Subscriber* client, Message m);
  bool Enqueue(Message m, std::string* error);
  void EnqueueOrLog(Message m);
  Subscriber* FindClient(uint64_t id) const;
  void ClientInFlightDone(uint64_t client_id);

  Topic* topic_;
  std::string name_;
  bool ephemeral_;
  const Options& options_;
  bool paused_ = false;
  BackedQueue queue_;
  InFlightQueue in_flight_;
  DeferredStore deferred_;
  std::vector<Subscriber*> clients_;
  size_t next_client_ = 0;
  int64_t message_count_ = 0, requeue_count_ = 0, timeout_count_ = 0;
  LatencyWindow e2e_;
};

}  // namespace q
