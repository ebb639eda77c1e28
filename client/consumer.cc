#include "q/consumer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "client/command.h"
#include "client/connection.h"
#include "client/consumer_backoff.h"
#include "client/reconnect_backoff.h"
#include "client/lookupd_query.h"
#include "common/log.h"
#include "common/names.h"
#include "q/rdy.h"

namespace q {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

struct ConsumerCounters {
  std::atomic<uint64_t> received{0}, finished{0}, requeued{0};
};

// One subscribed connection. Owned by Consumer::Impl (conns) and shared with the messages it
// delivered, so a late FIN after a disconnect writes to a shut socket instead of freed memory.
struct ConsumerConn {
  std::shared_ptr<Connection> conn;
  ConsumerCounters* counters = nullptr;
  std::function<void(bool success)> on_outcome;  // feeds the consumer's backoff
  int rdy = 0;               // last RDY sent; guarded by Impl::rdy_mu
  bool close_wait = false;   // CLOSE_WAIT received; guarded by Impl::mu
  bool closed = false;       // reader finished; guarded by Impl::mu
  std::thread reader;
};

namespace {
ConsumerConn& ConnOf(const std::shared_ptr<void>& p) { return *static_cast<ConsumerConn*>(p.get()); }
}  // namespace

struct Consumer::Impl {
  Impl(std::string t, std::string c, Handler h, Options o)
      : topic(std::move(t)),
        channel(std::move(c)),
        handler(std::move(h)),
        options(std::move(o)),
        backoff(options.backoff_multiplier, options.max_backoff_duration),
        random(std::random_device{}()) {}

  const std::string topic;
  const std::string channel;
  const Handler handler;
  const Options options;

  std::mutex mu;
  std::condition_variable cv;  // manager wakeups, CLOSE_WAIT/closed changes
  std::map<std::string, std::shared_ptr<ConsumerConn>> conns;  // by address
  std::map<std::string, ReconnectBackoff> redials;             // dropped, to redial
  std::vector<std::shared_ptr<ConsumerConn>> finished_conns;   // readers to join
  bool stopping = false;
  bool stopped = false;
  unsigned rotation = 0;
  std::thread manager;

  // Discovery, guarded by mu.
  std::set<std::string> pinned;          // ConnectToQd addresses: redialled when they drop
  std::vector<std::string> lookupds;     // polled round-robin
  size_t next_lookupd = 0;
  Clock::time_point next_lookup = Clock::time_point::max();
  bool lookup_now = false;               // a connection closed: ask lookupd soon
  Clock::time_point last_lookup{};

  // Backoff, guarded by mu.
  ConsumerBackoff backoff;
  std::string probe_address;             // the connection holding RDY 1 while probing
  std::mt19937_64 random;

  std::mutex rdy_mu;  // serialises RDY updates so they reach each qd in order

  std::mutex work_mu;
  std::condition_variable work_cv;  // handler threads: new work or exit
  std::condition_variable idle_cv;  // Stop(): work drained
  std::deque<std::unique_ptr<Delivery>> work;
  int running = 0;
  bool pool_exit = false;
  std::vector<std::thread> pool;

  ConsumerCounters counters;

  Status Dial(const std::string& address, std::shared_ptr<ConsumerConn>* out) {
    if (!IsValidTopicName(topic)) return Status::Error("invalid topic name \"" + topic + "\"");
    if (!IsValidChannelName(channel)) {
      return Status::Error("invalid channel name \"" + channel + "\"");
    }
    Status status;
    IdentifyOptions id{.connection = options,
                       .msg_timeout_ms = options.msg_timeout_ms,
                       .output_buffer_timeout_ms = options.output_buffer_timeout_ms,
                       .tx_group = {}};
    std::shared_ptr<Connection> c = Connection::Dial(address, id, &status);
    if (!c) return status;
    std::string sub;
    command::AppendSub(sub, topic, channel);
    if (!c->Write(sub)) return Status::Error("SUB to " + address + ": write failed");
    wire::FrameType type;
    std::string_view data;
    while (true) {
      if (!c->ReadFrame(&type, &data)) {
        return Status::Error("SUB to " + address + ": connection closed");
      }
      if (type == wire::FrameType::kResponse && data == wire::kHeartbeat) continue;
      break;
    }
    if (type != wire::FrameType::kResponse || data != wire::kOk) {
      return Status::Error("SUB to " + address + ": " + std::string(data));
    }
    c->SetReadTimeout(std::chrono::milliseconds(0));
    auto cc = std::make_shared<ConsumerConn>();
    cc->conn = std::move(c);
    cc->counters = &counters;
    cc->on_outcome = [this](bool success) { OnOutcome(success); };
    *out = cc;
    return Status::Ok();
  }

