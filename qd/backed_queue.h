// A FIFO of messages: a bounded memory deque (--mem-queue-size) that overflows to a
// DiskQueue. While anything is on disk, new messages go to disk too, so the order stays
// first-in first-out (NSQ reads memory and disk at random). Without a DiskQueue
// (ephemeral topics and channels) overflow is dropped, as NSQ does.
// Thread-safety: none (owned by a topic's shard).
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "common/message.h"
#include "qd/disk_queue.h"

namespace q {

// Disk record of a message: timestamp(8) attempts(2) id(16) deliver_at(8) body.
std::string EncodeRecord(const Message& m);
std::optional<Message> DecodeRecord(std::string_view record);

class BackedQueue {
 public:
  BackedQueue(size_t memory_capacity, std::unique_ptr<DiskQueue> disk);

  enum class PutResult { kOk, kDropped, kFailed };
  PutResult Put(Message m, std::string* error);
  std::optional<Message> Pop();

  int64_t Depth() const { return static_cast<int64_t>(memory_.size()) + BackendDepth(); }
  int64_t BackendDepth() const { return disk_ ? disk_->Depth() : 0; }
  bool Empty() const { return Depth() == 0; }
  bool HasDisk() const { return disk_ != nullptr; }

  // Drops every message (memory and disk).
  void Clear();
  // Writes the memory part to disk (clean shutdown), then syncs and closes the disk queue.
  bool Close(std::string* error);
  // Removes the disk files for good (delete).
  void Delete();
  void SyncIfNeeded();
  uint64_t corrupt_records() const { return disk_ ? disk_->corrupt_records() : 0; }

 private:
  size_t memory_capacity_;
  std::deque<Message> memory_;
  std::unique_ptr<DiskQueue> disk_;
};

}  // namespace q
