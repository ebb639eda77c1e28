#include "qd/half_message_store.h"

#include <algorithm>

#include "common/byte_order.h"
#include "common/log.h"
#include "qd/backed_queue.h"

namespace q {

namespace {
// Log records: a half message ('H', then the three strings each with a 2-byte length, then
// the message as EncodeRecord writes it), and a decision (the TxOutcome byte, then the txid).
constexpr char kHalf = 'H';

void AppendString(std::string& out, std::string_view s) {
  AppendBE16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

bool ReadString(std::string_view* in, std::string* out) {
  if (in->size() < 2) return false;
  uint16_t n = LoadBE16(in->data());
  if (in->size() < 2u + n) return false;
  out->assign(in->data() + 2, n);
  in->remove_prefix(2u + n);
  return true;
}

std::string EncodeHalf(const HalfMessage& h, const Body& body) {
  Message m;
  m.id = h.id;
  m.timestamp = h.timestamp;
  m.body = body;
  std::string out;
  out += kHalf;
  AppendString(out, h.txid);
  AppendString(out, h.group);
  AppendString(out, h.check_url);
  out += EncodeRecord(m);
  return out;
}

// Fills *h and *m from an 'H' record. False if it is damaged.
bool DecodeHalf(std::string_view record, HalfMessage* h, Message* m) {
  if (record.empty() || record[0] != kHalf) return false;
  record.remove_prefix(1);
  if (!ReadString(&record, &h->txid) || !ReadString(&record, &h->group) || !ReadString(&record, &h->check_url))
    return false;
  std::optional<Message> decoded = DecodeRecord(record);
  if (!decoded) return false;
  *m = std::move(*decoded);
  h->id = m->id;
  h->timestamp = m->timestamp;
  h->body_size = m->body_size();
  return true;
}

bool IsOutcome(char c) {
  return c == static_cast<char>(TxOutcome::kCommit) || c == static_cast<char>(TxOutcome::kRollback) ||
         c == static_cast<char>(TxOutcome::kExpired);
}

}  // namespace

HalfMessageStore::HalfMessageStore(std::unique_ptr<DiskQueue> log, std::string name, int64_t first_check_delay)
    : log_(std::move(log), "TX(" + name + ")"), name_(std::move(name)), first_check_delay_(first_check_delay) {}

void HalfMessageStore::Load(int64_t now) {
  if (!log_) return;
  while (std::optional<DiskQueue::Taken> t = log_->Take()) {
    std::string_view data = t->data;
    HalfMessage h;
    Message m;
    if (DecodeHalf(data, &h, &m)) {
      // A second record for the same txid is a copy made by compaction: the later one wins.
      if (auto it = entries_.find(h.txid); it != entries_.end()) {
        log_->Ack(it->second.seq);
        entries_.erase(it);
      }
      h.next_check_at = now + first_check_delay_;
      Entry e;
      e.half = std::move(h);
      e.seq = t->seq;
      e.ref = t->ref;
      std::string txid = e.half.txid;
      entries_.emplace(std::move(txid), std::move(e));
      continue;
    }
    if (data.size() > 1 && IsOutcome(data[0])) {
      std::string txid(data.substr(1));
      if (auto it = entries_.find(txid); it != entries_.end()) {
        log_->Ack(it->second.seq);
        entries_.erase(it);
      }
      Remember(txid, static_cast<TxOutcome>(data[0]));
      log_->Ack(t->seq);
      continue;
    }
    LOG_ERROR("TX(", name_, "): dropping an unreadable record (", data.size(), " bytes)");
    ++unreadable_;
    log_->Ack(t->seq);
  }
  for (auto& [txid, e] : entries_) schedule_.emplace(e.half.next_check_at, txid);
  if (!entries_.empty())
    LOG_INFO("TX(", name_, "): ", entries_.size(), " undecided half message(s) recovered; check-backs resume");
}

HalfMessageStore::AddResult HalfMessageStore::Add(HalfMessage h, const Body& body, std::string* error) {
  if (auto it = entries_.find(h.txid); it != entries_.end()) {
    const Entry& e = it->second;
    if (e.half.body_size != body->size()) return AddResult::kExists;
    std::optional<Body> stored = ReadBody(e);
    return stored && **stored == *body ? AddResult::kRepeated : AddResult::kExists;
  }
  if (decided_.contains(h.txid)) return AddResult::kExists;
  h.body_size = body->size();
  h.checks = 0;
  h.next_check_at = h.timestamp + first_check_delay_;
  Entry e;
  if (log_) {
    if (!log_.AppendHeld(EncodeHalf(h, body), &e.ref, &e.seq, error)) return AddResult::kFailed;
  } else {
    e.body = body;
  }
  schedule_.emplace(h.next_check_at, h.txid);
  std::string txid = h.txid;
  e.half = std::move(h);
  entries_.emplace(std::move(txid), std::move(e));
  return AddResult::kAdded;
}

const HalfMessage* HalfMessageStore::Find(const std::string& txid) const {
  auto it = entries_.find(txid);
  return it == entries_.end() ? nullptr : &it->second.half;
}

std::optional<TxOutcome> HalfMessageStore::Decided(const std::string& txid) const {
  auto it = decided_.find(txid);
  if (it == decided_.end()) return std::nullopt;
  return it->second;
}

std::optional<Body> HalfMessageStore::ReadBody(const Entry& e) {
  if (e.body) return e.body;
  std::optional<std::string> record = log_->ReadAt(e.ref);
  HalfMessage h;
  Message m;
  if (!record || !DecodeHalf(*record, &h, &m) || h.txid != e.half.txid) return std::nullopt;
  return m.body;
}

std::optional<Message> HalfMessageStore::Read(const std::string& txid, int64_t now, std::string* error) {
  auto it = entries_.find(txid);
  if (it == entries_.end()) {
    *error = "not pending";
    return std::nullopt;
  }
  std::optional<Body> body = ReadBody(it->second);
  if (!body) {
    *error = "its record could not be read back";
    LOG_ERROR("TX(", name_, "): half message ", txid, " could not be read back");
    return std::nullopt;
  }
  Message m;
  m.id = it->second.half.id;
  m.timestamp = now;
  m.body = std::move(*body);
  return m;
}

bool HalfMessageStore::Decide(const std::string& txid, TxOutcome outcome, std::string* error) {
  auto it = entries_.find(txid);
  if (it == entries_.end()) {
    *error = "not pending";
    return false;
  }
  if (log_) {
    std::string record;
    record += static_cast<char>(outcome);
    record += txid;
    DiskQueue::RecordRef ref;
    uint64_t seq = 0;
    if (!log_.AppendHeld(record, &ref, &seq, error)) return false;
    // The decision record only has to outlive the half message's record: both leave the
    // log together once the floor passes them.
    log_->Ack(seq);
    log_->Ack(it->second.seq);
  }
  auto range = schedule_.equal_range(it->second.half.next_check_at);
  for (auto s = range.first; s != range.second; ++s)
    if (s->second == txid) {
      schedule_.erase(s);
      break;
    }
  entries_.erase(it);
  Remember(txid, outcome);
  // A half message left undecided for long would keep the floor, and every segment after
  // it, on disk.
  if (log_) log_.CompactIfPinned(entries_, "undecided half message(s)");
  return true;
}

void HalfMessageStore::Remember(const std::string& txid, TxOutcome outcome) {
  if (decided_.insert_or_assign(txid, outcome).second) decided_order_.push_back(txid);
  while (decided_order_.size() > kRememberedDecisions) {
    decided_.erase(decided_order_.front());
    decided_order_.pop_front();
  }
}

std::vector<HalfMessage> HalfMessageStore::TakeDueChecks(int64_t now, int max_checks,
                                                         std::vector<HalfMessage>* exhausted) {
  std::vector<HalfMessage> due;
  while (!schedule_.empty() && schedule_.begin()->first <= now) {
    std::string txid = std::move(schedule_.begin()->second);
    schedule_.erase(schedule_.begin());
    auto it = entries_.find(txid);
    if (it == entries_.end()) continue;
    HalfMessage& h = it->second.half;
    if (h.checks >= max_checks) {
      // Left pending (and off the schedule) until the caller expires it.
      h.next_check_at = INT64_MAX;
      exhausted->push_back(h);
      continue;
    }
    ++h.checks;
    // The waits: d, 2d, 4d, ... capped at 16d, d the first delay.
    int64_t factor = int64_t{1} << std::min(h.checks, 4);
    factor = std::min<int64_t>(factor, kMaxBackoffFactor);
    h.next_check_at = now + first_check_delay_ * factor;
    schedule_.emplace(h.next_check_at, txid);
    due.push_back(h);
  }
  return due;
}

std::vector<HalfMessage> HalfMessageStore::Pending() const {
  std::vector<HalfMessage> out;
  out.reserve(entries_.size());
  for (auto& [txid, e] : entries_) out.push_back(e.half);
  std::sort(out.begin(), out.end(), [](const HalfMessage& a, const HalfMessage& b) { return a.timestamp < b.timestamp; });
  return out;
}

void HalfMessageStore::NoteExpired(const HalfMessage& h, int64_t now) {
  expired_.push_back({h.txid, h.group, now});
  while (expired_.size() > kRememberedExpired) expired_.pop_front();
}

void HalfMessageStore::Delete() {
  entries_.clear();
  schedule_.clear();
  log_.Delete();
}

}  // namespace q
