#include "qd/topic.h"

#include <chrono>

#include "common/log.h"
#include "common/names.h"
#include "qd/qd.h"
#include "qd/group_commit.h"
#include "qd/shard.h"

namespace q {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// Backlog handed to channels per turn of the shard's loop, so a large backlog does not
// stall the other topics and connections of the shard.
constexpr int kDrainBatch = 512;

// How a decided txid is named in E_TX_EXISTS / E_TX_DECIDED texts.
const char* DecidedAs(TxOutcome outcome) {
  switch (outcome) {
    case TxOutcome::kCommit:
      return "committed";
    case TxOutcome::kRollback:
      return "rolled back";
    case TxOutcome::kExpired:
      return "expired";
  }
  return "decided";
}

}  // namespace

std::unique_ptr<DiskQueue> Topic::OpenDiskQueue(const std::string& name, std::string* error) {
  const Options& o = qd_->options();
  DiskQueue::Options dq;
  dq.dir = o.data_path;
  dq.name = name;
  dq.max_bytes_per_file = static_cast<uint64_t>(o.max_bytes_per_file);
  dq.max_record_size = static_cast<uint32_t>(o.max_msg_size + 64);
  dq.sync_every = o.sync_every;
  // Every --sync-every puts the shard's group commit fsyncs in the background.
  dq.on_sync_due = [weak = weak_from_this(), shard = shard_] {
    if (auto self = weak.lock()) {
      shard->commit().MarkDirty(self);
      shard->commit().Kick();
    }
  };
  return DiskQueue::Open(dq, error);
}

Topic::Topic(Qd* qd, Shard* shard, std::string name)
    : qd_(qd), shard_(shard), name_(std::move(name)), ephemeral_(IsEphemeral(name_)), guids_(qd->node_id()) {}

Topic::~Topic() = default;

void Topic::Init() {
  if (backlog_) return;
  std::unique_ptr<DiskQueue> disk;
  if (!ephemeral_) {
    std::string error;
    disk = OpenDiskQueue(name_, &error);
    if (!disk) {
      LOG_ERROR("TOPIC(", name_, "): cannot open disk queue: ", error);
      qd_->SetDiskError(error);
    }
  }
  backlog_ = std::make_unique<BackedQueue>(static_cast<size_t>(qd_->options().mem_queue_size), std::move(disk),
                                           /*count_redelivery=*/false);
  // Half messages have a log of their own ('~' cannot appear in a topic name); it has no
  // files until the first TXPUB.
  std::unique_ptr<DiskQueue> tx_log;
  if (!ephemeral_) {
    std::string error;
    tx_log = OpenDiskQueue(name_ + "~tx", &error);
    if (!tx_log) {
      LOG_ERROR("TOPIC(", name_, "): cannot open the half-message log: ", error);
      qd_->SetDiskError(error);
    }
  }
  tx_ = std::make_unique<HalfMessageStore>(std::move(tx_log), name_, qd_->options().tx_check_interval.count());
  tx_->Load(NowNs());
  shard_->topics.insert(this);
  LOG_INFO("TOPIC(", name_, "): created");
}

bool Topic::Publish(std::vector<Body> bodies, int64_t deliver_at, std::string* error) {
  // A publisher on this shard can get here before the Init that Qd posted when it created
  // the topic.
  Init();
  if (exiting_) {
    *error = "exiting";
    return false;
  }
  int64_t now = NowNs();
  // Straight to the channels unless the topic must hold messages (no channel yet, paused,
  // or an older backlog still being handed over).
  bool hold = MustHold();
  for (auto& body : bodies) {
    Message m;
    m.id = guids_.Next();
    m.timestamp = now;
    m.deliver_at = deliver_at;
    m.body = std::move(body);
    if (!Enqueue(std::move(m), hold, error)) return false;
  }
  qd_->ClearDiskError();
  if (hold) ScheduleDrain();
  return true;
}

bool Topic::Enqueue(Message m, bool hold, std::string* error) {
  message_bytes_ += static_cast<int64_t>(m.body_size());
  if (hold) {
    auto r = backlog_->Put(std::move(m), error);
    if (r == BackedQueue::PutResult::kFailed) {
      qd_->SetDiskError(*error);
      return false;
    }
  } else if (!FanOut(m, error)) {
    return false;  // logged and reported by the channel
  }
  ++message_count_;
  return true;
}

// --- transactions ---------------------------------------------------------------------------

