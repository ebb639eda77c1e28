#include "q/transaction_producer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "client/check_back.h"
#include "client/command.h"
#include "client/connection.h"
#include "client/reconnect_backoff.h"
#include "client/tx_names.h"
#include "common/log.h"
#include "common/names.h"

namespace q {

namespace {
using Clock = std::chrono::steady_clock;

// One command sent, waiting for its response or error frame.
struct Pending {
  bool done = false;
  bool answered = false;  // false: the connection closed (or Stop) before an answer
  wire::FrameType type = wire::FrameType::kResponse;
  std::string text;  // the frame's data, or why there is no answer
};
using PendingPtr = std::shared_ptr<Pending>;

// The result of one command, as Send() needs to tell the cases apart.
struct Answer {
  enum class Kind { kOk, kError, kNoAnswer } kind = Kind::kNoAnswer;
  std::string text;
  Status ToStatus() const { return kind == Kind::kOk ? Status::Ok() : Status::Error(text); }
};

// Errors after which qd keeps the connection open (docs/transactions.md, "Errors").
bool IsNonFatal(std::string_view error) {
  for (std::string_view code : {"E_TX_NO_GROUP", "E_TX_EXISTS", "E_TX_UNKNOWN", "E_TX_DECIDED"}) {
    if (error.substr(0, error.find(' ')) == code) return true;
  }
  return false;
}

const char* Verb(TransactionState s) {
  switch (s) {
    case TransactionState::kCommit:
      return "TXCOMMIT";
    case TransactionState::kRollback:
      return "TXROLLBACK";
    case TransactionState::kUnknown:
      break;
  }
  return "TXUNKNOWN";
}
}  // namespace

struct TransactionProducer::Impl {
  Impl(std::string a, std::string g, CheckFunction c, Options o)
      : address(std::move(a)), group(std::move(g)), check(std::move(c)), options(std::move(o)) {}

  const std::string address;
  const std::string group;
  const CheckFunction check;
  const Options options;

  // A live connection and the commands sent on it, oldest first (V2 answers in order).
  struct Link {
    std::shared_ptr<Connection> conn;
    std::deque<PendingPtr> in_flight;
  };

  std::mutex mu;
  std::condition_variable cv;  // link changes, answers, dial attempts, check-backs, stop
  std::shared_ptr<Link> link;
  bool stopping = false;
  bool stopped = false;  // Stop() was called (it joins the threads once)
  bool connect_requested = false;
  uint64_t dial_attempts = 0;
  Status last_dial_status = Status::Error("not connected yet");
  std::deque<CheckBack> checks;  // waiting for the check function
  // Held from queueing a command to having written it, so in_flight order is write order.
  std::mutex send_mu;
  std::thread io;       // dials and reads
  std::thread checker;  // runs the check function

  Status Validate(const std::string& topic, const std::string& txid) const {
    if (!IsValidTxGroup(group)) return Status::Error("invalid tx_group \"" + group + "\"");
    if (!IsValidTopicName(topic)) return Status::Error("invalid topic name \"" + topic + "\"");
    if (!IsValidTxid(txid)) return Status::Error("invalid txid \"" + txid + "\"");
    return Status::Ok();
  }

