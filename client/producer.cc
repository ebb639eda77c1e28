#include "q/producer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "client/batch.h"
#include "client/command.h"
#include "client/connection.h"
#include "client/reconnect_backoff.h"
#include "common/log.h"
#include "common/names.h"

namespace q {

namespace {
using Clock = std::chrono::steady_clock;

struct Request {
  Publication pub;
  Producer::Completion done;
  Clock::time_point enqueued;
  Clock::time_point deadline;
};
using RequestPtr = std::unique_ptr<Request>;

// Completions collected under the lock and run after it is released (a callback may publish).
struct Completions {
  std::vector<std::pair<RequestPtr, Status>> items;
  void Add(RequestPtr r, Status s) { items.emplace_back(std::move(r), std::move(s)); }
  void Run() {
    for (auto& [req, status] : items) {
      if (req->done) req->done(status);
    }
    items.clear();
  }
};
}  // namespace

struct Producer::Impl {
  Impl(std::string a, Options o) : address(std::move(a)), options(std::move(o)) {}

  const std::string address;
  const Options options;

  std::mutex mu;
  std::condition_variable cv;             // wakes the I/O thread
  std::condition_variable connect_cv;     // wakes Connect() callers
  std::deque<RequestPtr> queue;           // not yet sent
  // The current connection and what was sent on it. A connection whose reader saw an error
  // frame or EOF is no longer current (new publishes dial a new one) even while its reader is
  // still failing the commands that were sent on it.
  struct Link {
    std::shared_ptr<Connection> conn;
    std::deque<std::vector<RequestPtr>> in_flight;  // one entry per sent command, in order
  };
  std::shared_ptr<Link> link;
  std::thread reader;
  std::thread io;
  bool stopping = false;
  bool stopped = false;
  bool connect_requested = false;
  uint64_t dial_attempts = 0;
  Status last_dial_status;
  ReconnectBackoff backoff{options.reconnect_backoff_min, options.reconnect_backoff_max};

  void Enqueue(Publication pub, Completion done) {
    // Checked here because qd splits the command line on spaces: "PUB a b" would publish to
    // topic "a" instead of failing.
    std::string invalid;
    if (!IsValidTopicName(pub.topic)) invalid = "invalid topic name \"" + pub.topic + "\"";
    if (pub.bodies.empty()) invalid = "no messages to publish";
    for (const auto& b : pub.bodies) {
      if (b.empty()) invalid = "empty message body";
    }
    if (!invalid.empty()) {
      if (done) done(Status::Error(invalid));
      return;
    }
    auto req = std::make_unique<Request>();
    req->pub = std::move(pub);
    req->done = std::move(done);
    req->enqueued = Clock::now();
    req->deadline = req->enqueued + options.publish_timeout;
    {
      std::lock_guard lock(mu);
      if (!stopping) {
        queue.push_back(std::move(req));
        cv.notify_all();
        return;
      }
    }
    if (req->done) req->done(Status::Error("producer stopped"));
  }

  void FailExpired(Completions& out) {
    auto now = Clock::now();
    while (!queue.empty() && queue.front()->deadline <= now) {
      std::string why = "publish timed out";
      if (!last_dial_status.ok()) why += " (" + last_dial_status.message() + ")";
      out.Add(std::move(queue.front()), Status::Error(why));
      queue.pop_front();
    }
  }

  void Dial(std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    if (reader.joinable()) reader.join();  // the previous connection's reader has finished
    Status status;
    IdentifyOptions id{.connection = options,
                       .msg_timeout_ms = 0,
                       .output_buffer_timeout_ms = 0,
                       .tx_group = {}};
    std::shared_ptr<Connection> c = Connection::Dial(address, id, &status);
    lock.lock();
    ++dial_attempts;
    last_dial_status = status;
    connect_requested = false;
    if (!c) {
      LOG_WARN("PRODUCER(", address, "): ", status.message(), "; retrying in ", backoff.Failed().count(), "ms");
    } else {
      backoff.Connected();
      c->SetReadTimeout(std::chrono::milliseconds(0));
      link = std::make_shared<Link>();
      link->conn = c;
      reader = std::thread([this, l = link] { ReadLoop(l); });
    }
    connect_cv.notify_all();
  }

  void IoLoop() {
    std::unique_lock lock(mu);
    Clock::time_point stop_deadline{};
    while (true) {
      Completions done;
      FailExpired(done);
      if (!done.items.empty()) {
        lock.unlock();
        done.Run();
        lock.lock();
        continue;
      }
      if (stopping && queue.empty()) {
        if (stop_deadline == Clock::time_point{}) stop_deadline = Clock::now() + options.publish_timeout;
        if (!link || link->in_flight.empty() || Clock::now() >= stop_deadline) break;
        cv.wait_until(lock, stop_deadline);
        continue;
      }
      if (queue.empty() && !connect_requested) {
        cv.wait(lock);
        continue;
      }
      if (!link) {
        auto now = Clock::now();
        if (now < backoff.due() && !connect_requested) {
          auto until = backoff.due();
          if (!queue.empty()) until = std::min(until, queue.front()->deadline);
          cv.wait_until(lock, until);
          continue;
        }
        Dial(lock);
        continue;
      }
      if (queue.empty()) {
        connect_requested = false;
        continue;
      }
      // Batching window: let more PUBs arrive, unless stopping or a batch is already full.
      if (options.batch_window.count() > 0 && !stopping &&
          queue.size() < options.max_batch_messages) {
        auto until = queue.front()->enqueued + options.batch_window;
        if (Clock::now() < until) {
          cv.wait_until(lock, until);
          continue;
        }
      }
      std::vector<RequestPtr> take(std::make_move_iterator(queue.begin()),
                                   std::make_move_iterator(queue.end()));
      queue.clear();
      std::vector<const Publication*> pubs;
      pubs.reserve(take.size());
      for (auto& r : take) pubs.push_back(&r->pub);
      std::string out;
      size_t i = 0;
      while (i < take.size()) {
        size_t n = BatchPrefix(pubs.data() + i, pubs.size() - i, options.batch_window.count() > 0,
                               options.max_batch_bytes, options.max_batch_messages);
        AppendBatch(out, pubs.data() + i, n);
        std::vector<RequestPtr> cmd(std::make_move_iterator(take.begin() + static_cast<long>(i)),
                                    std::make_move_iterator(take.begin() + static_cast<long>(i + n)));
        link->in_flight.push_back(std::move(cmd));
        i += n;
      }
      auto c = link->conn;
      lock.unlock();
      // A failed write shuts the socket; the reader then fails everything in flight.
      if (!c->Write(out)) c->Shutdown();
      lock.lock();
    }
    // Close: the reader fails whatever is still in flight.
    if (link) link->conn->Shutdown();
    Completions rest;
    for (auto& r : queue) rest.Add(std::move(r), Status::Error("producer stopped"));
    queue.clear();
    lock.unlock();
    rest.Run();
    if (reader.joinable()) reader.join();
  }

