#include "qd/shard.h"

#include "qd/group_commit.h"

namespace q {

Shard::Shard(int index) : index_(index), commit_(std::make_unique<GroupCommit>(io_)) {}

Shard::~Shard() { Stop(); }

void Shard::Start() {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] {
    thread_id_ = std::this_thread::get_id();
    io_.run();
  });
  while (thread_id_.load() == std::thread::id()) std::this_thread::yield();
}

void Shard::Stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
}

}  // namespace q