Topic::TxResult Topic::TxPublish(const std::string& txid, const std::string& group, const std::string& check_url,
                                 Body body, std::string* error) {
  Init();
  if (exiting_) {
    *error = "exiting";
    return TxResult::kFailed;
  }
  HalfMessage h;
  h.txid = txid;
  h.group = group;
  h.check_url = check_url;
  h.id = guids_.Next();
  h.timestamp = NowNs();
  switch (tx_->Add(std::move(h), body, error)) {
    case HalfMessageStore::AddResult::kAdded:
      // Written out before the OK, so a kill -9 keeps it; fsynced first when durable.
      tx_->Flush();
      return TxResult::kOk;
    case HalfMessageStore::AddResult::kRepeated:
      return TxResult::kOk;
    case HalfMessageStore::AddResult::kExists:
      if (auto d = tx_->Decided(txid))
        *error = std::string("txid ") + txid + " was " + DecidedAs(*d);
      else
        *error = "txid " + txid + " is pending with another body";
      return TxResult::kExists;
    case HalfMessageStore::AddResult::kFailed:
      qd_->SetDiskError(*error);
      return TxResult::kFailed;
  }
  return TxResult::kFailed;
}

Topic::TxResult Topic::TxDecide(const std::string& txid, TxAnswer answer, std::string* error) {
  Init();
  if (exiting_) {
    *error = "exiting";
    return TxResult::kFailed;
  }
  if (!tx_->Find(txid)) {
    std::optional<TxOutcome> d = tx_->Decided(txid);
    if (!d) {
      *error = "txid " + txid + " is not a half message of topic " + name_;
      return TxResult::kUnknown;
    }
    bool same = answer == TxAnswer::kUnknown || (answer == TxAnswer::kCommit && *d == TxOutcome::kCommit) ||
                (answer == TxAnswer::kRollback && *d == TxOutcome::kRollback);
    if (same) return TxResult::kOk;
    *error = std::string("txid ") + txid + " was already " +
             DecidedAs(*d);
    return TxResult::kDecided;
  }
  if (answer == TxAnswer::kUnknown) return TxResult::kOk;
  if (answer == TxAnswer::kCommit) {
    std::optional<Message> m = tx_->Read(txid, NowNs(), error);
    if (!m) return TxResult::kFailed;
    bool hold = MustHold();
    if (!Enqueue(std::move(*m), hold, error)) return TxResult::kFailed;
    if (hold) {
      backlog_->Flush();
      ScheduleDrain();
    } else {
      for (auto& [name, channel] : channels_) channel->Flush();
    }
  }
  // The decision is written after the message reached the channels' logs: a crash in
  // between leaves the half message pending, and its check-back commits it again (a
  // duplicate, with the same message id), never a loss.
  TxOutcome outcome = answer == TxAnswer::kCommit ? TxOutcome::kCommit : TxOutcome::kRollback;
  if (!tx_->Decide(txid, outcome, error)) {
    qd_->SetDiskError(*error);
    return TxResult::kFailed;
  }
  tx_->Flush();
  ++(outcome == TxOutcome::kCommit ? tx_committed_ : tx_rolled_back_);
  return TxResult::kOk;
}

std::vector<HalfMessage> Topic::TxPending() const { return tx_ ? tx_->Pending() : std::vector<HalfMessage>{}; }

std::vector<ExpiredHalfMessage> Topic::TxExpired() const {
  if (!tx_) return {};
  return {tx_->expired().begin(), tx_->expired().end()};
}

void Topic::ScanTx(int64_t now) {
  if (!tx_ || tx_->size() == 0) return;
  const Options& o = qd_->options();
  std::vector<HalfMessage> exhausted;
  std::vector<HalfMessage> due = tx_->TakeDueChecks(now, static_cast<int>(o.tx_max_checks), &exhausted);
  for (const HalfMessage& h : exhausted) {
    std::string error;
    if (!tx_->Decide(h.txid, TxOutcome::kExpired, &error)) {
      LOG_ERROR("TX(", name_, "): could not record the expiry of ", h.txid, ": ", error);
      continue;
    }
    tx_->NoteExpired(h, now);
    ++tx_expired_;
    LOG_WARN("TX(", name_, "): half message ", h.txid, " (group \"", h.group, "\") discarded undecided after ",
             h.checks, " check-back(s)");
  }
  if (!exhausted.empty()) tx_->Flush();
  for (const HalfMessage& h : due) SendCheck(h);
}

