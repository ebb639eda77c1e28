#include "qd/group_commit.h"

#include <algorithm>

#include "common/log.h"
#include "qd/topic.h"

namespace q {

GroupCommit::GroupCommit(asio::io_context& io) : io_(io) {}
GroupCommit::~GroupCommit() = default;

void GroupCommit::MarkDirty(const std::shared_ptr<Topic>& topic) { dirty_.emplace(topic.get(), topic); }

void GroupCommit::Kick() {
  if (start_posted_ || in_flight_.size() == kMaxRounds) return;
  start_posted_ = true;
  asio::post(io_, [this] {
    start_posted_ = false;
    StartRound();
  });
}

void GroupCommit::Await(Waiter done) {
  waiting_.push_back(std::move(done));
  Kick();
}

void GroupCommit::StartRound() {
  if (in_flight_.size() == kMaxRounds || (dirty_.empty() && waiting_.empty())) return;
  // The sync thread no running round uses.
  size_t thread = 0;
  while (std::any_of(in_flight_.begin(), in_flight_.end(), [thread](const auto& r) { return r->thread == thread; })) {
    ++thread;
  }
  auto owned = std::make_unique<Round>();
  Round* round = owned.get();
  round->thread = thread;
  round->waiters.swap(waiting_);
  in_flight_.push_back(std::move(owned));
  ++rounds_;
  std::vector<DiskQueue::SyncJob> jobs;
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (auto& [raw, weak] : dirty) {
    std::shared_ptr<Topic> topic = weak.lock();
    if (!topic) continue;
    std::string error;
    if (!topic->PrepareSync(&jobs, &error) && round->error.empty()) round->error = error;
  }
  // The sync thread's result comes back through the io_context; if the shard has stopped
  // by then the waiters are dropped with it.
  threads_[thread].Submit(std::move(jobs), [this, round](std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures) {
    asio::post(io_, [this, round, failures = std::move(failures)]() mutable { RoundDone(round, std::move(failures)); });
  });
}

void GroupCommit::RoundDone(Round* round, std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures) {
  round->synced = true;
  for (auto& [job, message] : failures) {
    // After a failed fsync the data may be gone from the page cache while a retry would
    // report success; the queue refuses writes from now on.
    if (job.failure) *job.failure = message + " (writes are refused until qd restarts)";
    LOG_ERROR("SYNC: ", message);
    for (auto& r : in_flight_) {
      if (r->error.empty()) r->error = message;
    }
  }
  while (!in_flight_.empty() && in_flight_.front()->synced) {
    std::unique_ptr<Round> done = std::move(in_flight_.front());
    in_flight_.pop_front();
    for (Waiter& w : done->waiters) w(done->error.empty(), done->error);
  }
  if (!waiting_.empty() || !dirty_.empty()) Kick();
}

}  // namespace q