  // Sends bytes once on the current connection (waiting for one until deadline) and waits
  // for its answer until deadline.
  Answer SendOnce(const std::string& bytes, Clock::time_point deadline) {
    auto p = std::make_shared<Pending>();
    std::shared_ptr<Connection> conn;
    {
      std::unique_lock send_lock(send_mu);
      {
        std::unique_lock lock(mu);
        cv.wait_until(lock, deadline, [&] { return link || stopping; });
        if (stopping) return {Answer::Kind::kNoAnswer, "producer stopped"};
        if (!link) {
          return {Answer::Kind::kNoAnswer,
                  "timed out waiting for a connection (" + last_dial_status.message() + ")"};
        }
        link->in_flight.push_back(p);
        conn = link->conn;
      }
      // A failed write shuts the socket; the reader then fails what is in flight.
      if (!conn->Write(bytes)) conn->Shutdown();
    }
    std::unique_lock lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return p->done; })) {
      return {Answer::Kind::kNoAnswer, "no answer from " + address + " in time"};
    }
    if (!p->answered) return {Answer::Kind::kNoAnswer, p->text};
    if (p->type == wire::FrameType::kResponse && p->text == wire::kOk) return {Answer::Kind::kOk, ""};
    return {Answer::Kind::kError, p->text};
  }

  // SendOnce again after a lost connection: every TX command is idempotent in qd.
  Answer Command(const std::string& bytes) {
    auto deadline = Clock::now() + options.command_timeout;
    while (true) {
      Answer a = SendOnce(bytes, deadline);
      if (a.kind != Answer::Kind::kNoAnswer || Clock::now() >= deadline) return a;
      std::lock_guard lock(mu);
      if (stopping) return a;
    }
  }

  Answer Decide(TransactionState state, const std::string& topic, const std::string& txid) {
    std::string out;
    command::AppendTxDecision(out, Verb(state), topic, txid);
    return Command(out);
  }

  Result Send(const std::string& topic, const std::string& body, const LocalTransaction& local,
              std::string txid) {
    Result r;
    r.txid = txid.empty() ? tx::NewTxid() : std::move(txid);
    r.outcome = Outcome::kNotPublished;
    r.status = Validate(topic, r.txid);
    if (r.status.ok() && body.empty()) r.status = Status::Error("empty message body");
    if (!r.status.ok()) return r;

    std::string out;
    command::AppendTxPub(out, topic, r.txid, body);
    Answer pub = Command(out);
    if (pub.kind != Answer::Kind::kOk) {
      r.status = Status::Error("TXPUB: " + pub.text);
      return r;
    }

    TransactionState state = TransactionState::kUnknown;
    r.outcome = Outcome::kPending;
    try {
      state = local(r.txid);
    } catch (const std::exception& e) {
      r.status = Status::Error(std::string("local transaction threw: ") + e.what());
      return r;
    } catch (...) {
      r.status = Status::Error("local transaction threw");
      return r;
    }
    if (state == TransactionState::kUnknown) return r;

    Answer decision = Decide(state, topic, r.txid);
    switch (decision.kind) {
      case Answer::Kind::kOk:
        r.outcome = state == TransactionState::kCommit ? Outcome::kCommitted : Outcome::kRolledBack;
        break;
      case Answer::Kind::kError:
        r.outcome = Outcome::kRefused;
        r.status = Status::Error(std::string(Verb(state)) + ": " + decision.text);
        break;
      case Answer::Kind::kNoAnswer:
        r.status = Status::Error(std::string(Verb(state)) + ": " + decision.text +
                                 " (qd will check back)");
        break;
    }
    return r;
  }

  // --- the I/O thread: keeps one connection, reads its frames ---

  void IoLoop() {
    ReconnectBackoff backoff(options.reconnect_backoff_min, options.reconnect_backoff_max);
    std::unique_lock lock(mu);
    while (!stopping) {
      if (Clock::now() < backoff.due() && !connect_requested) {
        cv.wait_until(lock, backoff.due());
        continue;
      }
      connect_requested = false;
      lock.unlock();
      Status status;
      IdentifyOptions id{.connection = options,
                         .msg_timeout_ms = 0,
                         .output_buffer_timeout_ms = 0,
                         .tx_group = group};
      std::shared_ptr<Connection> c;
      if (IsValidTxGroup(group)) {
        c = Connection::Dial(address, id, &status);
      } else {
        status = Status::Error("invalid tx_group \"" + group + "\"");
      }
      lock.lock();
      ++dial_attempts;
      last_dial_status = status;
      if (!c) {
        LOG_WARN("TXPRODUCER(", address, "): ", status.message(), "; retrying in ", backoff.Failed().count(), "ms");
        cv.notify_all();
        continue;
      }
      if (stopping) break;
      backoff.Connected();
      c->SetReadTimeout(std::chrono::milliseconds(0));
      auto l = std::make_shared<Link>();
      l->conn = c;
      link = l;
      cv.notify_all();
      lock.unlock();
      ReadLoop(*l);
      lock.lock();
      if (link == l) link.reset();
      for (auto& p : l->in_flight) {
        p->done = true;
        p->text = "connection to " + address + " closed";
      }
      l->in_flight.clear();
      cv.notify_all();
      // Not at once: a qd that closes every new connection must not be dialled in a loop.
      backoff.Dropped();
      if (!stopping) LOG_WARN("TXPRODUCER(", address, "): connection closed; reconnecting");
    }
  }

  void ReadLoop(Link& l) {
    Connection* c = l.conn.get();
    wire::FrameType type;
    std::string_view data;
    while (c->ReadFrame(&type, &data)) {
      if (c->AnswerHeartbeat(type, data)) continue;
      if (type == kCheckBackFrame) {
        std::optional<CheckBack> check = ParseCheckBack(data);
        if (!check) {
          LOG_WARN("TXPRODUCER(", address, "): malformed check-back frame (", data.size(),
                   " bytes)");
          continue;
        }
        QueueCheck(std::move(*check));
        continue;
      }
      if (type != wire::FrameType::kResponse && type != wire::FrameType::kError) continue;
      std::lock_guard lock(mu);
      if (l.in_flight.empty()) {
        LOG_WARN("TXPRODUCER(", address, "): unexpected frame: ", data);
        continue;
      }
      PendingPtr p = std::move(l.in_flight.front());
      l.in_flight.pop_front();
      p->done = true;
      p->answered = true;
      p->type = type;
      p->text = data;
      cv.notify_all();
      // qd closes the connection after a fatal error: stop using it now.
      if (type == wire::FrameType::kError && !IsNonFatal(data)) {
        if (link.get() == &l) link.reset();
        c->Shutdown();
      }
    }
  }

  // --- the check thread ---

  void QueueCheck(CheckBack check) {
    std::lock_guard lock(mu);
    for (const auto& q : checks) {
      if (q.topic == check.topic && q.txid == check.txid) return;
    }
    checks.push_back(std::move(check));
    cv.notify_all();
  }

  void CheckLoop() {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stopping || !checks.empty(); });
      if (stopping) return;
      CheckBack cb = std::move(checks.front());
      checks.pop_front();
      lock.unlock();
      TransactionState state = TransactionState::kUnknown;
      if (check) {
        try {
          state = check(cb);
        } catch (...) {
          LOG_WARN("TXPRODUCER(", address, "): check function threw for ", cb.topic, " ",
                   cb.txid, "; answering TXUNKNOWN");
        }
      }
      Answer a = Decide(state, cb.topic, cb.txid);
      if (a.kind != Answer::Kind::kOk) {
        LOG_WARN("TXPRODUCER(", address, "): answering check-back ", cb.topic, " ", cb.txid,
                 " with ", Verb(state), ": ", a.text);
      }
      lock.lock();
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mu);
      if (stopped) return;
      stopped = true;
      stopping = true;
      if (link) link->conn->Shutdown();
      cv.notify_all();
    }
    if (checker.joinable()) checker.join();
    if (io.joinable()) io.join();
  }
};

