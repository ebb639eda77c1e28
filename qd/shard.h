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

namespace detail {
// One RunSync call, shared by the caller and the work it posted. They agree once, by CAS
// from kPending, on whether the work runs: it runs only if it starts before the caller gives
// up, and a caller that gives up while it runs waits for it to finish, because the work may
// use the caller's locals (callers capture by reference).
template <class R>
struct SyncCall {
  enum State { kPending, kRunning, kAbandoned };
  std::atomic<State> state{kPending};
  std::promise<R> promise;
};
}  // namespace detail

// Runs f() on the shard and waits for its result from a thread that is not a shard thread
// (HTTP handlers, start-up, shutdown). Returns nullopt if the shard did not start f in time;
// f then never runs. If f has started when the timeout expires, waits for it to finish, so
// f may capture the caller's locals by reference.
template <class F>
auto RunSync(Shard& shard, F&& f, std::chrono::milliseconds timeout = std::chrono::seconds(30))
    -> std::optional<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  using Call = detail::SyncCall<R>;
  if (shard.InThread()) return f();
  auto call = std::make_shared<Call>();
  auto future = call->promise.get_future();
  asio::post(shard.io(), [call, fn = std::forward<F>(f)]() mutable {
    auto pending = Call::kPending;
    if (!call->state.compare_exchange_strong(pending, Call::kRunning)) return;
    try {
      call->promise.set_value(fn());
    } catch (...) {
      call->promise.set_exception(std::current_exception());
    }
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    auto pending = Call::kPending;
    if (call->state.compare_exchange_strong(pending, Call::kAbandoned)) return std::nullopt;
    future.wait();
  }
  return future.get();
}

}  // namespace q
