// DiskQueue: a FIFO of opaque records kept in segment files under --data-path, used by a
// topic or channel when its memory queue is full (or always, with --mem-queue-size=0).
//
// Promises:
//  - Records come out in the order they went in; each is checked with a CRC32C on read.
//  - Across a clean Close() and Open() of the same dir+name, every record put and not popped
//    is still there, in order, and Depth() is correct.
//  - A damaged record is skipped and counted (corrupt_records()), never the good ones around
//    it; a torn tail (the writer died mid-record) is cut off on Open.
//  - Put() fails (returns false with a message) on a write error; records accepted before
//    stay readable.
//  - Records handed out with Take() stay on disk until Ack()ed: the queue keeps a floor, the
//    oldest record taken and not yet acknowledged, and after a crash or restart reading
//    starts again at the floor. Records taken before the crash come back marked
//    `handed_before` (they may have been delivered). Pop() is Take() + Ack().
//
// Thread-safety: none. A DiskQueue belongs to the shard thread that owns its topic.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace q {

class DiskQueue {
 public:
  struct Options {
    std::string dir;                            // --data-path
    std::string name;                           // "<topic>" or "<topic>:<channel>"
    uint64_t max_bytes_per_file = 104857600;    // --max-bytes-per-file: segment rollover size
    uint32_t max_record_size = 1048576 + 64;    // larger records are refused / seen as corrupt
    int64_t sync_every = 2500;                  // fsync after this many puts (--sync-every)
    // When set, the owner syncs in the background (PrepareSync + a sync thread): every
    // sync_every puts the queue calls this instead of fsyncing on the caller's thread.
    std::function<void()> on_sync_due;
  };

  // Where a record lives: segment, offset of its header, bytes on disk (header included).
  struct RecordRef {
    uint64_t seg = 0;
    uint64_t off = 0;
    uint64_t size = 0;
    bool operator==(const RecordRef&) const = default;
  };

  struct Taken {
    std::string data;
    uint64_t seq = 0;            // pass to Ack() when done with the record
    RecordRef ref;
    bool handed_before = false;  // taken (not acknowledged) before the last restart
  };

  // Take() without the copy: data views the record in the queue's read buffer and is valid
  // until the next call on the queue.
  struct TakenRef {
    std::string_view data;
    uint64_t seq = 0;
    RecordRef ref;
    bool handed_before = false;
  };

  // An fdatasync for a sync thread: a duplicate of the write segment's descriptor (closed by
  // the one who runs it) and/or the directory, after a new segment file was created.
  struct SyncJob {
    int fd = -1;
    std::string path;
    std::string dir;  // non-empty: fsync this directory after the file
    std::shared_ptr<std::string> failure;  // set (on the owner's thread) when the sync fails
  };

  // Opens (or creates) the queue. Returns nullptr and sets *error on failure.
  static std::unique_ptr<DiskQueue> Open(const Options& options, std::string* error);
  ~DiskQueue();

  // Appends one record. False (and *error) on failure; nothing already stored is damaged.
  bool Put(std::string_view record, std::string* error, RecordRef* ref = nullptr);
  // Removes and returns the oldest record; nullopt when empty. Take() + Ack().
  std::optional<std::string> Pop();
  // Hands out the oldest unread record; it stays on disk until Ack(seq).
  std::optional<Taken> Take();
  std::optional<TakenRef> TakeRef();
  // Like Take() for a caller that still holds the record's bytes (a memory cache): moves past
  // the record at ref, which must be the next unread one. nullopt if it is not.
  std::optional<uint64_t> Skip(const RecordRef& ref);
  // The record taken as seq is done with (delivered and finished, or copied elsewhere).
  // Unknown or repeated seqs are ignored.
  void Ack(uint64_t seq);
  // Reads the record at ref (which must be at or after the floor); nullopt if unreadable.
  std::optional<std::string> ReadAt(const RecordRef& ref);
  // Records after the read position.
  int64_t Depth() const;
  // Records taken and not yet acknowledged.
  size_t Unacked() const;
  // Segment of the floor and of the writer: a gap shows records that pin old segments.
  uint64_t FloorSegment() const;
  uint64_t WriteSegment() const;
  bool Empty() const { return Depth() == 0; }

  // fsyncs written data and persists the read position. Called every --sync-every puts
  // (internally) and by the owner every --sync-timeout while NeedsSync(); pops only mark the
  // queue as needing a sync.
  // Also deletes segments that a floor on disk has passed.
  bool Sync(std::string* error);
  bool NeedsSync() const;
  // Writes buffered records to the file (no fsync): they then survive the process dying.
  bool Flush(std::string* error);
  // Group commit: writes out buffered records and adds the fdatasync work the records put
  // so far need to *jobs (for a sync thread). False if writing failed.
  bool PrepareSync(std::vector<SyncJob>* jobs, std::string* error);

  // Drops every record (files removed), keeps the queue usable.
  bool Clear(std::string* error);
  // Syncs and closes; the destructor does the same if not yet closed.
  bool Close(std::string* error);
  // Closes and removes every file of this queue.
  void Delete();

  uint64_t corrupt_records() const;

  DiskQueue(const DiskQueue&) = delete;
  DiskQueue& operator=(const DiskQueue&) = delete;

 private:
  DiskQueue() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace q
