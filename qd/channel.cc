#include "qd/channel.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "common/log.h"
#include "common/names.h"
#include "qd/options.h"
#include "qd/qd.h"
#include "qd/topic.h"

namespace q {

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Channel::Channel(Topic* topic, std::string name, const Options& options, std::unique_ptr<DiskQueue> disk,
                 std::unique_ptr<DiskQueue> deferred_log)
    : topic_(topic),
      name_(std::move(name)),
      ephemeral_(IsEphemeral(name_)),
      options_(options),
      queue_(static_cast<size_t>(options.mem_queue_size), std::move(disk), /*count_redelivery=*/true),
      deferred_(std::move(deferred_log), topic_->name() + ":" + name_),
      e2e_(options.e2e_processing_latency_window_time.count()) {
  deferred_.Load();
}

Channel::~Channel() = default;

bool Channel::Put(Message m, std::string* error) {
  ++message_count_;
  int64_t now = NowNs();
  m.seq = 0;
  if (m.deliver_at > now) {
    if (!deferred_.Add(std::move(m), error)) {
      LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): failed to defer message: ", *error);
      topic_->qd().SetDiskError(*error);
      return false;
    }
    return true;
  }
  // Memory-only channel with nothing waiting and a consumer with room: hand it over
  // directly (NSQ's zero-capacity hand-off when --mem-queue-size=0). A durable channel
  // always writes the message to its log first.
  if (!queue_.HasDisk() && !paused_ && queue_.Empty()) {
    if (Subscriber* c = NextReadyClient()) {
      Deliver(c, std::move(m));
      return true;
    }
  }
  return Enqueue(std::move(m), error);
}

bool Channel::Enqueue(Message m, std::string* error) {
  switch (queue_.Put(std::move(m), error)) {
    case BackedQueue::PutResult::kOk:
      break;
    case BackedQueue::PutResult::kDropped:
      break;  // ephemeral channel over --mem-queue-size: dropped, as NSQ does
    case BackedQueue::PutResult::kFailed:
      LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): failed to write message to disk: ", *error);
      // The daemon reports itself unhealthy until a disk write succeeds.
      topic_->qd().SetDiskError(*error);
      return false;
  }
  Pump();
  return true;
}

// For messages that already have a record elsewhere (in flight, deferred): if the new copy
// cannot be written the old record is kept, and the message comes back after a restart.
void Channel::EnqueueOrLog(Message m) {
  std::string error;
  Enqueue(std::move(m), &error);
}

bool Channel::AddClient(Subscriber* client, std::string* error) {
  int64_t max = options_.max_channel_consumers;
  if (max > 0 && static_cast<int64_t>(clients_.size()) >= max) {
    *error = "channel consumers for " + topic_->name() + ":" + name_ + " exceeds limit of " + std::to_string(max);
    return false;
  }
  clients_.push_back(client);
  return true;
}

void Channel::RemoveClient(Subscriber* client) {
  auto it = std::find(clients_.begin(), clients_.end(), client);
  if (it == clients_.end()) return;
  clients_.erase(it);
  if (ephemeral_ && clients_.empty()) {
    // An ephemeral channel goes with its last consumer. Deferred, and re-checked, so a
    // consumer that subscribes meanwhile keeps it.
    std::weak_ptr<Topic> weak = topic_->weak_from_this();
    std::string name = name_;
    asio::post(topic_->shard().io(), [weak, name] {
      auto topic = weak.lock();
      if (!topic) return;
      Channel* ch = topic->FindChannel(name);
      if (ch && ch->client_count() == 0) topic->DeleteChannel(name);
    });
  }
}

Subscriber* Channel::NextReadyClient() {
  size_t n = clients_.size();
  for (size_t i = 0; i < n; ++i) {
    size_t idx = (next_client_ + i) % n;
    if (clients_[idx]->IsReadyForMessages()) {
      next_client_ = (idx + 1) % n;
      return clients_[idx];
    }
  }
  return nullptr;
}

