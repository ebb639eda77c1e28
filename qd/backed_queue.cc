#include "qd/backed_queue.h"

#include "common/byte_order.h"
#include "common/log.h"

namespace q {

namespace {
constexpr size_t kRecordHeader = 8 + 2 + 16 + 8;
}

std::string EncodeRecord(const Message& m) {
  std::string out;
  out.reserve(kRecordHeader + m.body_size());
  AppendBE64(out, static_cast<uint64_t>(m.timestamp));
  AppendBE16(out, m.attempts);
  out.append(m.id.bytes.data(), 16);
  AppendBE64(out, static_cast<uint64_t>(m.deliver_at));
  if (m.body) out.append(*m.body);
  return out;
}

std::optional<Message> DecodeRecord(std::string_view r) {
  if (r.size() < kRecordHeader) return std::nullopt;
  Message m;
  m.timestamp = static_cast<int64_t>(LoadBE64(r.data()));
  m.attempts = LoadBE16(r.data() + 8);
  m.id = MessageId::FromView(r.substr(10, 16));
  m.deliver_at = static_cast<int64_t>(LoadBE64(r.data() + 26));
  m.body = MakeBody(r.substr(kRecordHeader));
  return m;
}

BackedQueue::BackedQueue(size_t memory_capacity, std::unique_ptr<DiskQueue> disk, bool count_redelivery)
    : memory_capacity_(memory_capacity), disk_(std::move(disk), "DISKQUEUE"), count_redelivery_(count_redelivery) {
  // After a restart the log may hold a backlog that memory does not.
  cache_complete_ = !disk_ || disk_->Empty();
}

int64_t BackedQueue::BackendDepth() const {
  if (!disk_) return 0;
  return std::max<int64_t>(0, disk_->Depth() - static_cast<int64_t>(cache_.size()));
}

BackedQueue::PutResult BackedQueue::Put(Message m, std::string* error) {
  m.seq = 0;
  if (!disk_) {
    if (memory_.size() >= memory_capacity_) return PutResult::kDropped;
    memory_.push_back(std::move(m));
    return PutResult::kOk;
  }
  DiskQueue::RecordRef ref;
  if (!disk_->Put(EncodeRecord(m), error, &ref)) return PutResult::kFailed;
  if (cache_complete_ && cache_.size() < memory_capacity_) {
    cache_.push_back(Cached{std::move(m), ref});
  } else {
    cache_complete_ = false;  // from here on the disk holds records memory does not
  }
  return PutResult::kOk;
}

std::optional<Message> BackedQueue::PopMemoryOnly() {
  if (memory_.empty()) return std::nullopt;
  Message m = std::move(memory_.front());
  memory_.pop_front();
  return m;
}

std::optional<Message> BackedQueue::Pop() {
  if (!disk_) return PopMemoryOnly();
  if (!cache_.empty()) {
    if (std::optional<uint64_t> seq = disk_->Skip(cache_.front().ref)) {
      Message m = std::move(cache_.front().message);
      cache_.pop_front();
      m.seq = *seq;
      return m;
    }
    // Memory and disk disagree about what comes next (a bug): the disk is the truth.
    LOG_ERROR("DISKQUEUE: memory cache out of step with the disk log; reading from disk");
    cache_.clear();
    cache_complete_ = false;
  }
  for (;;) {
    // The record is decoded straight from the read buffer: one copy, into the body.
    std::optional<DiskQueue::TakenRef> t = disk_->TakeRef();
    if (!t) {
      if (disk_->Depth() == 0) cache_complete_ = true;
      return std::nullopt;
    }
    std::optional<Message> m = DecodeRecord(t->data);
    if (!m) {
      LOG_ERROR("DISKQUEUE: dropping a record too short to be a message (", t->data.size(), " bytes)");
      disk_->Ack(t->seq);
      continue;
    }
    m->seq = t->seq;
    if (t->handed_before && count_redelivery_) ++m->attempts;
    if (disk_->Depth() == 0) cache_complete_ = true;
    return m;
  }
}

void BackedQueue::Ack(uint64_t seq) {
  if (disk_ && seq != 0) disk_->Ack(seq);
}

void BackedQueue::Clear() {
  memory_.clear();
  cache_.clear();
  cache_complete_ = true;
  disk_.Clear();
}

bool BackedQueue::Close(std::string* error) {
  memory_.clear();
  cache_.clear();
  return disk_.Close(error);
}

void BackedQueue::Delete() {
  memory_.clear();
  cache_.clear();
  disk_.Delete();
}

}  // namespace q