TransactionProducer::TransactionProducer(std::string address, std::string tx_group,
                                         CheckFunction check)
    : TransactionProducer(std::move(address), std::move(tx_group), std::move(check), Options()) {}

TransactionProducer::TransactionProducer(std::string address, std::string tx_group,
                                         CheckFunction check, Options options)
    : impl_(std::make_unique<Impl>(std::move(address), std::move(tx_group), std::move(check),
                                   std::move(options))) {
  impl_->io = std::thread([this] { impl_->IoLoop(); });
  impl_->checker = std::thread([this] { impl_->CheckLoop(); });
}

TransactionProducer::~TransactionProducer() { Stop(); }

void TransactionProducer::Stop() { impl_->Stop(); }

const std::string& TransactionProducer::address() const { return impl_->address; }
const std::string& TransactionProducer::tx_group() const { return impl_->group; }

Status TransactionProducer::Connect() {
  std::unique_lock lock(impl_->mu);
  if (impl_->link) return Status::Ok();
  if (impl_->stopping) return Status::Error("producer stopped");
  uint64_t attempts = impl_->dial_attempts;
  impl_->connect_requested = true;
  impl_->cv.notify_all();
  impl_->cv.wait(lock, [&] {
    return impl_->link || impl_->dial_attempts != attempts || impl_->stopping;
  });
  if (impl_->link) return Status::Ok();
  if (impl_->stopping) return Status::Error("producer stopped");
  return impl_->last_dial_status.ok() ? Status::Error("connection closed")
                                      : impl_->last_dial_status;
}

TransactionProducer::Result TransactionProducer::Send(const std::string& topic,
                                                      const std::string& body,
                                                      const LocalTransaction& local,
                                                      std::string txid) {
  return impl_->Send(topic, body, local, std::move(txid));
}

Status TransactionProducer::Commit(const std::string& topic, const std::string& txid) {
  Status s = impl_->Validate(topic, txid);
  if (!s.ok()) return s;
  return impl_->Decide(TransactionState::kCommit, topic, txid).ToStatus();
}

Status TransactionProducer::Rollback(const std::string& topic, const std::string& txid) {
  Status s = impl_->Validate(topic, txid);
  if (!s.ok()) return s;
  return impl_->Decide(TransactionState::kRollback, topic, txid).ToStatus();
}

const char* ToString(TransactionState state) {
  switch (state) {
    case TransactionState::kCommit:
      return "commit";
    case TransactionState::kRollback:
      return "rollback";
    case TransactionState::kUnknown:
      break;
  }
  return "unknown";
}

const char* ToString(TransactionProducer::Outcome outcome) {
  using O = TransactionProducer::Outcome;
  switch (outcome) {
    case O::kCommitted:
      return "committed";
    case O::kRolledBack:
      return "rolled back";
    case O::kPending:
      return "pending";
    case O::kNotPublished:
      return "not published";
    case O::kRefused:
      return "refused";
  }
  return "?";
}

}  // namespace q
