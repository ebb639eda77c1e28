// Group commit for one shard: every topic with records not yet on disk is marked dirty; a
// round writes out their buffers on the shard thread, then fsyncs them all at once on a
// sync thread, and finally tells everyone who was waiting. Publishers who arrive while a
// round runs join a later one, so N concurrent durable publishes share one fsync instead of
// paying N.
//
// Up to kMaxRounds rounds are in flight at once, each on its own sync thread. A producer that
// waits for its OK comes back while the round after its own is already syncing; with one
// round at a time it would wait for that whole round before its own could start, so every
// producer would pay about two fsyncs per message. A round's fdatasync also waits for the
// writes of the rounds started before it. Rounds are answered in the order they started,
// and a failed fsync fails every round in flight with it: the rounds share the file's open
// description, so the kernel reports a lost write to whichever fsync asks first.
//
// Thread-safety: shard thread only (the sync threads' results are posted back to it).
#pragma once
#include <asio.hpp>
#include <array>
#include <deque>
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
  static constexpr size_t kMaxRounds = 2;

  explicit GroupCommit(asio::io_context& io);
  ~GroupCommit();

  // The topic has writes that the next round must make durable.
  void MarkDirty(const std::shared_ptr<Topic>& topic);
  // Starts a round soon (after the handlers already queued, so they join it) unless every
  // sync thread is busy; a finishing round starts the next itself.
  void Kick();
  // Calls done once every write made before this call is on disk (or failed).
  void Await(Waiter done);

  uint64_t rounds() const { return rounds_; }

 private:
  struct Round {
    std::vector<Waiter> waiters;
    std::string error;  // the first failure of this round or of one in flight with it
    bool synced = false;
    size_t thread = 0;
  };
  void StartRound();
  void RoundDone(Round* round, std::vector<std::pair<DiskQueue::SyncJob, std::string>> failures);

  asio::io_context& io_;
  std::unordered_map<Topic*, std::weak_ptr<Topic>> dirty_;
  std::vector<Waiter> waiting_;  // for the next round
  std::deque<std::unique_ptr<Round>> in_flight_;  // in the order they started
  bool start_posted_ = false;
  uint64_t rounds_ = 0;
  // Last: joined (after finishing their batches) before the members above go away.
  std::array<SyncThread, kMaxRounds> threads_;
};

}  // namespace q
