// A thread that runs fdatasync work for one shard, so the shard's thread never waits for the
// disk on the publish path. Batches run one after another, in the order submitted.
//
// Thread-safety: Submit may be called from any thread; `done` runs on the sync thread and
// must hand its results back to the owner's thread itself (asio::post).
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qd/disk_queue.h"

namespace q {

class SyncThread {
 public:
  // failures: one entry per job that failed, with its message.
  using Done = std::function<void(std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures)>;

  SyncThread();
  // Runs what was submitted, then joins.
  ~SyncThread();

  // Runs every job (closing its descriptor), then done.
  void Submit(std::vector<DiskQueue::SyncJob> jobs, Done done);

  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;

 private:
  struct Batch {
    std::vector<DiskQueue::SyncJob> jobs;
    Done done;
  };
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> batches_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace q
