// Messages held back until a wall-clock time: DPUB, and REQ with a delay.
//
// For a durable channel the messages live in a log of their own (a DiskQueue named
// "<topic>:<channel>~deferred"); memory holds only an index entry per message (due time, id,
// where its record is), so a million messages deferred for days cost index entries, not
// bodies. A message taken out when due is marked released by a tombstone record, written
// only when the owner calls CommitReleases() after syncing the queue the message went to:
// a crash before that delivers it twice, never zero times. Records that would pin old
// segments of the log for long (a message deferred for days among short REQ delays) are
// copied forward so the log does not grow without bound.
//
// Without a log (ephemeral channels) messages are kept in memory.
//
// Thread-safety: none (owned by a channel, on its topic's shard).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/message.h"
#include "qd/disk_queue.h"
#include "qd/store_log.h"

namespace q {

class DeferredStore {
 public:
  // log may be null (memory only). name is for log lines.
  DeferredStore(std::unique_ptr<DiskQueue> log, std::string name);

  // Reads the log after a restart: every message not released is deferred again.
  void Load();

  // Defers m until m.deliver_at. False if its record could not be written (*error) or the id
  // is already deferred.
  bool Add(Message m, std::string* error);
  bool Contains(const MessageId& id) const { return entries_.contains(id); }
  // Removes and returns the messages due at or before now, earliest first.
  std::vector<Message> PopDue(int64_t now);
  // Records the release of what PopDue returned. Call only after the messages are safe
  // where they went (their queue synced).
  void CommitReleases();

  size_t size() const { return entries_.size(); }
  uint64_t corrupt_records() const { return log_.corrupt_records() + unreadable_; }

  void Clear();   // drops everything
  void Delete();  // drops everything and removes the log's files
  void Close();   // commits releases, syncs and closes the log
  void Flush() { log_.Flush(); }  // writes buffered records out (no fsync)
  void SyncIfNeeded() { log_.SyncIfNeeded(); }
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) { return log_.PrepareSync(jobs, error); }

 private:
  struct Entry {
    int64_t deliver_at = 0;
    uint64_t seq = 0;            // the record in the log, 0 without one
    DiskQueue::RecordRef ref;
    std::optional<Message> message;  // memory-only mode
  };
  bool Append(char type, std::string_view payload, DiskQueue::RecordRef* ref, uint64_t* seq,
              std::string* error);

  StoreLog log_;
  std::string name_;
  std::unordered_map<MessageId, Entry, MessageIdHash> entries_;
  std::set<std::pair<int64_t, MessageId>> by_time_;
  std::vector<std::pair<MessageId, uint64_t>> releasing_;  // popped, tombstone not yet written
  uint64_t unreadable_ = 0;
};

}  // namespace q