void Channel::Pump() {
  if (paused_ || clients_.empty()) return;
  while (!queue_.Empty()) {
    Subscriber* c = NextReadyClient();
    if (c == nullptr) return;
    auto m = queue_.Pop();
    if (!m) return;
    if (m->seq != 0 && deferred_.Contains(m->id)) {
      // Requeued with a delay before a crash, and the queue's floor had not been saved
      // yet: the deferred copy is the live one.
      queue_.Ack(m->seq);
      continue;
    }
    // Most messages are not deferred: no clock read for them (~60 ns a read in a VM).
    if (m->deliver_at != 0 && m->deliver_at > NowNs()) {
      // A DPUB the topic held (no channel yet) whose delay is still to run.
      const uint64_t seq = m->seq;
      std::string error;
      if (deferred_.Add(std::move(*m), &error)) {
        deferred_.Flush();  // on disk before the queue lets go of its record
        queue_.Ack(seq);
      } else {
        LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): failed to defer message: ", error);
      }
      continue;
    }
    Deliver(c, std::move(*m));
  }
}

void Channel::Deliver(Subscriber* client, Message m) {
  if (int rate = client->sample_rate(); rate > 0) {
    // Sampling drops the message for the whole channel (nsqd does the same).
    static thread_local std::minstd_rand rng{std::random_device{}()};
    if (static_cast<int>(rng() % 100) > rate) {
      queue_.Ack(m.seq);
      return;
    }
  }
  ++m.attempts;
  int64_t now = NowNs();
  InFlight entry{m, client->id(), now, now + client->msg_timeout_ns()};
  if (!in_flight_.Add(std::move(entry))) {
    LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): message ", m.id.view(),
              " already in flight, dropping the duplicate");
    queue_.Ack(m.seq);
    return;
  }
  client->SendMessage(m);
}

Subscriber* Channel::FindClient(uint64_t id) const {
  for (Subscriber* c : clients_)
    if (c->id() == id) return c;
  return nullptr;
}

void Channel::ClientInFlightDone(uint64_t client_id) {
  if (Subscriber* c = FindClient(client_id)) c->InFlightDone();
}

namespace {
std::string Reason(InFlightQueue::Result r) {
  return r == InFlightQueue::Result::kNotOwner ? "client does not own message" : "ID not in flight";
}
}  // namespace

std::string Channel::Finish(Subscriber* client, const MessageId& id) {
  InFlight entry;
  auto r = in_flight_.Remove(id, client->id(), &entry);
  if (r != InFlightQueue::Result::kOk) return Reason(r);
  client->InFlightDone();
  queue_.Ack(entry.message.seq);
  if (!options_.e2e_processing_latency_percentiles.empty()) {
    int64_t now = NowNs();
    e2e_.Add(now, now - entry.message.timestamp);
  }
  return {};
}

std::string Channel::Requeue(Subscriber* client, const MessageId& id, int64_t delay_ns) {
  InFlight entry;
  auto r = in_flight_.Remove(id, client->id(), &entry);
  if (r != InFlightQueue::Result::kOk) return Reason(r);
  client->InFlightDone();
  ++requeue_count_;
  const uint64_t seq = entry.message.seq;
  if (delay_ns > 0) {
    entry.message.deliver_at = NowNs() + delay_ns;
    std::string error;
    if (deferred_.Add(entry.message, &error)) {
      deferred_.Flush();  // on disk before the queue lets go of its record
      queue_.Ack(seq);
      return {};
    }
    LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): failed to defer message, requeueing it now: ", error);
  }
  entry.message.deliver_at = 0;
  EnqueueOrLog(std::move(entry.message));  // same log: its next sync orders the two
  queue_.Ack(seq);
  return {};
}

std::string Channel::Touch(Subscriber* client, const MessageId& id) {
  const InFlight* e = in_flight_.Find(id);
  if (e == nullptr) return "ID not in flight";
  if (e->client_id != client->id()) return "client does not own message";
  int64_t deadline = NowNs() + client->msg_timeout_ns();
  int64_t cap = e->delivered_at + options_.max_msg_timeout.count();
  in_flight_.SetDeadline(id, client->id(), std::min(deadline, cap));
  return {};
}

