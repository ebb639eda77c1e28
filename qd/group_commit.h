// Group commit for one shard: every topic with records not yet on disk is marked dirty; a
// round writes out their buffers on the shard thread, then fsyncs them all at once on the
// shard's SyncThread, and finally tells everyone who was waiting. Publishers who arrive while
// a round runs wait for the next one, so N concurrent durable publishes share one fsync
// instead of paying N.
//
// Thread-safety: shard thread only (the sync thread's results are posted back to it).
#pragma once
#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "qd/sync_thread.h"

namespace q {

class Topic;

class GroupCommit {
 public:
  // ok=false with a message when writing or fsyncing something in the round failed.
  using Waiter = std::function<void(bool ok, const std::string& error)>;

  explicit GroupCommit(asio::io_context& io);
  ~GroupCommit();

  // The topic has writes that the next round must make durable.
  void MarkDirty(const std::shared_ptr<Topic>& topic);
  // Starts a round soon (after the handlers already queued, so they join it) unless one
  // is running; a running round starts the next itself.
  void Kick();
  // Calls done once every write made before this call is on disk (or failed).
  void Await(Waiter done);

  uint64_t rounds() const { return rounds_; }

 private:
  void StartRound();
  void RoundDone(std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures);

  asio::io_context& io_;
  std::unordered_map<Topic*, std::weak_ptr<Topic>> dirty_;
  std::vector<Waiter> waiting_;   // for the next round
  std::vector<Waiter> in_round_;  // for the running round
  std::string round_error_;       // a write that failed while the round was prepared
  bool running_ = false;
  bool start_posted_ = false;
  uint64_t rounds_ = 0;
  // Last: joined (after finishing its batches) before the members above go away.
  SyncThread thread_;
};

}  // namespace q