  // Registers a subscribed connection and starts its reader (false if stopping/duplicate).
  bool Add(const std::string& address, std::shared_ptr<ConsumerConn> cc) {
    {
      std::lock_guard lock(mu);
      if (stopping || conns.count(address) != 0) return false;
      conns[address] = cc;
      redials.erase(address);
      cc->reader = std::thread([this, cc] { ReadLoop(cc); });
    }
    Rebalance();
    LOG_INFO("CONSUMER(", topic, "/", channel, "): connected to ", address);
    return true;
  }

  void Rebalance() {
    std::lock_guard rdy_lock(rdy_mu);
    std::vector<std::shared_ptr<ConsumerConn>> live;
    std::vector<int> rdy;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      for (auto& [addr, cc] : conns) live.push_back(cc);
      rdy = RdyFor(live);
    }
    // Decreases first, then increases: qd never sees a sum above max_in_flight, even while
    // RDY 1 moves from one connection to another.
    for (bool raising : {false, true}) {
      for (size_t i = 0; i < live.size(); ++i) {
        if (live[i]->rdy == rdy[i] || (rdy[i] > live[i]->rdy) != raising) continue;
        live[i]->rdy = rdy[i];
        std::string out;
        command::AppendRdy(out, rdy[i]);
        live[i]->conn->Write(out);
      }
    }
  }

  // The RDY each of live (in conns order) should have now. Requires mu.
  std::vector<int> RdyFor(const std::vector<std::shared_ptr<ConsumerConn>>& live) {
    std::vector<int> rdy(live.size(), 0);
    switch (backoff.mode()) {
      case ConsumerBackoff::Mode::kPaused:
        return rdy;
      case ConsumerBackoff::Mode::kProbing: {
        if (live.empty()) return rdy;
        size_t probe = live.size();
        for (size_t i = 0; i < live.size(); ++i) {
          if (live[i]->conn->address() == probe_address) probe = i;
        }
        if (probe == live.size()) {
          probe = std::uniform_int_distribution<size_t>(0, live.size() - 1)(random);
          probe_address = live[probe]->conn->address();
        }
        rdy[probe] = 1;
        return rdy;
      }
      case ConsumerBackoff::Mode::kNormal:
        break;
    }
    int max_rdy = 2500;
    for (auto& cc : live) max_rdy = std::min(max_rdy, cc->conn->max_rdy_count());
    return DistributeRdy(options.max_in_flight, static_cast<int>(live.size()), max_rdy, rotation);
  }

