// Work a connection or an HTTP handler hands to a topic's shard (a publish, a transaction
// step): it runs there, and when it succeeded on a topic that acknowledges only fsynced data
// (--sync-every=1) the answer waits for the shard's group commit. A failed fsync turns the
// answer into a failure with the commit's error, so nothing unsynced is acknowledged.
#pragma once
#include <asio.hpp>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "qd/shard.h"
#include "qd/topic.h"

namespace q {

// What work(topic, &error) returned, and why it failed when it did.
template <class R>
struct TopicAnswer {
  R result{};
  std::string error;
};

// The two kinds of work: a publish (true when it happened) and a transaction step (kOk when
// it happened). Only a success is worth awaiting the group commit for.
inline bool Succeeded(bool published) { return published; }
inline bool Succeeded(Topic::TxResult result) { return result == Topic::TxResult::kOk; }
// What a success becomes when its fsync failed.
inline bool AsFailed(bool) { return false; }
inline Topic::TxResult AsFailed(Topic::TxResult) { return Topic::TxResult::kFailed; }

namespace detail {
// co_await on the topic's shard: resumes once the shard's group commit has fsynced
// everything written before, with (ok, error).
inline auto AwaitDurable(Topic& topic) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::pair<bool, std::string>)>(
      [&topic](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        topic.AwaitDurable([h](bool ok, const std::string& error) { (*h)(std::make_pair(ok, error)); });
      },
      asio::use_awaitable);
}
// On the topic's shard: work(topic, &error), then, when it succeeded on a durable topic and
// await_durable is set, the group commit that makes it durable.
template <class F, class R = std::invoke_result_t<F&, Topic&, std::string*>>
asio::awaitable<TopicAnswer<R>> RunHere(std::shared_ptr<Topic> topic, F work, bool await_durable) {
  TopicAnswer<R> answer;
  answer.result = work(*topic, &answer.error);
  if (Succeeded(answer.result) && await_durable && topic->durable_publish()) {
    std::pair<bool, std::string> synced = co_await AwaitDurable(*topic);
    if (!synced.first) {
      answer.result = AsFailed(answer.result);
      answer.error = std::move(synced.second);
    }
  }
  co_return answer;
}
}  // namespace detail

// From a connection's coroutine: runs work(topic, &error) on the topic's shard and answers,
// after the group commit when await_durable is set and the topic is durable. A connection
// that already lives on the topic's shard (subscribers, and publishers after their first
// publish) runs it without a hop.
template <class F, class R = std::invoke_result_t<F&, Topic&, std::string*>>
asio::awaitable<TopicAnswer<R>> RunOnTopicShard(std::shared_ptr<Topic> topic, F work, bool await_durable) {
  if (topic->shard().InThread() && !(await_durable && topic->durable_publish())) {
    TopicAnswer<R> direct;
    direct.result = work(*topic, &direct.error);
    co_return direct;
  }
  // g++ 12 mishandles temporaries and structured bindings around co_await: the awaited
  // coroutine is a named local and the result a plain variable.
  bool here = topic->shard().InThread();
  asio::io_context& io = topic->shard().io();
  asio::awaitable<TopicAnswer<R>> run = detail::RunHere(std::move(topic), std::move(work), await_durable);
  if (here) {
    TopicAnswer<R> answer = co_await std::move(run);
    co_return answer;
  }
  TopicAnswer<R> answer = co_await asio::co_spawn(io, std::move(run), asio::use_awaitable);
  co_return answer;
}

}  // namespace q
