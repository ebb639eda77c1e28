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

BackedQueue::BackedQueue(size_t memory_capacity, std::unique_ptr<DiskQueue> disk)
    : memory_capacity_(memory_capacity), disk_(std::move(disk)) {}

BackedQueue::PutResult BackedQueue::Put(Message m, std::string* error) {
  bool disk_backlog = disk_ && !disk_->Empty();
  if (!disk_backlog && memory_.size() < memory_capacity_) {
    memory_.push_back(std::move(m));
    return PutResult::kOk;
  }
  if (!disk_) return PutResult::kDropped;
  if (!disk_->Put(EncodeRecord(m), error)) return PutResult::kFailed;
  return PutResult::kOk;
}

std::optional<Message> BackedQueue::Pop() {
  if (!memory_.empty()) {
    Message m = std::move(memory_.front());
    memory_.pop_front();
    return m;
  }
  while (disk_ && !disk_->Empty()) {
    auto record = disk_->Pop();
    if (!record) break;
    if (auto m = DecodeRecord(*record)) return m;
    LOG_ERROR("DISKQUEUE: dropping a record too short to be a message (", record->size(), " bytes)");
  }
  return std::nullopt;
}

void BackedQueue::Clear() {
  memory_.clear();
  if (disk_) {
    std::string error;
    if (!disk_->Clear(&error)) LOG_ERROR("DISKQUEUE: clear failed: ", error);
  }
}

bool BackedQueue::Close(std::string* error) {
  bool ok = true;
  if (disk_) {
    // Memory holds the oldest messages, but on disk they go after what is already there;
    // order across a restart is not promised (NSQ does the same).
    for (auto& m : memory_) {
      if (!disk_->Put(EncodeRecord(m), error)) {
        ok = false;
        break;
      }
    }
    if (ok) memory_.clear();
    std::string close_error;
    if (!disk_->Close(&close_error)) {
      ok = false;
      if (error) *error = close_error;
    }
  }
  return ok;
}

void BackedQueue::Delete() {
  memory_.clear();
  if (disk_) disk_->Delete();
}

void BackedQueue::SyncIfNeeded() {
  if (disk_ && disk_->NeedsSync()) {
    std::string error;
    if (!disk_->Sync(&error)) LOG_ERROR("DISKQUEUE: sync failed: ", error);
  }
}

}  // namespace q