void Topic::SendCheck(const HalfMessage& h) {
  const Options& o = qd_->options();
  if (!h.check_url.empty()) {
    // One question at a time per message: a slow check_url is not asked again meanwhile.
    if (!http_checks_in_flight_.insert(h.txid).second) return;
    asio::post(qd_->blocking(), [weak = weak_from_this(), topic = name_, h, io = &shard_->io(),
                                 connect = o.http_client_connect_timeout, request = o.http_client_request_timeout] {
      std::string detail;
      TxAnswer answer = AskCheckUrl(h.check_url, topic, h, connect, request, &detail);
      if (answer == TxAnswer::kUnknown)
        LOG_INFO("TX(", topic, "): check-back ", h.checks, " of ", h.txid, " via ", h.check_url, ": ", detail);
      asio::post(*io, [weak, txid = h.txid, answer] {
        if (auto self = weak.lock()) {
          self->http_checks_in_flight_.erase(txid);
          self->ApplyCheckAnswer(txid, answer, "check_url");
        }
      });
    });
    return;
  }
  if (h.group.empty()) {
    LOG_WARN("TX(", name_, "): half message ", h.txid, " has neither a group nor a check_url; check ", h.checks,
             " counted");
    return;
  }
  std::string error;
  std::optional<Message> m = tx_->Read(h.txid, h.timestamp, &error);
  if (!m) return;
  if (!qd_->tx_producers().SendCheck(h.group, EncodeTxCheck(name_, h, *m->body)))
    LOG_INFO("TX(", name_, "): check-back ", h.checks, " of ", h.txid, ": no connection of group \"", h.group,
             "\"");
}

void Topic::ApplyCheckAnswer(const std::string& txid, TxAnswer answer, const std::string& via) {
  if (answer == TxAnswer::kUnknown || exiting_) return;
  std::string error;
  TxResult r = TxDecide(txid, answer, &error);
  if (r == TxResult::kOk)
    LOG_INFO("TX(", name_, "): ", txid, (answer == TxAnswer::kCommit ? " committed" : " rolled back"), " by check-back (", via, ")");
  else if (r != TxResult::kDecided && r != TxResult::kUnknown)
    LOG_ERROR("TX(", name_, "): check-back answer for ", txid, " failed: ", error);
}

bool Topic::durable_publish() const { return !ephemeral_ && qd_->options().sync_every <= 1; }

void Topic::AwaitDurable(std::function<void(bool ok, const std::string& error)> done) {
  shard_->commit().MarkDirty(shared_from_this());
  shard_->commit().Await(std::move(done));
}

// Copies to every channel. A channel that cannot store its copy fails the whole publish
// (the others keep theirs: a retried publish is a duplicate for them, never a loss).
bool Topic::FanOut(const Message& m, std::string* error) {
  bool ok = true;
  for (auto& [name, channel] : channels_) {
    std::string channel_error;
    if (!channel->Put(m, &channel_error) && ok) {
      ok = false;
      *error = channel_error;
    }
  }
  return ok;
}

void Topic::ScheduleDrain() {
  if (drain_scheduled_ || channels_.empty() || paused_ || exiting_ || !backlog_ || backlog_->Empty()) return;
  drain_scheduled_ = true;
  asio::post(shard_->io(), [self = shared_from_this()] {
    self->drain_scheduled_ = false;
    self->DrainSome();
  });
}

void Topic::DrainSome() {
  if (channels_.empty() || paused_ || exiting_ || !backlog_) return;
  std::vector<uint64_t> copied;
  copied.reserve(kDrainBatch);
  for (int i = 0; i < kDrainBatch; ++i) {
    auto m = backlog_->Pop();
    if (!m) break;
    const uint64_t seq = m->seq;
    std::string error;
    // A copy that failed keeps the topic's record: the message is handed over again after
    // a restart (a duplicate for the channels that have it).
    if (FanOut(*m, &error)) copied.push_back(seq);
  }
  // The channels' copies reach the files before the topic lets go of its records; the
  // topic's floor is persisted only by a SyncDisk, which syncs the channels first.
  for (auto& [name, channel] : channels_) channel->Flush();
  for (uint64_t seq : copied) backlog_->Ack(seq);
  ScheduleDrain();
}

Channel* Topic::GetOrCreateChannel(const std::string& name) {
  if (exiting_) return nullptr;
  Init();
  if (auto it = channels_.find(name); it != channels_.end()) return it->second.get();
  std::unique_ptr<DiskQueue> disk;
  std::unique_ptr<DiskQueue> deferred_log;
  if (!ephemeral_ && !IsEphemeral(name)) {
    std::string error;
    disk = OpenDiskQueue(name_ + ":" + name, &error);
    // '~' cannot appear in a channel name, so this never collides with another channel.
    if (disk) deferred_log = OpenDiskQueue(name_ + ":" + name + "~deferred", &error);
    if (!disk || !deferred_log) {
      LOG_ERROR("CHANNEL(", name_, ":", name, "): cannot open disk queue: ", error);
      qd_->SetDiskError(error);
    }
  }
  auto channel = std::make_unique<Channel>(this, name, qd_->options(), std::move(disk), std::move(deferred_log));
  Channel* raw = channel.get();
  channels_.emplace(name, std::move(channel));
  LOG_INFO("TOPIC(", name_, "): new channel(", name, ")");
  qd_->ChannelCreated(*this, *raw);
  // The first channel receives what the topic held until now.
  ScheduleDrain();
  return raw;
}

