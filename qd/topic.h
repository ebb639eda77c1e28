// A topic: the stream producers publish to. Every message is copied to each of its
// channels (the body is shared, not copied). While it has no channel, or is paused, it
// keeps messages itself (memory, then disk) and hands the backlog to its channels later.
//
// Thread-safety: a Topic is created by Qd on any thread, then used only on its shard's
// thread (Init, Put, channels, stats). Shared ownership: the registry in Qd and the
// consumers subscribed to it hold shared_ptrs; exiting() tells them it was deleted.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/guid.h"
#include "common/message.h"
#include "qd/backed_queue.h"
#include "qd/channel.h"
#include "qd/half_message_store.h"
#include "qd/stats.h"
#include "qd/tx_check.h"

namespace q {

class Qd;
class Shard;

class Topic : public std::enable_shared_from_this<Topic> {
 public:
  Topic(Qd* qd, Shard* shard, std::string name);
  ~Topic();

  const std::string& name() const { return name_; }
  bool ephemeral() const { return ephemeral_; }
  Shard& shard() const { return *shard_; }
  Qd& qd() const { return *qd_; }

  // --- everything below runs on the shard thread ---
  // Opens the disk queue and joins the shard's scan list; later calls do nothing. Qd posts
  // it at creation, and Publish/GetOrCreateChannel call it too in case they run first.
  void Init();
  bool exiting() const { return exiting_; }
  bool paused() const { return paused_; }

  // Publishes one or several bodies. deliver_at > now defers them (DPUB). False with
  // *error when the topic is exiting or a disk write failed (E_PUB_FAILED).
  bool Publish(std::vector<Body> bodies, int64_t deliver_at, std::string* error);
  // Whether a publish is acknowledged only once on disk (--sync-every=1, durable topic):
  // the caller then waits for AwaitDurable before answering.
  bool durable_publish() const;
  // Calls done once everything written so far is fsynced (group commit of the shard).
  void AwaitDurable(std::function<void(bool ok, const std::string& error)> done);

  // Transactions (docs/transactions.md). kOk also answers a repeated TXPUB and a repeated
  // decision; kExists, kUnknown, kDecided are the E_TX_* refusals; kFailed: *error (disk
  // error, exiting).
  enum class TxResult { kOk, kExists, kUnknown, kDecided, kFailed };
  TxResult TxPublish(const std::string& txid, const std::string& group, const std::string& check_url, Body body,
                     std::string* error);
  // Commit publishes the half message to the channels (its id kept); rollback drops it;
  // unknown only confirms the txid is (or was) known.
  TxResult TxDecide(const std::string& txid, TxAnswer answer, std::string* error);
  std::vector<HalfMessage> TxPending() const;
  std::vector<ExpiredHalfMessage> TxExpired() const;

  // Channels. GetOrCreateChannel returns nullptr if the topic is exiting.
  Channel* GetOrCreateChannel(const std::string& name);
  Channel* FindChannel(const std::string& name) const;
  bool DeleteChannel(const std::string& name);
  std::vector<Channel*> channels() const;

  void SetPaused(bool paused);
  void Empty();
  // Deletes the topic: channels (their consumers are disconnected) and files.
  void Delete();
  // Clean shutdown: channels and the topic backlog go to disk.
  void Close();

  void Scan(int64_t now);
  void SyncDisk();
  // Group commit: writes out buffers and adds the fsyncs they need to *jobs.
  bool PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error);
  TopicStats Stats(const std::string& channel_filter, bool include_clients) const;

 private:
  bool FanOut(const Message& m, std::string* error);
  // Hands m to the channels, or to the backlog when hold; false with *error on a disk error.
  bool Enqueue(Message m, bool hold, std::string* error);
  bool MustHold() const { return channels_.empty() || paused_ || !backlog_->Empty(); }
  void ScanTx(int64_t now);
  void SendCheck(const HalfMessage& h);
  void ApplyCheckAnswer(const std::string& txid, TxAnswer answer, const std::string& via);
  std::unique_ptr<DiskQueue> OpenDiskQueue(const std::string& name, std::string* error);
  void ScheduleDrain();
  void DrainSome();

  Qd* qd_;
  Shard* shard_;
  std::string name_;
  bool ephemeral_;
  bool exiting_ = false;
  bool paused_ = false;
  bool drain_scheduled_ = false;
  GuidFactory guids_;
  std::unique_ptr<BackedQueue> backlog_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  int64_t message_count_ = 0, message_bytes_ = 0;
  std::unique_ptr<HalfMessageStore> tx_;
  std::set<std::string> http_checks_in_flight_;
  int64_t tx_committed_ = 0, tx_rolled_back_ = 0, tx_expired_ = 0;
};

}  // namespace q