  void ReadLoop(std::shared_ptr<Link> l) {
    Connection* c = l->conn.get();
    wire::FrameType type;
    std::string_view data;
    while (c->ReadFrame(&type, &data)) {
      if (c->AnswerHeartbeat(type, data) || type == wire::FrameType::kMessage) continue;
      std::vector<RequestPtr> cmd;
      {
        std::lock_guard lock(mu);
        if (type == wire::FrameType::kError && link == l) {
          // Every error a publisher can get is fatal: qd closes the connection after it.
          link.reset();
          c->Shutdown();
        }
        if (l->in_flight.empty()) {
          LOG_WARN("PRODUCER(", address, "): unexpected frame: ", data);
          continue;
        }
        cmd = std::move(l->in_flight.front());
        l->in_flight.pop_front();
        cv.notify_all();
      }
      Status status = (type == wire::FrameType::kResponse && data == wire::kOk)
                          ? Status::Ok()
                          : Status::Error(std::string(data));
      for (auto& r : cmd) {
        if (r->done) r->done(status);
      }
    }
    Completions failed;
    {
      std::lock_guard lock(mu);
      if (link == l) link.reset();
      for (auto& cmd : l->in_flight) {
        for (auto& r : cmd) {
          failed.Add(std::move(r), Status::Error("connection to " + address + " closed"));
        }
      }
      l->in_flight.clear();
      cv.notify_all();
    }
    failed.Run();
  }
};

Producer::Producer(std::string address) : Producer(std::move(address), Options()) {}

Producer::Producer(std::string address, Options options)
    : impl_(std::make_unique<Impl>(std::move(address), std::move(options))) {
  impl_->io = std::thread([this] { impl_->IoLoop(); });
}

Producer::~Producer() { Stop(); }

const std::string& Producer::address() const { return impl_->address; }

Status Producer::Connect() {
  std::unique_lock lock(impl_->mu);
  if (impl_->link) return Status::Ok();
  if (impl_->stopping) return Status::Error("producer stopped");
  uint64_t attempts = impl_->dial_attempts;
  impl_->connect_requested = true;
  impl_->cv.notify_all();
  impl_->connect_cv.wait(lock, [&] { return impl_->dial_attempts != attempts || impl_->stopping; });
  if (impl_->link) return Status::Ok();
  return impl_->last_dial_status.ok() ? Status::Error("connection closed") : impl_->last_dial_status;
}

namespace {
std::future<Status> ToFuture(std::function<void(Producer::Completion)> start) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> f = promise->get_future();
  start([promise](const Status& s) { promise->set_value(s); });
  return f;
}
}  // namespace

void Producer::PublishAsync(std::string topic, std::string body, Completion done) {
  Publication p;
  p.kind = Publication::Kind::kPub;
  p.topic = std::move(topic);
  p.bodies.push_back(std::move(body));
  impl_->Enqueue(std::move(p), std::move(done));
}

void Producer::MultiPublishAsync(std::string topic, std::vector<std::string> bodies,
                                 Completion done) {
  Publication p;
  p.kind = Publication::Kind::kMpub;
  p.topic = std::move(topic);
  p.bodies = std::move(bodies);
  impl_->Enqueue(std::move(p), std::move(done));
}

void Producer::DeferredPublishAsync(std::string topic, std::chrono::milliseconds delay,
                                    std::string body, Completion done) {
  Publication p;
  p.kind = Publication::Kind::kDpub;
  p.topic = std::move(topic);
  p.bodies.push_back(std::move(body));
  p.delay_ms = delay.count();
  impl_->Enqueue(std::move(p), std::move(done));
}

std::future<Status> Producer::Publish(std::string topic, std::string body) {
  return ToFuture([&](Completion done) {
    PublishAsync(std::move(topic), std::move(body), std::move(done));
  });
}

std::future<Status> Producer::MultiPublish(std::string topic, std::vector<std::string> bodies) {
  return ToFuture([&](Completion done) {
    MultiPublishAsync(std::move(topic), std::move(bodies), std::move(done));
  });
}

std::future<Status> Producer::DeferredPublish(std::string topic, std::chrono::milliseconds delay,
                                              std::string body) {
  return ToFuture([&](Completion done) {
    DeferredPublishAsync(std::move(topic), delay, std::move(body), std::move(done));
  });
}

void Producer::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stopping = true;
    impl_->cv.notify_all();
    impl_->connect_cv.notify_all();
  }
  if (impl_->io.joinable()) impl_->io.join();
}

}  // namespace q
