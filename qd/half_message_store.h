// The half messages of one topic: published with TXPUB, invisible to consumers until their
// producer commits (they then join the topic as ordinary messages) or rolls back (they are
// dropped). Undecided ones are checked back on a schedule and expire after too many checks.
//
// For a durable topic the messages live in a log of their own (a DiskQueue named
// "<topic>~tx", no files until the first TXPUB); memory holds an index entry per message
// (txid, group, check schedule, where its record is), not its body. A decision is a small
// record naming the txid; after a restart the log is read again, so every undecided message
// comes back undecided and its check-backs resume. Decided txids are remembered (bounded) so
// repeating a decision is answered the same way.
//
// Without a log (ephemeral topics) messages are kept in memory.
//
// Thread-safety: none (owned by a topic, on its shard).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/message.h"
#include "qd/disk_queue.h"
#include "qd/store_log.h"

namespace q {

// What a producer (or an operator, or the check-back) decided.
enum class TxOutcome : char { kCommit = 'C', kRollback = 'R', kExpired = 'X' };

struct HalfMessage {
  std::string txid;
  std::string group;      // tx_group of the publishing connection, may be empty (HTTP)
  std::string check_url;  // HTTP check-back, may be empty
  MessageId id;           // assigned at TXPUB, kept by the committed message
  int64_t timestamp = 0;  // TXPUB time, ns since the epoch
  size_t body_size = 0;
  int checks = 0;              // check-backs sent so far (counted again from 0 after a restart)
  int64_t next_check_at = 0;   // wall-clock ns
};

struct ExpiredHalfMessage {
  std::string txid, group;
  int64_t expired_at = 0;
};

class HalfMessageStore {
 public:
  // log may be null (memory only). name is for log lines. first_check_delay: from TXPUB (or
  // from a restart) to the first check-back, in ns.
  HalfMessageStore(std::unique_ptr<DiskQueue> log, std::string name, int64_t first_check_delay);

  // Reads the log after a restart: undecided messages come back, their first check-back
  // first_check_delay from now; decisions are remembered.
  void Load(int64_t now);

  enum class AddResult { kAdded, kRepeated, kExists, kFailed };
  // Stores a half message. kRepeated: the same txid with the same body is pending (a retried
  // TXPUB); kExists: the txid is pending with another body, or was decided; kFailed: the
  // record could not be written (*error).
  AddResult Add(HalfMessage h, const Body& body, std::string* error);

  const HalfMessage* Find(const std::string& txid) const;
  // How a txid no longer pending was decided, if it is remembered.
  std::optional<TxOutcome> Decided(const std::string& txid) const;

  // The message a commit will publish: the half message's id and body (read back from the
  // log), timestamp now. nullopt with *error if it cannot be read.
  std::optional<Message> Read(const std::string& txid, int64_t now, std::string* error);
  // Records the decision and forgets the pending message. False with *error when the
  // decision record could not be written (the message stays pending).
  bool Decide(const std::string& txid, TxOutcome outcome, std::string* error);

  // Pending messages whose next check-back is due at now, earliest first. Each has its
  // check count raised and its next check scheduled (backoff: twice the last wait, at most
  // max_backoff_factor times the first delay) before it is returned.
  // Those that already had max_checks checks are returned in *exhausted instead, for the
  // caller to expire.
  std::vector<HalfMessage> TakeDueChecks(int64_t now, int max_checks, std::vector<HalfMessage>* exhausted);

  std::vector<HalfMessage> Pending() const;
  const std::deque<ExpiredHalfMessage>& expired() const { return expired_; }
  void NoteExpired(const HalfMessage& h, int64_t now);

  size_t size() const { return entries_.size(); }
  uint64_t corrupt_records() const { return log_.corrupt_records() + unreadable_; }

  void Delete();  // drops everything and removes the log's files
  void Close() { log_.Close(); }  // syncs and closes the log
  void Flush() { log_.Flush(); }  // writes buffered records out (no fsync)
  void SyncIfNeeded() { log_.SyncIfNeeded(); }
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) { return log_.PrepareSync(jobs, error); }

  static constexpr int kMaxBackoffFactor = 16;
  static constexpr size_t kRememberedDecisions = 100000;
  static constexpr size_t kRememberedExpired = 1000;

 private:
  struct Entry {
    HalfMessage half;
    uint64_t seq = 0;  // the record in the log, 0 without one
    DiskQueue::RecordRef ref;
    Body body;  // memory-only mode
  };
  void Remember(const std::string& txid, TxOutcome outcome);
  std::optional<Body> ReadBody(const Entry& e);

  StoreLog log_;
  std::string name_;
  int64_t first_check_delay_;
  std::unordered_map<std::string, Entry> entries_;
  std::multimap<int64_t, std::string> schedule_;  // next_check_at -> txid
  std::unordered_map<std::string, TxOutcome> decided_;
  std::deque<std::string> decided_order_;
  std::deque<ExpiredHalfMessage> expired_;
  uint64_t unreadable_ = 0;
};

}  // namespace q