Channel* Topic::FindChannel(const std::string& name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second.get();
}

std::vector<Channel*> Topic::channels() const {
  std::vector<Channel*> out;
  for (auto& [n, c] : channels_) out.push_back(c.get());
  return out;
}

bool Topic::DeleteChannel(const std::string& channel_name) {
  // A copy: callers may pass the channel's own name, which the erase below frees.
  const std::string name = channel_name;
  auto it = channels_.find(name);
  if (it == channels_.end()) return false;
  it->second->Delete();
  channels_.erase(it);
  LOG_INFO("TOPIC(", name_, "): deleting channel ", name);
  qd_->ChannelDeleted(*this, name);
  // An ephemeral topic goes with its last channel.
  if (ephemeral_ && channels_.empty() && !exiting_) qd_->DeleteTopic(name_);
  return true;
}

void Topic::SetPaused(bool paused) {
  paused_ = paused;
  qd_->metadata().TopicPaused(name_, paused);
  if (!paused_) ScheduleDrain();
}

void Topic::Empty() {
  if (backlog_) backlog_->Clear();
}

void Topic::Delete() {
  if (exiting_) return;
  exiting_ = true;
  LOG_INFO("TOPIC(", name_, "): deleting");
  for (auto& [name, channel] : channels_) {
    channel->Delete();
    qd_->ChannelDeleted(*this, name);
  }
  channels_.clear();
  if (backlog_) backlog_->Delete();
  if (tx_) tx_->Delete();
  shard_->topics.erase(this);
}

void Topic::Close() {
  if (exiting_) return;
  exiting_ = true;
  LOG_INFO("TOPIC(", name_, "): closing");
  for (auto& [name, channel] : channels_) channel->Close();
  if (backlog_) {
    std::string error;
    if (!backlog_->Close(&error)) LOG_ERROR("TOPIC(", name_, "): failed to flush to disk: ", error);
  }
  if (tx_) tx_->Close();
  shard_->topics.erase(this);
}

void Topic::Scan(int64_t now) {
  for (auto& [name, channel] : channels_) channel->Scan(now);
  ScanTx(now);
}

void Topic::SyncDisk() {
  // Channels first: the topic's floor may move only past records the channels have synced.
  for (auto& [name, channel] : channels_) channel->SyncDisk();
  if (backlog_) backlog_->SyncIfNeeded();
  // Last: a commit's decision record may be durable only after the message it published.
  if (tx_) tx_->SyncIfNeeded();
}

bool Topic::PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) {
  bool ok = !backlog_ || backlog_->PrepareSync(jobs, error);
  std::string tx_error;
  if (tx_ && !tx_->PrepareSync(jobs, &tx_error) && ok) {
    ok = false;
    *error = tx_error;
  }
  for (auto& [name, channel] : channels_) {
    std::string channel_error;
    if (!channel->PrepareSync(jobs, &channel_error) && ok) {
      ok = false;
      *error = channel_error;
    }
  }
  return ok;
}

TopicStats Topic::Stats(const std::string& channel_filter, bool include_clients) const {
  TopicStats s;
  s.name = name_;
  s.depth = backlog_ ? backlog_->Depth() : 0;
  s.backend_depth = backlog_ ? backlog_->BackendDepth() : 0;
  s.message_count = message_count_;
  s.message_bytes = message_bytes_;
  s.paused = paused_;
  s.corrupt_records = (backlog_ ? backlog_->corrupt_records() : 0) + (tx_ ? tx_->corrupt_records() : 0);
  s.tx_pending = tx_ ? static_cast<int64_t>(tx_->size()) : 0;
  s.tx_committed = tx_committed_;
  s.tx_rolled_back = tx_rolled_back_;
  s.tx_expired = tx_expired_;
  for (auto& [name, channel] : channels_) {
    if (!channel_filter.empty() && name != channel_filter) continue;
    s.channels.push_back(channel->Stats(include_clients));
  }
  // The topic's e2e figures: each quantile averaged over its channels, weighted by samples.
  for (const ChannelStats& c : s.channels) {
    if (c.e2e.count == 0) continue;
    if (s.e2e.percentiles.empty()) {
      s.e2e.percentiles = c.e2e.percentiles;
      for (auto& [q, v] : s.e2e.percentiles) v *= c.e2e.count;
    } else {
      for (size_t i = 0; i < s.e2e.percentiles.size() && i < c.e2e.percentiles.size(); ++i)
        s.e2e.percentiles[i].second += c.e2e.percentiles[i].second * c.e2e.count;
    }
    s.e2e.count += c.e2e.count;
  }
  for (auto& [q, v] : s.e2e.percentiles) v /= std::max<int64_t>(1, s.e2e.count);
  return s;
}

}  // namespace q
