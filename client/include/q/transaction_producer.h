// TransactionProducer: publishes transactional messages to one qd (docs/transactions.md):
// a half message (TXPUB), then the application's local transaction, then TXCOMMIT or
// TXROLLBACK by its result; and answers qd's check-backs for its transaction group.
//
// Promises:
// - Send() returns only once the outcome is known as far as this side can know it (see
//   Outcome). It never runs the local transaction unless qd acknowledged the half message
//   (stored durably, invisible to consumers), and it never commits a message whose local
//   transaction did not return kCommit.
// - TXPUB, TXCOMMIT and TXROLLBACK are idempotent in qd, so a command whose answer was lost
//   with the connection is sent again on a new connection until Options::command_timeout.
// - The connection is opened at construction (IDENTIFY with the tx_group), in the
//   background, and kept open until Stop(): when it drops it is redialled with exponential
//   backoff (Options::reconnect_backoff_min .. reconnect_backoff_max), because only a live
//   connection of the group receives check-backs — a restarted application answers for
//   the half messages of its dead predecessor this way.
// - Each check-back frame (frame type 3) is passed to the check function given at
//   construction; its answer is sent as TXCOMMIT, TXROLLBACK or TXUNKNOWN. Check-backs are
//   answered one at a time, in arrival order, on an internal thread; a check-back for a
//   txid already waiting in that queue is dropped (qd asks again later anyway).
// - Heartbeats are answered with NOP.
//
// Threads: every method may be called from any thread, concurrently. Send() runs the local
// transaction on the calling thread. The check function runs on the producer's internal
// check thread: it may block (query a database) but must not throw (an exception counts as
// kUnknown) and must not call Stop() or destroy the producer. The destructor calls Stop().
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "q/status.h"
#include "q/connection_options.h"

namespace q {

// What a local transaction (or a check) says about a half message.
enum class TransactionState {
  kCommit,    // make the message visible to every channel of the topic, once
  kRollback,  // discard it; it is never visible
  kUnknown,   // cannot tell yet: send nothing now, qd checks back later
};

// One check-back from qd: "what became of this half message?".
struct CheckBack {
  std::string topic;
  std::string txid;
  int checks = 0;              // 1 for qd's first check of this half message
  int64_t timestamp_ns = 0;    // when the TXPUB was stored, ns since the epoch
  std::string id;              // the message id (16 hex characters)
  std::string body;
};

class TransactionProducer {
 public:
  // The connection's own (client id, TLS, AUTH, compression, ...) come from
  // ConnectionOptions.
  struct Options : ConnectionOptions {
    // A command (TXPUB, TXCOMMIT, ...) not answered within this time fails, retries included.
    std::chrono::milliseconds command_timeout{10000};
    std::chrono::milliseconds reconnect_backoff_min{100};
    std::chrono::milliseconds reconnect_backoff_max{10000};
  };

  // The application's local transaction for one message, given its txid (store it with
  // the business data so the check function can find it later).
  using LocalTransaction = std::function<TransactionState(const std::string& txid)>;
  // Answers a check-back; typically looks the txid up in the application's database.
  using CheckFunction = std::function<TransactionState(const CheckBack&)>;

  enum class Outcome {
    kCommitted,     // local kCommit; qd acknowledged TXCOMMIT: the message is visible
    kRolledBack,    // local kRollback; qd acknowledged TXROLLBACK: never visible
    kPending,       // half message stored, no decision acknowledged (local kUnknown, the
                    // local transaction threw, or the decision could not be delivered):
                    // qd will ask the check function
    kNotPublished,  // the TXPUB failed; the local transaction was not run
    kRefused,       // qd refused the decision (E_TX_DECIDED: it was decided the other way
                    // already, e.g. by a check-back or `qctl tx`; E_TX_UNKNOWN: expired)
  };
  struct Result {
    Outcome outcome = Outcome::kNotPublished;
    // ok() for kCommitted, kRolledBack and a kPending chosen by the local transaction;
    // otherwise why ("E_TX_EXISTS ...", "connection to ... closed", "local transaction
    // threw: ...").
    Status status;
    std::string txid;
  };

  // address: "host:port" of qd's TCP listener. tx_group: 1-64 characters of
  // [.a-zA-Z0-9_-]. check may be empty: check-backs are then answered TXUNKNOWN.
  TransactionProducer(std::string address, std::string tx_group, CheckFunction check);
  TransactionProducer(std::string address, std::string tx_group, CheckFunction check,
                      Options options);
  ~TransactionProducer();
  TransactionProducer(const TransactionProducer&) = delete;
  TransactionProducer& operator=(const TransactionProducer&) = delete;

  // Waits for the connection (dialling now if it is between attempts) and reports it.
  Status Connect();

  // TXPUB body to topic as txid (generated, unique, when empty), then local(txid), then the
  // decision. Blocks until done.
  Result Send(const std::string& topic, const std::string& body, const LocalTransaction& local,
              std::string txid = "");

  // Decides a half message later (e.g. one left kPending). Status of qd's answer.
  Status Commit(const std::string& topic, const std::string& txid);
  Status Rollback(const std::string& topic, const std::string& txid);

  // Fails commands still waiting ("producer stopped"), waits for a running check function,
  // closes the connection, joins the threads. Idempotent.
  void Stop();

  const std::string& address() const;
  const std::string& tx_group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

const char* ToString(TransactionState state);
const char* ToString(TransactionProducer::Outcome outcome);

}  // namespace q
