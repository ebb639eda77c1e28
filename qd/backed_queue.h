// A FIFO of messages for a topic or channel.
//
// With a DiskQueue (durable topics and channels) every message is written to it: the disk
// log is the queue, and the newest messages are also kept in memory, up to memory_capacity
// (--mem-queue-size), so a consumer that keeps up is served without reading the disk.
// Messages come out with Message::seq set and stay on disk until Ack(seq): a crash, or a
// restart, hands out again whatever was popped and not acknowledged.
//
// Without a DiskQueue (ephemeral topics and channels) it is a bounded memory queue whose
// overflow is dropped, as NSQ does.
//
// Thread-safety: none (owned by a topic's shard).
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"
#include "qd/disk_queue.h"
#include "qd/store_log.h"

namespace q {

// Disk record of a message: timestamp(8) attempts(2) id(16) deliver_at(8) body.
std::string EncodeRecord(const Message& m);
std::optional<Message> DecodeRecord(std::string_view record);

class BackedQueue {
 public:
  // count_redelivery: a message read again after a restart, having been popped before it,
  // comes out with one more attempt (it was probably delivered). Channels want that; a
  // topic, whose pops are copies to its channels, does not.
  BackedQueue(size_t memory_capacity, std::unique_ptr<DiskQueue> disk, bool count_redelivery);

  enum class PutResult { kOk, kDropped, kFailed };
  PutResult Put(Message m, std::string* error);
  // The oldest message; its seq (non-zero with a disk) must be acknowledged.
  std::optional<Message> Pop();
  void Ack(uint64_t seq);

  int64_t Depth() const { return disk_ ? disk_->Depth() : static_cast<int64_t>(memory_.size()); }
  // Messages queued that are only on disk, not in memory.
  int64_t BackendDepth() const;
  bool Empty() const { return Depth() == 0; }
  bool HasDisk() const { return static_cast<bool>(disk_); }

  // Drops every message (memory and disk).
  void Clear();
  // Syncs and closes the disk queue (clean shutdown).
  bool Close(std::string* error);
  // Removes the disk files for good (delete).
  void Delete();
  // Writes buffered records out (no fsync), so they survive the process.
  void Flush() { disk_.Flush(); }
  void SyncIfNeeded() { disk_.SyncIfNeeded(); }
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) { return disk_.PrepareSync(jobs, error); }
  uint64_t corrupt_records() const { return disk_.corrupt_records(); }

 private:
  struct Cached {
    Message message;
    DiskQueue::RecordRef ref;
  };
  std::optional<Message> PopMemoryOnly();

  size_t memory_capacity_;
  StoreLog disk_;
  bool count_redelivery_;
  std::deque<Message> memory_;  // without a disk
  // With a disk: the records right after the read position, in memory. New records join
  // only while it holds everything unread (cache_complete_).
  std::deque<Cached> cache_;
  bool cache_complete_ = true;
};

}  // namespace q
