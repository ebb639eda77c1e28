#include "qd/group_commit.h"

#include "common/log.h"
#include "qd/topic.h"

namespace q {

GroupCommit::GroupCommit(asio::io_context& io) : io_(io) {}
GroupCommit::~GroupCommit() = default;

void GroupCommit::MarkDirty(const std::shared_ptr<Topic>& topic) { dirty_.emplace(topic.get(), topic); }

void GroupCommit::Kick() {
  if (running_ || start_posted_) return;
  start_posted_ = true;
  asio::post(io_, [this] {
    start_posted_ = false;
    if (!running_) StartRound();
  });
}

void GroupCommit::Await(Waiter done) {
  waiting_.push_back(std::move(done));
  Kick();
}

void GroupCommit::StartRound() {
  if (dirty_.empty() && waiting_.empty()) return;
  running_ = true;
  ++rounds_;
  in_round_.swap(waiting_);
  round_error_.clear();
  std::vector<DiskQueue::SyncJob> jobs;
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (auto& [raw, weak] : dirty) {
    std::shared_ptr<Topic> topic = weak.lock();
    if (!topic) continue;
    std::string error;
    if (!topic->PrepareSync(&jobs, &error) && round_error_.empty()) round_error_ = error;
  }
  // The sync thread's result comes back through the io_context; if the shard has stopped
  // by then the waiters are dropped with it.
  thread_.Submit(std::move(jobs), [this](std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures) {
    asio::post(io_, [this, failures = std::move(failures)]() mutable { RoundDone(std::move(failures)); });
  });
}

void GroupCommit::RoundDone(std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures) {
  std::string error = round_error_;
  for (auto& [job, message] : failures) {
    // After a failed fsync the data may be gone from the page cache while a retry would
    // report success; the queue refuses writes from now on.
    if (job.failure) *job.failure = message + " (writes are refused until qd restarts)";
    LOG_ERROR("SYNC: ", message);
    if (error.empty()) error = message;
  }
  std::vector<Waiter> done;
  done.swap(in_round_);
  running_ = false;
  for (Waiter& w : done) w(error.empty(), error);
  if (!waiting_.empty() || !dirty_.empty()) Kick();
}

}  // namespace q
