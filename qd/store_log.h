// The disk log of a store (a topic's or channel's queue, its deferred messages, a topic's half
// messages), or none for an ephemeral one. It does the upkeep every store does the same way
// (write out, sync, clear, close), logging errors under the store's label.
//
// Stores that find their records by position rather than reading them in order (deferred
// and half messages) also append records held until acknowledged, and copy the live records
// of a pinned floor segment forward so a long-lived one does not keep every later segment
// on disk.
//
// Thread-safety: none (owned by a store, on its topic's shard).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qd/disk_queue.h"

namespace q {

class StoreLog {
 public:
  // disk may be null (memory only). label starts the store's log lines, e.g. "TX(orders)".
  StoreLog(std::unique_ptr<DiskQueue> disk, std::string label);

  explicit operator bool() const { return disk_ != nullptr; }
  DiskQueue* operator->() const { return disk_.get(); }

  uint64_t corrupt_records() const { return disk_ ? disk_->corrupt_records() : 0; }

  // Upkeep; without a disk each does nothing (and succeeds).
  void Flush();  // writes buffered records out (no fsync)
  void SyncIfNeeded();
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error);
  void Clear();                      // drops every record
  void Delete();                     // removes the files for good
  bool Close(std::string* error);    // syncs and closes
  void Close();                      // the same, logging a failure

  // Appends record and takes it at once, so it stays on disk until Ack(*seq). The reader
  // must be caught up (the store read the whole log at load), so the new record is the next
  // one; if it is not, *seq is 0 and the record stays until a restart.
  bool AppendHeld(std::string_view record, DiskQueue::RecordRef* ref, uint64_t* seq, std::string* error);

  // Once the floor is two segments behind the writer, copies the held records of the floor's
  // segment (the entries' .ref and .seq, updated) to the end of the log so the floor, and the
  // disk space, can move on. what names the records in the log line, e.g. "half message(s)".
  template <class Entries>
  void CompactIfPinned(Entries& entries, std::string_view what) {
    std::optional<uint64_t> floor = PinnedSegment();
    if (!floor) return;
    size_t moved = 0;
    for (auto& [key, e] : entries) {
      if (e.ref.seg != *floor || e.seq == 0) continue;
      Copy copy = CopyForward(&e.ref, &e.seq);
      if (copy == Copy::kStop) return;
      if (copy == Copy::kMoved) ++moved;
    }
    NoteCompacted(moved, *floor, what);
  }

 private:
  enum class Copy { kMoved, kKept, kStop };
  std::optional<uint64_t> PinnedSegment() const;
  Copy CopyForward(DiskQueue::RecordRef* ref, uint64_t* seq);
  void NoteCompacted(size_t moved, uint64_t floor, std::string_view what) const;

  std::unique_ptr<DiskQueue> disk_;
  std::string label_;
};

}  // namespace q