  void OnOutcome(bool success) {
    bool changed;
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      double r = std::uniform_real_distribution<double>(0.0, 1.0)(random);
      changed = backoff.OnOutcome(success, Clock::now(), r);
      if (changed) {
        if (backoff.mode() == ConsumerBackoff::Mode::kPaused) {
          LOG_WARN("CONSUMER(", topic, "/", channel, "): backing off (level ", backoff.level(),
                   ")");
        } else if (backoff.mode() == ConsumerBackoff::Mode::kNormal) {
          LOG_INFO("CONSUMER(", topic, "/", channel, "): backoff complete");
        }
        cv.notify_all();  // the manager ends the pause
      }
    }
    if (changed) Rebalance();
  }

  // Asks the next lookupd for the topic's producers and connects to the new ones. Called
  // without mu held.
  Status Lookup(const std::string& lookupd) {
    std::vector<std::string> producers;
    Status s = QueryLookupd(lookupd, topic, options.dial_timeout, &producers);
    if (!s.ok()) {
      LOG_WARN("CONSUMER(", topic, "/", channel, "): ", s.message());
      return s;
    }
    for (const auto& address : producers) {
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        if (conns.count(address) != 0 || redials.count(address) != 0) continue;
      }
      std::shared_ptr<ConsumerConn> cc;
      Status d = Dial(address, &cc);
      if (!d.ok()) {
        LOG_WARN("CONSUMER(", topic, "/", channel, "): ", d.message());
        continue;
      }
      if (!Add(address, cc)) cc->conn->Shutdown();
    }
    return Status::Ok();
  }

  void ReadLoop(std::shared_ptr<ConsumerConn> cc) {
    Connection& c = *cc->conn;
    wire::FrameType type;
    std::string_view data;
    while (c.ReadFrame(&type, &data)) {
      if (type == wire::FrameType::kMessage) {
        auto decoded = wire::DecodeMessage(data);
        if (!decoded) {
          LOG_ERROR("CONSUMER(", c.address(), "): malformed message frame");
          break;
        }
        auto m = std::make_unique<Delivery>();
        m->id_.assign(decoded->id.view());
        m->timestamp_ = decoded->timestamp;
        m->attempts_ = decoded->attempts;
        m->body_.assign(decoded->body);
        m->address_ = c.address();
        m->conn_ = cc;
        counters.received.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(work_mu);
        work.push_back(std::move(m));
        work_cv.notify_one();
      } else if (type == wire::FrameType::kResponse) {
        if (!c.AnswerHeartbeat(type, data) && data == wire::kCloseWait) {
          std::lock_guard lock(mu);
          cc->close_wait = true;
          cv.notify_all();
        }
      } else {
        LOG_WARN("CONSUMER(", c.address(), "): ", data);
      }
    }
    bool redial = false;
    {
      std::lock_guard lock(mu);
      cc->closed = true;
      auto it = conns.find(c.address());
      if (it != conns.end() && it->second == cc) {
        conns.erase(it);
        finished_conns.push_back(cc);
        if (!stopping) {
          if (pinned.count(c.address()) != 0) {
            auto r = redials.try_emplace(c.address(), options.reconnect_backoff_min, options.reconnect_backoff_max);
            r.first->second.Dropped();
          } else {
            lookup_now = true;  // discovered: comes back only if lookupd still lists it
          }
          redial = true;
        }
      }
      cv.notify_all();
    }
    if (redial) {
      LOG_WARN("CONSUMER(", c.address(), "): connection closed; redialling");
      Rebalance();
    }
  }

  std::chrono::milliseconds RequeueDelay(uint16_t attempts) const {
    auto d = options.requeue_delay * std::max<int>(1, attempts);
    return std::min(d, options.max_requeue_delay);
  }

  void HandlerLoop() {
    // Connections this thread buffered FINs on since its last flush (usually one or two).
    std::vector<std::shared_ptr<void>> dirty;
    while (true) {
      std::unique_ptr<Delivery> m;
      {
        std::unique_lock lock(work_mu);
        work_cv.wait(lock, [&] { return !work.empty() || pool_exit; });
        if (work.empty()) return;
        m = std::move(work.front());
        work.pop_front();
        ++running;
      }
      if (options.max_attempts > 0 && m->attempts() > options.max_attempts) {
        LOG_WARN("CONSUMER(", topic, "/", channel, "): message ", m->id(), " attempted ",
                 m->attempts(), " times, giving up");
        m->Finish();
      } else {
        bool ok = false;
        try {
          ok = handler(*m);
        } catch (const std::exception& e) {
          LOG_ERROR("CONSUMER(", topic, "/", channel, "): handler threw: ", e.what());
        } catch (...) {
          LOG_ERROR("CONSUMER(", topic, "/", channel, "): handler threw");
        }
        if (!m->responded()) {
          if (ok) {
            m->Finish();
          } else {
            m->Requeue(RequeueDelay(m->attempts()));
          }
        }
      }
      if (std::find(dirty.begin(), dirty.end(), m->conn_) == dirty.end()) dirty.push_back(m->conn_);
      m.reset();
      std::unique_lock lock(work_mu);
      if (work.empty()) {
        // Nothing more to handle right now: the buffered FINs go out (before Stop() can see
        // this thread idle and close the connections).
        lock.unlock();
        for (auto& c : dirty) ConnOf(c).conn->Flush();
        dirty.clear();
        lock.lock();
      }
      --running;
      if (work.empty() && running == 0) idle_cv.notify_all();
    }
  }

  void JoinFinished() {
    std::vector<std::shared_ptr<ConsumerConn>> done;
    {
      std::lock_guard lock(mu);
      done.swap(finished_conns);
    }
    for (auto& cc : done) {
      if (cc->reader.joinable()) cc->reader.join();
    }
  }

  // When the next lookupd round is due: the poll interval, or soon after a connection closed —
  // but not sooner than reconnect_backoff_min after the last round, so a qd that accepts and
  // drops connections at once does not make the consumer spin. Requires mu.
  Clock::time_point LookupDue() const {
    if (!lookup_now) return next_lookup;
    return std::min(next_lookup, last_lookup + options.reconnect_backoff_min);
  }

  void ManagerLoop() {
    auto next_rotate = Clock::now() + options.rdy_rotate_interval;
    std::unique_lock lock(mu);
    while (!stopping) {
      auto until = std::min(next_rotate, LookupDue());
      for (auto& [addr, r] : redials) until = std::min(until, r.due());
      if (auto resume = backoff.resume_at()) until = std::min(until, *resume);
      cv.wait_until(lock, until);
      if (stopping) break;
      lock.unlock();
      JoinFinished();
      lock.lock();
      auto now = Clock::now();
      if (backoff.Resume(now)) {
        probe_address.clear();  // a new random connection probes
        lock.unlock();
        Rebalance();
        lock.lock();
      }
      if (!lookupds.empty() && now >= LookupDue()) {
        lookup_now = false;
        last_lookup = now;
        if (now >= next_lookup) next_lookup = now + options.lookupd_poll_interval;
        std::string lookupd = lookupds[next_lookupd++ % lookupds.size()];
        lock.unlock();
        Lookup(lookupd);
        lock.lock();
        continue;  // time has passed; recompute
      }
      if (now >= next_rotate) {
        next_rotate = now + options.rdy_rotate_interval;
        if (static_cast<int>(conns.size()) > options.max_in_flight &&
            backoff.mode() == ConsumerBackoff::Mode::kNormal) {
          ++rotation;
          lock.unlock();
          Rebalance();
          lock.lock();
        }
      }
      std::vector<std::string> due;
      for (auto& [addr, r] : redials) {
        if (r.due() <= now) due.push_back(addr);
      }
      for (auto& addr : due) {
        lock.unlock();
        std::shared_ptr<ConsumerConn> cc;
        Status s = Dial(addr, &cc);
        bool added = s.ok() && Add(addr, cc);
        if (s.ok() && !added) cc->conn->Shutdown();
        lock.lock();
        auto it = redials.find(addr);
        if (!s.ok() && it != redials.end()) {
          LOG_WARN("CONSUMER(", topic, "/", channel, "): ", s.message(), "; retrying in ",
                   it->second.Failed().count(), "ms");
        }
      }
    }
  }

  void Stop() {
    std::vector<std::shared_ptr<ConsumerConn>> live;
    {
      std::lock_guard lock(mu);
      if (stopped) return;
      stopped = true;
      stopping = true;
      redials.clear();
      for (auto& [addr, cc] : conns) live.push_back(cc);
      cv.notify_all();
    }
    if (manager.joinable()) manager.join();
    {
      // No RDY after this point: Rebalance() sees stopping.
      std::lock_guard rdy_lock(rdy_mu);
      for (auto& cc : live) {
        std::string cls;
        command::AppendCls(cls);
        cc->conn->Write(cls);
      }
    }
    auto deadline = Clock::now() + options.stop_timeout;
    {
      // CLOSE_WAIT comes after every message qd sent before it, so once it arrived on every
      // connection the work queue holds all that will ever arrive.
      std::unique_lock lock(mu);
      cv.wait_until(lock, deadline, [&] {
        return std::all_of(live.begin(), live.end(),
                           [](auto& cc) { return cc->close_wait || cc->closed; });
      });
    }
    {
      std::unique_lock lock(work_mu);
      bool drained =
          idle_cv.wait_until(lock, deadline, [&] { return work.empty() && running == 0; });
      if (!drained) {
        LOG_WARN("CONSUMER(", topic, "/", channel, "): stop timeout; ", work.size(),
                 " messages left unhandled");
        work.clear();
      }
      pool_exit = true;
      work_cv.notify_all();
    }
    for (auto& t : pool) t.join();
    for (auto& cc : live) cc->conn->Shutdown();
    for (auto& cc : live) {
      if (cc->reader.joinable()) cc->reader.join();
    }
    JoinFinished();
  }
};


