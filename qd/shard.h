// A shard is one thread running its own asio::io_context. A topic lives on the shard its
// name hashes to; its channels, queues, in-flight and deferred state and disk queues live
// there too and are touched only by that thread, so they need no locks. A consumer's
// connection moves to its topic's shard on SUB, so delivery, FIN, REQ and TOUCH never
// cross threads. See docs/architecture.md.
#pragma once
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace q {

class Topic;
class ClientV2;
class GroupCommit;

class Shard {
 public:
  explicit Shard(int index);
  ~Shard();

  int index() const { return index_; }
  asio::io_context& io() { return io_; }
  bool InThread() const { return std::this_thread::get_id() == thread_id_.load(); }

  void Start();
  // Stops the loop and joins the thread; work still queued is dropped.
  void Stop();

  // Group commit of this shard's disk writes (used on its thread).
  GroupCommit& commit() { return *commit_; }

  // State owned by this shard (touched only on its thread).
  std::unordered_set<Topic*> topics;
  std::unordered_map<uint64_t, ClientV2*> clients;

 private:
  int index_;
  asio::io_context io_;
  std::unique_ptr<GroupCommit> commit_;  // after io_: its sync thread posts results there
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
};

// Calls fn every interval on the io_context's thread until destroyed or the loop stops.
class Ticker {
 public:
  Ticker(asio::io_context& io, std::chrono::nanoseconds interval, std::function<void()> fn)
      : timer_(io), interval_(interval), fn_(std::move(fn)) {}
  void Start() { asio::post(timer_.get_executor(), [this] { Arm(); }); }

 private:
  void Arm() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      fn_();
      Arm();
    });
  }
  asio::steady_timer timer_;
  std::chrono::nanoseconds interval_;
  std::function<void()> fn_;
};

// Runs f() on the shard and waits for its result from a thread that is not a shard thread
// (HTTP handlers, start-up, shutdown). Returns nullopt if the shard did not answer in time.
template <class F>
auto RunSync(Shard& shard, F&& f, std::chrono::milliseconds timeout = std::chrono::seconds(30))
    -> std::optional<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  if (shard.InThread()) return f();
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  asio::post(shard.io(), [promise, fn = std::forward<F>(f)]() mutable {
    try {
      promise->set_value(fn());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace q
