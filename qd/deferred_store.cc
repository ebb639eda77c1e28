#include "qd/deferred_store.h"

#include "common/log.h"
#include "qd/backed_queue.h"

namespace q {

namespace {
// Log record types: a deferred message (EncodeRecord after the type byte), and the
// tombstone of a released one (its 16-byte id).
constexpr char kMessage = 'M';
constexpr char kReleased = 'T';
}  // namespace

DeferredStore::DeferredStore(std::unique_ptr<DiskQueue> log, std::string name)
    : log_(std::move(log), "DEFERRED(" + name + ")"), name_(std::move(name)) {}

void DeferredStore::Load() {
  if (!log_) return;
  size_t released = 0;
  while (std::optional<DiskQueue::Taken> t = log_->Take()) {
    std::string_view data = t->data;
    if (!data.empty() && data[0] == kMessage) {
      std::optional<Message> m = DecodeRecord(data.substr(1));
      if (m) {
        // A second record for the same id is a copy made by compaction: the later one wins.
        if (auto it = entries_.find(m->id); it != entries_.end()) {
          log_->Ack(it->second.seq);
          by_time_.erase({it->second.deliver_at, m->id});
          entries_.erase(it);
        }
        Entry e;
        e.deliver_at = m->deliver_at;
        e.seq = t->seq;
        e.ref = t->ref;
        by_time_.emplace(e.deliver_at, m->id);
        entries_.emplace(m->id, std::move(e));
        continue;
      }
    } else if (data.size() == 17 && data[0] == kReleased) {
      MessageId id = MessageId::FromView(data.substr(1));
      if (auto it = entries_.find(id); it != entries_.end()) {
        log_->Ack(it->second.seq);
        by_time_.erase({it->second.deliver_at, id});
        entries_.erase(it);
        ++released;
      }
      log_->Ack(t->seq);
      continue;
    }
    LOG_ERROR("DEFERRED(", name_, "): dropping an unreadable record (", data.size(), " bytes)");
    ++unreadable_;
    log_->Ack(t->seq);
  }
  if (!entries_.empty()) LOG_INFO("DEFERRED(", name_, "): ", entries_.size(), " deferred message(s) recovered");
}

bool DeferredStore::Append(char type, std::string_view payload, DiskQueue::RecordRef* ref, uint64_t* seq,
                           std::string* error) {
  std::string record;
  record.reserve(1 + payload.size());
  record += type;
  record.append(payload);
  return log_.AppendHeld(record, ref, seq, error);
}

bool DeferredStore::Add(Message m, std::string* error) {
  if (entries_.contains(m.id)) {
    *error = "message " + std::string(m.id.view()) + " is already deferred";
    return false;
  }
  Entry e;
  e.deliver_at = m.deliver_at;
  const MessageId id = m.id;
  if (log_) {
    m.seq = 0;
    if (!Append(kMessage, EncodeRecord(m), &e.ref, &e.seq, error)) return false;
  } else {
    e.message = std::move(m);
  }
  by_time_.emplace(e.deliver_at, id);
  entries_.emplace(id, std::move(e));
  return true;
}

std::vector<Message> DeferredStore::PopDue(int64_t now) {
  std::vector<Message> out;
  while (!by_time_.empty() && by_time_.begin()->first <= now) {
    const MessageId id = by_time_.begin()->second;
    by_time_.erase(by_time_.begin());
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry e = std::move(it->second);
    entries_.erase(it);
    if (e.message) {
      out.push_back(std::move(*e.message));
      continue;
    }
    std::optional<std::string> record = log_->ReadAt(e.ref);
    std::optional<Message> m;
    if (record && record->size() > 1 && (*record)[0] == kMessage) m = DecodeRecord(std::string_view(*record).substr(1));
    if (!m) {
      LOG_ERROR("DEFERRED(", name_, "): message ", id.view(), " could not be read back; dropped");
      ++unreadable_;
      log_->Ack(e.seq);
      continue;
    }
    m->seq = 0;
    out.push_back(std::move(*m));
    releasing_.emplace_back(id, e.seq);
  }
  return out;
}

void DeferredStore::CommitReleases() {
  if (!log_) {
    releasing_.clear();
    return;
  }
  for (auto& [id, seq] : releasing_) {
    DiskQueue::RecordRef ref;
    uint64_t tombstone_seq = 0;
    std::string error;
    if (Append(kReleased, id.view(), &ref, &tombstone_seq, &error)) {
      log_->Ack(tombstone_seq);
    } else {
      // Without the tombstone the message may be delivered again after a restart.
      LOG_ERROR("DEFERRED(", name_, "): could not record the release of ", id.view(), ": ", error);
    }
    log_->Ack(seq);
  }
  releasing_.clear();
  // A message deferred for days would keep the floor, and every segment after it, on disk.
  log_.CompactIfPinned(entries_, "long-deferred message(s)");
}

void DeferredStore::Clear() {
  entries_.clear();
  by_time_.clear();
  releasing_.clear();
  log_.Clear();
}

void DeferredStore::Delete() {
  entries_.clear();
  by_time_.clear();
  releasing_.clear();
  log_.Delete();
}

void DeferredStore::Close() {
  CommitReleases();
  log_.Close();
}

}  // namespace q