void Delivery::Answer(bool success, bool fin, std::chrono::milliseconds delay, bool backoff) {
  if (responded_) return;
  responded_ = true;
  ConsumerConn& cc = ConnOf(conn_);
  // Like go-nsq, RDY changes go out before the REQ: qd must not redeliver a requeued message
  // at the old RDY before the pause takes effect.
  if (backoff && cc.on_outcome) cc.on_outcome(success);
  std::string out;
  if (fin) {
    // The handler loop flushes once no more work is waiting: one send() per batch of FINs.
    command::AppendFin(out, id_);
    cc.conn->Buffer(out);
  } else {
    command::AppendReq(out, id_, std::max<int64_t>(0, delay.count()));
    cc.conn->Write(out);
  }
  (fin ? cc.counters->finished : cc.counters->requeued).fetch_add(1, std::memory_order_relaxed);
}

void Delivery::Finish() { Answer(true, true, {}, true); }

void Delivery::Requeue(std::chrono::milliseconds delay) { Answer(false, false, delay, true); }

void Delivery::RequeueWithoutBackoff(std::chrono::milliseconds delay) {
  Answer(false, false, delay, false);
}

void Delivery::Touch() {
  if (responded_) return;
  std::string out;
  command::AppendTouch(out, id_);
  ConnOf(conn_).conn->Write(out);
}

