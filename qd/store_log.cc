#include "qd/store_log.h"

#include "common/log.h"

namespace q {

StoreLog::StoreLog(std::unique_ptr<DiskQueue> disk, std::string label)
    : disk_(std::move(disk)), label_(std::move(label)) {}

void StoreLog::Flush() {
  std::string error;
  if (disk_ && !disk_->Flush(&error)) LOG_ERROR(label_, ": write failed: ", error);
}

void StoreLog::SyncIfNeeded() {
  if (disk_ && disk_->NeedsSync()) {
    std::string error;
    if (!disk_->Sync(&error)) LOG_ERROR(label_, ": sync failed: ", error);
  }
}

bool StoreLog::PrepareSync(std::vector<DiskQueue::SyncJob>* jobs, std::string* error) {
  return !disk_ || disk_->PrepareSync(jobs, error);
}

void StoreLog::Clear() {
  std::string error;
  if (disk_ && !disk_->Clear(&error)) LOG_ERROR(label_, ": clear failed: ", error);
}

void StoreLog::Delete() {
  if (disk_) disk_->Delete();
}

bool StoreLog::Close(std::string* error) { return !disk_ || disk_->Close(error); }

void StoreLog::Close() {
  std::string error;
  if (!Close(&error)) LOG_ERROR(label_, ": close failed: ", error);
}

bool StoreLog::AppendHeld(std::string_view record, DiskQueue::RecordRef* ref, uint64_t* seq, std::string* error) {
  if (!disk_->Put(record, error, ref)) return false;
  std::optional<uint64_t> s = disk_->Skip(*ref);
  if (!s) LOG_ERROR(label_, ": log reader out of step; record kept until restart");
  *seq = s.value_or(0);
  return true;
}

std::optional<uint64_t> StoreLog::PinnedSegment() const {
  const uint64_t floor = disk_->FloorSegment();
  if (floor + 2 > disk_->WriteSegment()) return std::nullopt;
  return floor;
}

StoreLog::Copy StoreLog::CopyForward(DiskQueue::RecordRef* ref, uint64_t* seq) {
  std::optional<std::string> record = disk_->ReadAt(*ref);
  if (!record) return Copy::kKept;  // logged by ReadAt; the entry keeps its old record
  DiskQueue::RecordRef new_ref;
  uint64_t new_seq = 0;
  std::string error;
  if (!AppendHeld(*record, &new_ref, &new_seq, &error)) {
    LOG_ERROR(label_, ": compaction stopped: ", error);
    return Copy::kStop;
  }
  if (new_seq == 0) return Copy::kStop;
  disk_->Ack(*seq);
  *seq = new_seq;
  *ref = new_ref;
  return Copy::kMoved;
}

void StoreLog::NoteCompacted(size_t moved, uint64_t floor, std::string_view what) const {
  if (moved) LOG_INFO(label_, ": copied ", moved, " ", what, " forward to free segment ", floor);
}

}  // namespace q
