// Consumer: receives the messages of one topic/channel from one or more qd and hands them to a
// handler running on a pool of Options::concurrency threads.
//
// Promises:
// - At most Options::max_in_flight messages are in flight (delivered and not yet answered) at
//   once over all connections: the consumer spreads RDY with DistributeRdy() (rdy.h) — each
//   connection gets max_in_flight / connections (the remainder to the first ones); when there
//   are more connections than max_in_flight, RDY 1 goes to max_in_flight of them, rotated every
//   Options::rdy_rotate_interval so every qd gets served. Hence at most
//   min(max_in_flight, concurrency) handlers run at once.
// - A handler returning true → FIN; false → REQ with delay
//   min(requeue_delay × attempts, max_requeue_delay). A message whose attempts exceed
//   max_attempts (when > 0) is FINished without calling the handler, and logged.
// - The handler may instead answer itself with Delivery::Finish()/Requeue(); Touch() resets
//   qd's in-flight timeout for long work. An answer after the first is ignored.
// - Discovery: ConnectToLookupd() adds a qlookupd; the consumer asks one lookupd per round
//   (round-robin) for the topic's producers (GET /lookup?topic=) at once, then every
//   Options::lookupd_poll_interval (the first tick delayed by a random fraction up to
//   Options::lookupd_poll_jitter of it) and whenever a connection closes, and connects to every
//   producer it is not connected to yet. Like go-nsq it never closes a live connection because
//   its qd vanished from lookupd; a discovered connection that closes is not redialled by
//   itself — it comes back only if a later lookup still lists it. A 404 (topic unknown) means
//   no producers yet.
// - A dropped connection made with ConnectToQd is redialled with exponential backoff until
//   Stop().
// - Backoff (go-nsq's): a handler failure (false, an exception, or Requeue()) pauses the whole
//   consumer — RDY 0 on every connection — for backoff_multiplier × 2^level (capped at
//   max_backoff_duration, jittered to [d/2, d]); then one connection gets RDY 1 as a probe.
//   Successes while probing step the level down (with shorter pauses in between); at level 0
//   the normal RDY spread is restored. max_backoff_duration 0 disables it.
// - Stop(): CLS to every qd (no new deliveries), waits up to Options::stop_timeout for the
//   messages already received to be handled and answered, then closes and joins the threads.
//   Messages not handled by then stay in flight in qd and are redelivered after its timeout.
//
// Threads: ConnectToQd/Stop/stats may be called from any thread but not from a handler. The
// handler runs on the pool threads (up to `concurrency` at once) and must be thread-safe when
// concurrency > 1. The destructor calls Stop().
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "q/status.h"
#include "q/connection_options.h"

namespace q {

class Consumer;

// One delivered message, valid for the duration of the handler call.
class Delivery {
 public:
  const std::string& id() const { return id_; }  // 16 bytes
  int64_t timestamp() const { return timestamp_; }  // ns since epoch, set by qd at publish
  uint16_t attempts() const { return attempts_; }  // 1 on first delivery
  const std::string& body() const { return body_; }
  const std::string& qd_address() const { return address_; }

  void Finish();
  void Requeue(std::chrono::milliseconds delay);  // counts as a failure for backoff
  void RequeueWithoutBackoff(std::chrono::milliseconds delay);
  void Touch();
  bool responded() const { return responded_; }

 private:
  friend class Consumer;
  std::string id_;
  int64_t timestamp_ = 0;
  uint16_t attempts_ = 0;
  std::string body_;
  std::string address_;
  bool responded_ = false;
  void Answer(bool success, bool fin, std::chrono::milliseconds delay, bool backoff);
  std::shared_ptr<void> conn_;  // the connection it came on (internal type)
};

class Consumer {
 public:
  // The connection's own (client id, TLS, AUTH, compression, ...) come from
  // ConnectionOptions.
  struct Options : ConnectionOptions {
    int max_in_flight = 1;
    int concurrency = 1;  // handler threads
    std::chrono::milliseconds requeue_delay{90000};
    std::chrono::milliseconds max_requeue_delay{15 * 60 * 1000};
    int max_attempts = 0;  // 0: unlimited
    std::chrono::milliseconds reconnect_backoff_min{500};
    std::chrono::milliseconds reconnect_backoff_max{60000};
    std::chrono::milliseconds rdy_rotate_interval{5000};
    std::chrono::milliseconds stop_timeout{30000};
    std::chrono::milliseconds lookupd_poll_interval{60000};
    double lookupd_poll_jitter = 0.3;  // fraction of the interval, first tick only
    std::chrono::milliseconds backoff_multiplier{1000};
    std::chrono::milliseconds max_backoff_duration{120000};  // 0: no consumer-wide backoff
    int msg_timeout_ms = 0;  // 0: qd's default
    // How long qd may hold deliveries to batch them into one write (IDENTIFY
    // output_buffer_timeout): 0 keeps qd's default (250 ms), -1 writes without waiting
    // (lowest latency), else within qd's [min, max] output buffer timeout.
    int output_buffer_timeout_ms = 0;
  };
  using Handler = std::function<bool(Delivery&)>;

  // Validates nothing yet; ConnectToQd reports bad names.
  Consumer(std::string topic, std::string channel, Handler handler, Options options);
  Consumer(std::string topic, std::string channel, Handler handler);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Dials qd at address ("host:port"), IDENTIFY, SUB; waits for SUB's answer and reports
  // it (an invalid topic/channel name, connection refused, ...). On success the connection
  // is kept (redialled when it drops) until Stop().
  Status ConnectToQd(const std::string& address);

  // Adds a qlookupd HTTP address ("host:port" or "http://host:port"), queries it now and
  // connects to the producers it lists (see Discovery above). Returns the first query's
  // outcome; the lookupd is kept and polled even when that failed (it may come up later).
  Status ConnectToLookupd(const std::string& http_address);

  void Stop();

  struct Stats {
    uint64_t received = 0;
    uint64_t finished = 0;
    uint64_t requeued = 0;
    int connections = 0;
    int backoff_level = 0;  // 0: not backing off
    bool backoff_paused = false;  // RDY 0 everywhere right now
  };
  Stats stats() const;

 private:
  friend class Delivery;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace q