void Channel::Scan(int64_t now) {
  auto expired = in_flight_.PopExpired(now);
  for (auto& e : expired) {
    ++timeout_count_;
    ClientInFlightDone(e.client_id);
    LOG_DEBUG("CHANNEL(", topic_->name(), ":", name_, "): message ", e.message.id.view(), " timed out");
    const uint64_t seq = e.message.seq;
    e.message.deliver_at = 0;
    EnqueueOrLog(std::move(e.message));
    queue_.Ack(seq);
  }
  auto due = deferred_.PopDue(now);
  for (auto& m : due) {
    m.deliver_at = 0;  // due: from here on an ordinary queued message
    // Its deferred record is released at the next SyncDisk, after this queue is synced.
    EnqueueOrLog(std::move(m));
  }
  if (!expired.empty() || !due.empty()) Pump();
}

void Channel::SetPaused(bool paused) {
  paused_ = paused;
  topic_->qd().metadata().ChannelPaused(topic_->name(), name_, paused);
  if (!paused_) Pump();
}

void Channel::Empty() {
  queue_.Clear();
  in_flight_.TakeAll();
  deferred_.Clear();
  // Consumers' in-flight counts restart at zero; their later FINs fail harmlessly.
  for (Subscriber* c : clients_) c->ResetInFlight();
  Pump();
}

void Channel::Delete() {
  std::vector<Subscriber*> clients;
  clients.swap(clients_);
  for (Subscriber* c : clients) c->DetachFromChannel();
  in_flight_.TakeAll();
  deferred_.Delete();
  queue_.Delete();
}

void Channel::Close() {
  std::vector<Subscriber*> clients;
  clients.swap(clients_);
  for (Subscriber* c : clients) c->DetachFromChannel();
  // In-flight messages are still in the queue's log above its floor, deferred ones in the
  // deferred log: after the restart they are delivered again, or when due.
  in_flight_.TakeAll();
  deferred_.Flush();
  std::string error;
  if (!queue_.Close(&error)) LOG_ERROR("CHANNEL(", topic_->name(), ":", name_, "): close failed: ", error);
  deferred_.Close();
}

void Channel::SyncDisk() {
  // 1. Deferred records made by REQ-with-delay are durable before 2. the queue's floor
  // moves past their old records; 3. released deferred messages get their tombstones only
  // once the queue holding them is durable.
  deferred_.SyncIfNeeded();
  queue_.SyncIfNeeded();
  deferred_.CommitReleases();
}

void Channel::Flush() {
  queue_.Flush();
  deferred_.Flush();
}

bool Channel::PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) {
  bool ok = queue_.PrepareSync(jobs, error);
  std::string deferred_error;
  if (!deferred_.PrepareSync(jobs, &deferred_error) && ok) {
    *error = deferred_error;
    ok = false;
  }
  return ok;
}

ChannelStats Channel::Stats(bool include_clients) {
  ChannelStats s;
  s.name = name_;
  s.depth = queue_.Depth();
  s.backend_depth = queue_.BackendDepth();
  s.in_flight_count = static_cast<int64_t>(in_flight_.size());
  s.deferred_count = static_cast<int64_t>(deferred_.size());
  s.message_count = message_count_;
  s.requeue_count = requeue_count_;
  s.timeout_count = timeout_count_;
  s.client_count = static_cast<int64_t>(clients_.size());
  s.paused = paused_;
  s.corrupt_records = queue_.corrupt_records() + deferred_.corrupt_records();
  if (!options_.e2e_processing_latency_percentiles.empty())
    s.e2e.percentiles = e2e_.Quantiles(NowNs(), options_.e2e_processing_latency_percentiles, &s.e2e.count);
  if (include_clients)
    for (Subscriber* c : clients_) s.clients.push_back(c->Stats());
  return s;
}

}  // namespace q