Consumer::Consumer(std::string topic, std::string channel, Handler handler)
    : Consumer(std::move(topic), std::move(channel), std::move(handler), Options()) {}

Consumer::Consumer(std::string topic, std::string channel, Handler handler, Options options)
    : impl_(std::make_shared<Impl>(std::move(topic), std::move(channel), std::move(handler),
                                   std::move(options))) {
  int n = std::max(1, impl_->options.concurrency);
  for (int i = 0; i < n; ++i) impl_->pool.emplace_back([impl = impl_.get()] { impl->HandlerLoop(); });
  impl_->manager = std::thread([impl = impl_.get()] { impl->ManagerLoop(); });
}

Consumer::~Consumer() { Stop(); }

Status Consumer::ConnectToQd(const std::string& address) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Status::Error("consumer stopped");
    if (impl_->conns.count(address) != 0) return Status::Error("already connected to " + address);
  }
  std::shared_ptr<ConsumerConn> cc;
  Status s = impl_->Dial(address, &cc);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(impl_->mu);
    impl_->pinned.insert(address);
  }
  if (!impl_->Add(address, cc)) {
    cc->conn->Shutdown();
    return Status::Error("consumer stopped or already connected to " + address);
  }
  return Status::Ok();
}

Status Consumer::ConnectToLookupd(const std::string& http_address) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Status::Error("consumer stopped");
    if (std::find(impl_->lookupds.begin(), impl_->lookupds.end(), http_address) !=
        impl_->lookupds.end()) {
      return Status::Error("already using lookupd " + http_address);
    }
    impl_->lookupds.push_back(http_address);
    if (impl_->lookupds.size() == 1) {
      // go-nsq spreads its consumers' polls: the first tick comes after interval × (1 + jitter).
      double jitter = std::uniform_real_distribution<double>(
          0.0, std::max(0.0, impl_->options.lookupd_poll_jitter))(impl_->random);
      auto interval = impl_->options.lookupd_poll_interval;
      impl_->next_lookup =
          Clock::now() + interval +
          std::chrono::duration_cast<std::chrono::milliseconds>(interval * jitter);
      impl_->cv.notify_all();
    }
  }
  return impl_->Lookup(http_address);
}

void Consumer::Stop() { impl_->Stop(); }

Consumer::Stats Consumer::stats() const {
  Stats s;
  s.received = impl_->counters.received.load();
  s.finished = impl_->counters.finished.load();
  s.requeued = impl_->counters.requeued.load();
  std::lock_guard lock(impl_->mu);
  s.connections = static_cast<int>(impl_->conns.size());
  s.backoff_level = impl_->backoff.level();
  s.backoff_paused = impl_->backoff.mode() == ConsumerBackoff::Mode::kPaused;
  return s;
}

}  // namespace q
