#include "qd/sync_thread.h"

#include <unistd.h>

#include "common/file.h"

namespace q {

SyncThread::SyncThread() : thread_([this] { Run(); }) {}

SyncThread::~SyncThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void SyncThread::Submit(std::vector<DiskQueue::SyncJob> jobs, Done done) {
  {
    std::lock_guard lock(mu_);
    batches_.push_back(Batch{std::move(jobs), std::move(done)});
  }
  cv_.notify_one();
}

void SyncThread::Run() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !batches_.empty(); });
      if (batches_.empty()) return;  // stopping, and nothing left to run
      batch = std::move(batches_.front());
      batches_.pop_front();
    }
    std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures;
    for (DiskQueue::SyncJob& job : batch.jobs) {
      std::string failure;
      if (job.fd >= 0) {
        if (int err = file::DataSyncFd(job.fd, job.path)) failure = file::Describe("fsync", job.path, err);
        ::close(job.fd);
        job.fd = -1;
      }
      if (failure.empty() && !job.dir.empty()) {
        if (int err = file::SyncDir(job.dir)) failure = file::Describe("fsync", job.dir, err);
      }
      if (!failure.empty()) failures.emplace_back(std::move(job), std::move(failure));
    }
    if (batch.done) batch.done(std::move(failures));
  }
}

}  // namespace q
