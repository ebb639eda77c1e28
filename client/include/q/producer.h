// Producer: publishes to one qd over TCP (PUB, MPUB, DPUB), asynchronously.
//
// Promises:
// - Every publish call returns at once and completes exactly once, with Status::Ok() when qd
//   answered OK, or an error: qd's error frame text ("E_BAD_TOPIC ..."), a lost connection
//   ("connection to ... closed" — the publish may or may not have been applied), a publish that
//   could not be sent within Options::publish_timeout (qd unreachable), or "producer stopped".
// - Publishes made from one thread go to qd in call order (V2 answers in order; responses are
//   matched to requests in order).
// - The connection is made on the first publish (or by Connect()); when it drops, the next
//   publishes reconnect, with exponential backoff between failed attempts
//   (Options::reconnect_backoff_min .. reconnect_backoff_max).
// - Heartbeats are answered with NOP.
// - With Options::batch_window > 0, PUBs to the same topic made within that window are sent as
//   one MPUB (each caller still gets its own completion; an MPUB error fails all of them).
// - Stop() flushes: it sends everything already published and waits (up to
//   Options::publish_timeout) for the answers, then closes. Publishes after Stop() fail.
//
// Threads: every method may be called from any thread. Completion callbacks run on the
// producer's internal I/O threads: they must be quick, must not throw, and must not call
// Stop() or wait on another publish of the same producer. The destructor calls Stop().
#pragma once
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "q/status.h"
#include "q/connection_options.h"

namespace q {

class Producer {
 public:
  // The connection's own (client id, TLS, AUTH, compression, ...) come from
  // ConnectionOptions.
  struct Options : ConnectionOptions {
    // A publish not sent and answered within this time fails (e.g. qd unreachable).
    std::chrono::milliseconds publish_timeout{10000};
    std::chrono::milliseconds reconnect_backoff_min{100};
    std::chrono::milliseconds reconnect_backoff_max{10000};
    // 0: no automatic batching. >0: PUBs to one topic within this window become one MPUB.
    std::chrono::microseconds batch_window{0};
    // Upper bounds of one automatic MPUB (qd's defaults: --max-body-size 5 MiB).
    size_t max_batch_bytes = 4 << 20;
    size_t max_batch_messages = 1000;
  };
  using Completion = std::function<void(const Status&)>;

  // address: "host:port" of qd's TCP listener. Does not connect yet.
  explicit Producer(std::string address);
  Producer(std::string address, Options options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Connects now (if not connected) and reports the outcome; optional — publishing connects.
  Status Connect();

  std::future<Status> Publish(std::string topic, std::string body);
  std::future<Status> MultiPublish(std::string topic, std::vector<std::string> bodies);
  std::future<Status> DeferredPublish(std::string topic, std::chrono::milliseconds delay,
                                      std::string body);

  // The same with a callback instead of a future.
  void PublishAsync(std::string topic, std::string body, Completion done);
  void MultiPublishAsync(std::string topic, std::vector<std::string> bodies, Completion done);
  void DeferredPublishAsync(std::string topic, std::chrono::milliseconds delay, std::string body,
                            Completion done);

  // Flushes pending publishes (see above), closes the connection, joins the threads.
  // Idempotent.
  void Stop();

  const std::string& address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace q
