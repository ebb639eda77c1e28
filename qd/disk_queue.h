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
//
// Thread-safety: none. A DiskQueue belongs to the shard thread that owns its topic.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace q {

class DiskQueue {
 public:
  struct Options {
    std::string dir;                            // --data-path
    std::string name;                           // "<topic>" or "<topic>:<channel>"
    uint64_t max_bytes_per_file = 104857600;    // --max-bytes-per-file: segment rollover size
    uint32_t max_record_size = 1048576 + 64;    // larger records are refused / seen as corrupt
    int64_t sync_every = 2500;                  // fsync after this many puts (--sync-every)
  };

  // Opens (or creates) the queue. Returns nullptr and sets *error on failure.
  static std::unique_ptr<DiskQueue> Open(const Options& options, std::string* error);
  ~DiskQueue();

  // Appends one record. False (and *error) on failure; nothing already stored is damaged.
  bool Put(std::string_view record, std::string* error);
  // Removes and returns the oldest record; nullopt when empty.
  std::optional<std::string> Pop();
  int64_t Depth() const;
  bool Empty() const { return Depth() == 0; }

  // fsyncs written data and persists the read position. Called every --sync-every puts
  // (internally) and by the owner every --sync-timeout while NeedsSync(); pops only mark the
  // queue as needing a sync.
  bool Sync(std::string* error);
  bool NeedsSync() const;

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
