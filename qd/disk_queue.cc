// On-disk layout (all files directly in Options::dir, <base> = "<name>.q."):
//   <base>000000.seg, <base>000001.seg, ...  segments: "QDSEG\0\0" + version byte, then records
//       [u32 BE length][u32 BE masked crc32c(payload)][payload], never split across segments.
//   <base>meta   depth from the floor, floor segment/offset, write segment/offset, handed-out
//       segment/offset, masked crc32c; replaced atomically (write <base>meta.tmp, fsync,
//       rename, fsync the directory). Version 1 had no handed-out position.
//
// The floor is the oldest record taken and not yet acknowledged (or the read position when
// none is outstanding). Reading restarts there after a restart, so records in flight at a
// crash are read again; segments are deleted only once a persisted floor has passed them.
// Offsets count from the start of a segment file, header included.
//
// Depth counts records plus corrupt stretches still ahead of the reader: the reader skips a
// corrupt stretch as one unit and takes one off the depth for it, so recovery counts such a
// stretch as one too and the two stay in step.
#include "qd/disk_queue.h"

#include <fcntl.h>

#include <algorithm>
#include <deque>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "common/file.h"
#include "common/log.h"

namespace q {

namespace {

constexpr std::string_view kSegmentMagic{"QDSEG\0\0", 7};
constexpr char kSegmentVersion = 1;
constexpr uint64_t kHeaderSize = 8;  // magic + version
constexpr uint64_t kRecordHeaderSize = 8;  // length + masked crc
constexpr std::string_view kMetaMagic{"QDMETA\0", 7};
constexpr char kMetaVersion = 2;
constexpr size_t kMetaV1BodySize = 8 + 5 * 8;  // magic+version, depth, four positions
constexpr size_t kMetaBodySize = 8 + 7 * 8;    // ... and the handed-out position
constexpr size_t kMetaSize = kMetaBodySize + 4;
// Writes are batched up to this much; a read-ahead fetches this much.
constexpr size_t kFlushBytes = 64 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

struct Meta {
  int64_t depth = 0;                // records from the floor to the end
  uint64_t read_seg = 0;            // the floor
  uint64_t read_off = kHeaderSize;
  uint64_t write_seg = 0;
  uint64_t write_off = kHeaderSize;
  uint64_t handed_seg = 0;          // records before this (and after the floor) were taken
  uint64_t handed_off = kHeaderSize;
  bool operator==(const Meta&) const = default;
};

std::string EncodeMeta(const Meta& m) {
  std::string out(kMetaMagic);
  out += kMetaVersion;
  AppendBE64(out, static_cast<uint64_t>(m.depth));
  AppendBE64(out, m.read_seg);
  AppendBE64(out, m.read_off);
  AppendBE64(out, m.write_seg);
  AppendBE64(out, m.write_off);
  AppendBE64(out, m.handed_seg);
  AppendBE64(out, m.handed_off);
  AppendBE32(out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

std::optional<Meta> DecodeMeta(std::string_view data) {
  if (data.size() < 8 || !data.starts_with(kMetaMagic)) return std::nullopt;
  const size_t body = data[7] == 1 ? kMetaV1BodySize : data[7] == kMetaVersion ? kMetaBodySize : 0;
  if (body == 0 || data.size() != body + 4) return std::nullopt;
  uint32_t crc = crc32c::Unmask(LoadBE32(data.data() + body));
  if (crc32c::Value(data.data(), body) != crc) return std::nullopt;
  const char* p = data.data() + 8;
  Meta m;
  m.depth = static_cast<int64_t>(LoadBE64(p));
  m.read_seg = LoadBE64(p + 8);
  m.read_off = LoadBE64(p + 16);
  m.write_seg = LoadBE64(p + 24);
  m.write_off = LoadBE64(p + 32);
  m.handed_seg = body == kMetaBodySize ? LoadBE64(p + 40) : m.read_seg;
  m.handed_off = body == kMetaBodySize ? LoadBE64(p + 48) : m.read_off;
  return m;
}

// A meta file whose CRC matches can still describe an impossible state (written by a buggy
// version); such a meta is treated like a corrupt one.
bool Plausible(const Meta& m) {
  if (m.depth < 0 || m.read_off < kHeaderSize || m.write_off < kHeaderSize) return false;
  return m.read_seg < m.write_seg || (m.read_seg == m.write_seg && m.read_off <= m.write_off);
}

std::string SegmentHeader() {
  std::string h(kSegmentMagic);
  h += kSegmentVersion;
  return h;
}

// Reads one segment: [0, file_size) from its file through a read-ahead cache, then
// [file_size, end()) from tail, the part of the write buffer not written yet. Serving
// buffered bytes from memory means a reader never forces a write, and keeps working while
// the disk is full.
class SegmentReader {
 public:
  enum class Result { kOk, kShort, kIoError };

  void Bind(const file::File* file, uint64_t file_size, std::string_view tail) {
    file_ = file;
    file_size_ = file_size;
    tail_ = tail;
  }
  void Reset() {
    cache_.clear();
    cache_off_ = 0;
  }
  uint64_t end() const { return file_size_ + tail_.size(); }
  const std::string& path() const { return file_->path(); }

  // Points *out at bytes [off, off+n); valid until the next call. kShort if they are not all
  // there.
  Result Peek(uint64_t off, uint64_t n, std::string_view* out, int* err) {
    if (off > end() || n > end() - off) return Result::kShort;
    if (off >= file_size_) {
      *out = tail_.substr(off - file_size_, n);
      return Result::kOk;
    }
    if (off + n <= file_size_) return PeekFile(off, n, out, err);
    // Straddles the end of the file: a write that failed part-way left a partial batch.
    uint64_t in_file = file_size_ - off;
    std::string_view head;
    if (Result r = PeekFile(off, in_file, &head, err); r != Result::kOk) return r;
    scratch_.assign(head);
    scratch_.append(tail_.substr(0, n - in_file));
    *out = scratch_;
    return Result::kOk;
  }

 private:
  Result PeekFile(uint64_t off, uint64_t n, std::string_view* out, int* err) {
    if (off < cache_off_ || off + n > cache_off_ + cache_.size()) {
      // Bytes below file_size_ never change, so whatever the cache holds stays true.
      uint64_t want = std::min<uint64_t>(std::max<uint64_t>(n, kReadChunk), file_size_ - off);
      cache_.resize(want);
      size_t got = 0;
      *err = file_->PRead(cache_.data(), want, off, &got);
      if (*err == 0 && got < want) *err = EIO;  // shorter than it was: someone truncated it
      if (*err != 0) {
        Reset();
        return Result::kIoError;
      }
      cache_off_ = off;
    }
    *out = std::string_view(cache_).substr(off - cache_off_, n);
    return Result::kOk;
  }

  const file::File* file_ = nullptr;
  uint64_t file_size_ = 0;
  std::string_view tail_;
  std::string cache_;
  uint64_t cache_off_ = 0;
  std::string scratch_;
};

enum class Check { kValid, kInvalid, kIoError };

// Whether a whole record with a matching CRC starts at off. On kValid, *payload views it
// (until the reader's next call) and *size is its length on disk.
Check CheckRecord(SegmentReader& r, uint64_t off, uint32_t max_len, std::string_view* payload,
                  uint64_t* size, int* err) {
  std::string_view head;
  SegmentReader::Result res = r.Peek(off, kRecordHeaderSize, &head, err);
  if (res != SegmentReader::Result::kOk) {
    return res == SegmentReader::Result::kShort ? Check::kInvalid : Check::kIoError;
  }
  uint32_t len = LoadBE32(head.data());
  uint32_t crc = crc32c::Unmask(LoadBE32(head.data() + 4));
  if (len > max_len) return Check::kInvalid;
  res = r.Peek(off + kRecordHeaderSize, len, payload, err);
  if (res != SegmentReader::Result::kOk) {
    return res == SegmentReader::Result::kShort ? Check::kInvalid : Check::kIoError;
  }
  if (crc32c::Value(payload->data(), payload->size()) != crc) return Check::kInvalid;
  *size = kRecordHeaderSize + len;
  return Check::kValid;
}

// Resynchronises after damage: the first offset >= from where a valid record starts
// (kValid, *found), or kInvalid if none does before the end. A false match needs a length
// in range and a 32-bit CRC agreeing by chance, so good records after the damage are found.
Check FindNextRecord(SegmentReader& r, uint64_t from, uint32_t max_len, uint64_t* found,
                     int* err) {
  for (uint64_t pos = from; pos + kRecordHeaderSize <= r.end(); ++pos) {
    std::string_view payload;
    uint64_t size;
    Check c = CheckRecord(r, pos, max_len, &payload, &size, err);
    if (c == Check::kInvalid) continue;
    *found = pos;
    return c;
  }
  return Check::kInvalid;
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

struct DiskQueue::Impl {
  explicit Impl(const Options& o) : options(o), base(o.dir + "/" + o.name + ".q.") {}

  // --- Paths and listing -----------------------------------------------------------------
  std::string SegmentPath(uint64_t seg) const {
    char num[32];
    std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(seg));
    return base + num + ".seg";
  }
  std::string MetaPath() const { return base + "meta"; }
  std::string MetaTmpPath() const { return base + "meta.tmp"; }

  bool ListSegments(std::vector<uint64_t>* segs, std::string* error) const;
  void DeleteSegmentsBefore(uint64_t seg, std::vector<uint64_t>* segs) const;

  // --- Open / recovery -------------------------------------------------------------------
  bool Recover(std::string* error);
  std::optional<Meta> LoadMeta();
  bool WriteSegmentHolds(const Meta& m) const;
  bool ScanForward(uint64_t seg, uint64_t off, const std::vector<uint64_t>& segs,
                   std::string* error);
  struct ScanResult {
    int64_t units = 0;  // valid records + corrupt stretches
    uint64_t end = 0;
  };
  bool ScanSegment(uint64_t seg, uint64_t from, bool last, ScanResult* out, std::string* error);

  // --- Writing ---------------------------------------------------------------------------
  bool Put(std::string_view record, std::string* error, RecordRef* ref);
  bool EnsureWriteFile(std::string* error);
  bool Flush(std::string* error);
  bool SyncWriteFile(std::string* error);
  bool Rollover(std::string* error);
  bool Sync(std::string* error);
  bool WriteMeta(const Meta& m, std::string* error);
  Meta CurrentMeta() const {
    Meta m{depth, read_seg, read_off, write_seg, write_off, read_seg, read_off};
    if (HandedBefore(read_seg, read_off)) {
      // Still re-reading what was taken before the last restart: keep that mark for the next.
      m.handed_seg = handed_seg;
      m.handed_off = handed_off;
    }
    if (!outstanding.empty()) {
      // Everything taken since the floor is read again after a restart.
      m.depth += static_cast<int64_t>(next_seq - outstanding.front().seq);
      m.read_seg = outstanding.front().ref.seg;
      m.read_off = outstanding.front().ref.off;
    }
    return m;
  }
  void ApplyMeta(const Meta& m) {
    depth = m.depth;
    read_seg = m.read_seg;
    read_off = m.read_off;
    write_seg = m.write_seg;
    write_off = file_end = m.write_off;
    handed_seg = m.handed_seg;
    handed_off = m.handed_off;
  }
  uint64_t FloorSeg() const {
    return outstanding.empty() ? read_seg : outstanding.front().ref.seg;
  }
  void DeleteSegmentsBelowFloor(uint64_t floor_seg);

  bool PrepareSync(std::vector<SyncJob>* jobs, std::string* error);
  bool CountOp(std::string* error);

  // --- Reading ---------------------------------------------------------------------------
  std::optional<Taken> Take();
  std::optional<TakenRef> TakeRef();
  std::optional<uint64_t> Skip(const RecordRef& ref);
  void Ack(uint64_t seq);
  std::optional<std::string> ReadAt(const RecordRef& ref);
  bool HandedBefore(uint64_t seg, uint64_t off) const {
    return seg < handed_seg || (seg == handed_seg && off < handed_off);
  }
  bool CaughtUp() const { return read_seg == write_seg && read_off >= write_off; }
  enum class ReadFile { kOk, kMissing, kError };
  ReadFile OpenReadFile();
  void BindReader() {
    if (read_seg == write_seg) {
      reader.Bind(&read_file, file_end, buffer);
    } else {
      reader.Bind(&read_file, read_seg_size, {});
    }
  }
  void SkipCorruption();
  void AdvanceReadSegment();
  // Moves the read position to the next segment if the current one is read to its end.
  bool AtEndOfReadSegment();
  void AdvanceIfSegmentDone() {
    if (read_seg < write_seg && read_size_known && read_off >= read_seg_size) {
      AdvanceReadSegment();
    }
  }

  // --- Clear / close ---------------------------------------------------------------------
  bool Clear(std::string* error);
  bool Close(std::string* error);
  void Delete();
  void CloseFiles() {
    write_file.Close();
    read_file.Close();
    reader.Reset();
    read_size_known = false;
    random_file.Close();
    random_reader.Reset();
    random_seg = UINT64_MAX;
  }

  Options options;
  std::string base;  // "<dir>/<name>.q."

  uint64_t read_seg = 0;
  uint64_t read_off = kHeaderSize;
  uint64_t write_seg = 0;
  uint64_t write_off = kHeaderSize;  // logical end of the queue, buffered bytes included
  uint64_t file_end = kHeaderSize;   // how much of the write segment is in the file
  uint64_t read_seg_size = 0;        // file size of the read segment once it is not written to
  bool read_size_known = false;
  int64_t depth = 0;

  file::File write_file;  // opened lazily: a queue that never overflows makes no files
  file::File read_file;
  SegmentReader reader;
  std::string buffer;  // bytes [file_end, write_off) of the write segment

  bool write_unsynced = false;  // bytes written to write_file since its last fdatasync
  bool dirty = false;           // state differs from the meta file
  bool meta_on_disk = false;
  bool closed = false;
  // After a failed fsync the kernel may have dropped the dirty pages and a retry would
  // "succeed" without them (PostgreSQL's fsyncgate), so the queue refuses writes until a
  // restart re-reads what the disk really holds.
  // Shared with background sync jobs, which set it when their fsync fails.
  std::shared_ptr<std::string> sync_failure = std::make_shared<std::string>();
  int64_t ops_since_sync = 0;
  uint64_t corrupt = 0;

  // Records taken and not acknowledged: seq -> where the record starts. The first is the
  // floor. Seqs are given in read order, one per record (or skipped corrupt stretch).
  // In seq order; the front is never acknowledged (acknowledged fronts are popped), and
  // acknowledged entries behind it are compacted away once they are the majority.
  struct Outstanding {
    uint64_t seq;
    RecordRef ref;
    bool acked;
  };
  std::deque<Outstanding> outstanding;
  size_t unacked = 0;
  void AddOutstanding(uint64_t seq, const RecordRef& ref) {
    outstanding.push_back(Outstanding{seq, ref, false});
    ++unacked;
  }
  uint64_t next_seq = 1;
  uint64_t handed_seg = 0, handed_off = kHeaderSize;  // from the meta read at Open
  uint64_t oldest_seg = 0;       // lowest segment file that may still exist
  bool dir_unsynced = false;     // a segment file was created since the directory's last fsync
  // Random reads (ReadAt) of segments other than the write segment.
  file::File random_file;
  uint64_t random_seg = UINT64_MAX;
  SegmentReader random_reader;
};

// --- Paths and listing ---------------------------------------------------------------------

bool DiskQueue::Impl::ListSegments(std::vector<uint64_t>* segs, std::string* error) const {
  std::vector<std::string> names;
  if (int err = file::ListDir(options.dir, &names)) {
    return Fail(error, file::Describe("list", options.dir, err));
  }
  // Only "<name>.q.<digits>.seg": the digits rule keeps topic "a" off topic "a.q.b"'s files.
  std::string prefix = options.name + ".q.";
  segs->clear();
  constexpr std::string_view kSuffix = ".seg";
  for (std::string_view n : names) {
    if (n.size() <= prefix.size() + kSuffix.size() || !n.starts_with(prefix) ||
        !n.ends_with(kSuffix)) {
      continue;
    }
    std::string_view digits = n.substr(prefix.size(), n.size() - prefix.size() - kSuffix.size());
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    segs->push_back(std::stoull(std::string(digits)));
  }
  std::sort(segs->begin(), segs->end());
  return true;
}

void DiskQueue::Impl::DeleteSegmentsBefore(uint64_t seg, std::vector<uint64_t>* segs) const {
  auto keep = std::lower_bound(segs->begin(), segs->end(), seg);
  for (auto it = segs->begin(); it != keep; ++it) {
    // Left behind by a crash between persisting the read position and the unlink.
    std::string path = SegmentPath(*it);
    if (int err = file::Unlink(path); err != 0 && err != ENOENT) {
      LOG_WARN("DISKQUEUE(", options.name, "): ", file::Describe("unlink", path, err));
    }
  }
  segs->erase(segs->begin(), keep);
}

// --- Open / recovery -----------------------------------------------------------------------

std::optional<Meta> DiskQueue::Impl::LoadMeta() {
  file::File f;
  int err = f.Open(MetaPath(), O_RDONLY);
  if (err == ENOENT) return std::nullopt;
  meta_on_disk = true;
  char buf[kMetaSize + 1];
  size_t got = 0;
  if (err == 0) err = f.PRead(buf, sizeof buf, 0, &got);
  if (err != 0) {
    LOG_WARN("DISKQUEUE(", options.name, "): ", file::Describe("read", MetaPath(), err),
             "; rebuilding the queue from its segment files");
    return std::nullopt;
  }
  std::optional<Meta> m = DecodeMeta({buf, got});
  if (!m || !Plausible(*m)) {
    LOG_WARN("DISKQUEUE(", options.name, "): ", MetaPath(), " is corrupt (", got,
             " bytes); rebuilding the queue from its segment files");
    return std::nullopt;
  }
  return m;
}

// Whether the write segment really holds everything the meta file says was written. It
// does unless something outside qd removed or shortened it; data is fsynced before the meta
// that counts it is written.
bool DiskQueue::Impl::WriteSegmentHolds(const Meta& m) const {
  if (m.write_off == kHeaderSize) return true;
  file::File f;
  uint64_t size = 0;
  int err = f.Open(SegmentPath(m.write_seg), O_RDONLY);
  if (err == 0) err = f.Size(&size);
  if (err == 0 && size >= m.write_off) return true;
  LOG_WARN("DISKQUEUE(", options.name, "): ", SegmentPath(m.write_seg), " ends before offset ",
           m.write_off, " the meta file records",
           err != 0 ? " (" + file::Describe("open", SegmentPath(m.write_seg), err) + ")" : "",
           "; recounting from the read position");
  return false;
}

bool DiskQueue::Impl::Recover(std::string* error) {
  if (int err = file::Unlink(MetaTmpPath()); err != 0 && err != ENOENT) {
    return Fail(error, file::Describe("unlink", MetaTmpPath(), err));
  }
  std::vector<uint64_t> segs;
  if (!ListSegments(&segs, error)) return false;
  std::optional<Meta> meta = LoadMeta();
  bool ok;
  if (meta) {
    DeleteSegmentsBefore(meta->read_seg, &segs);
    ApplyMeta(*meta);
    oldest_seg = meta->read_seg;
    if (WriteSegmentHolds(*meta)) {
      // The common case: only records written after the last sync need counting.
      ok = ScanForward(meta->write_seg, meta->write_off, segs, error);
    } else {
      depth = 0;
      ok = ScanForward(read_seg, read_off, segs, error);
    }
  } else {
    // Without a trustworthy read position every record still on disk is unread: some may
    // be delivered twice, none is lost, and nothing existing is overwritten.
    Meta start;
    if (!segs.empty()) start.read_seg = start.write_seg = start.handed_seg = segs.front();
    ApplyMeta(start);
    oldest_seg = start.read_seg;
    ok = ScanForward(read_seg, read_off, segs, error);
    if (ok && !segs.empty()) {
      LOG_WARN("DISKQUEUE(", options.name, "): rebuilt from ", segs.size(),
               " segment file(s): depth ", depth);
    }
  }
  if (!ok) return false;
  dirty = (meta_on_disk || !segs.empty()) && (!meta || CurrentMeta() != *meta);
  return !dirty || Sync(error);
}

// Counts what lies from (seg, off) to the end of the last segment file, adds it to depth,
// cuts a torn tail off the last file and makes that file the write segment.
bool DiskQueue::Impl::ScanForward(uint64_t seg, uint64_t off, const std::vector<uint64_t>& segs,
                                  std::string* error) {
  std::vector<uint64_t> todo;
  for (uint64_t s : segs) {
    if (s >= seg) todo.push_back(s);
  }
  if (todo.empty()) {
    write_seg = seg;
    write_off = file_end = kHeaderSize;
  }
  for (uint64_t s : todo) {
    ScanResult r;
    bool last = s == todo.back();
    if (!ScanSegment(s, s == seg ? off : kHeaderSize, last, &r, error)) return false;
    depth += r.units;
    if (last) {
      write_seg = s;
      write_off = file_end = r.end;
    }
  }
  if (read_seg > write_seg || (read_seg == write_seg && read_off > write_off)) {
    LOG_WARN("DISKQUEUE(", options.name, "): read position ", read_seg, ":", read_off,
             " is past the data on disk; resetting it to ", write_seg, ":", write_off);
    read_seg = write_seg;
    read_off = write_off;
  }
  if (CaughtUp()) depth = 0;
  return true;
}

bool DiskQueue::Impl::ScanSegment(uint64_t seg, uint64_t from, bool last, ScanResult* out,
                                  std::string* error) {
  const std::string path = SegmentPath(seg);
  file::File f;
  uint64_t size = 0;
  if (int err = f.Open(path, last ? O_RDWR : O_RDONLY)) {
    return Fail(error, file::Describe("open", path, err));
  }
  if (int err = f.Size(&size)) return Fail(error, file::Describe("stat", path, err));

  if (size < kHeaderSize) {
    // Created, then the process died before the header reached the disk.
    out->end = kHeaderSize;
    if (!last) return true;
    size_t written = 0;
    int err = f.Truncate(0);
    if (err == 0) err = f.PWrite(SegmentHeader(), 0, &written);
    if (err != 0) return Fail(error, file::Describe("rewrite header of", path, err));
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, ": rewrote a torn header (", size, " bytes)");
    write_unsynced = true;
    write_file = std::move(f);
    return true;
  }

  reader.Reset();
  reader.Bind(&f, size, {});
  std::string_view header;
  int err = 0;
  if (reader.Peek(0, kHeaderSize, &header, &err) != SegmentReader::Result::kOk) {
    return Fail(error, file::Describe("read", path, err));
  }
  if (!header.starts_with(kSegmentMagic)) {
    // One damaged header says nothing about the records: their CRCs will.
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, ": bad segment magic; reading on");
  } else if (header[7] != kSegmentVersion) {
    return Fail(error, path + ": segment format version " + std::to_string(header[7]) +
                           " is not supported by this qd");
  }

  uint64_t pos = std::min(std::max(from, kHeaderSize), size);
  while (pos < size) {
    std::string_view payload;
    uint64_t rec_size = 0;
    Check c = CheckRecord(reader, pos, options.max_record_size, &payload, &rec_size, &err);
    if (c == Check::kValid) {
      ++out->units;
      pos += rec_size;
      continue;
    }
    uint64_t next = 0;
    if (c == Check::kInvalid) c = FindNextRecord(reader, pos + 1, options.max_record_size, &next, &err);
    if (c == Check::kIoError) return Fail(error, file::Describe("read", path, err));
    if (c == Check::kInvalid) break;  // nothing valid up to the end
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, ": corrupt data at offset ", pos, " (",
             next - pos, " bytes), will be skipped when read");
    ++out->units;
    pos = next;
  }
  reader.Reset();

  if (pos < size && last) {
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, ": truncating a torn tail at offset ", pos,
             " (", size - pos, " bytes)");
    if (int e = f.Truncate(pos)) return Fail(error, file::Describe("truncate", path, e));
    write_unsynced = true;
  } else if (pos < size) {
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, ": corrupt data from offset ", pos,
             " to the end (", size - pos, " bytes), will be skipped when read");
    ++out->units;
  }
  out->end = last ? pos : size;
  if (last) write_file = std::move(f);
  return true;
}

// --- Writing -------------------------------------------------------------------------------

bool DiskQueue::Impl::Put(std::string_view record, std::string* error, RecordRef* ref) {
  if (closed) return Fail(error, "disk queue " + options.name + " is closed");
  if (!sync_failure->empty()) return Fail(error, *sync_failure);
  if (record.size() > options.max_record_size) {
    return Fail(error, "record of " + std::to_string(record.size()) +
                           " bytes is larger than the limit of " +
                           std::to_string(options.max_record_size));
  }
  const uint64_t need = kRecordHeaderSize + record.size();
  // A record never straddles segments; one too big for any segment gets one of its own.
  if (write_off > kHeaderSize && write_off + need > options.max_bytes_per_file &&
      !Rollover(error)) {
    return false;
  }
  // Flush before appending, so a failed write leaves this record out rather than half in.
  if (!buffer.empty() && buffer.size() + need > kFlushBytes && !Flush(error)) return false;
  if (!EnsureWriteFile(error)) return false;
  if (ref) *ref = RecordRef{write_seg, write_off, need};
  AppendBE32(buffer, static_cast<uint32_t>(record.size()));
  AppendBE32(buffer, crc32c::Mask(crc32c::Value(record.data(), record.size())));
  buffer.append(record);
  write_off += need;
  ++depth;
  dirty = true;
  return CountOp(error);
}

bool DiskQueue::Impl::EnsureWriteFile(std::string* error) {
  if (write_file.is_open()) return true;
  const std::string path = SegmentPath(write_seg);
  // O_EXCL: whatever is already there is somebody's data, never ours to overwrite.
  if (int err = write_file.Open(path, O_RDWR | O_CREAT | O_EXCL)) {
    write_file.Close();
    return Fail(error, file::Describe("create", path, err));
  }
  size_t written = 0;
  if (int err = write_file.PWrite(SegmentHeader(), 0, &written)) {
    write_file.Close();
    file::Unlink(path);  // so the next attempt can create it again
    return Fail(error, file::Describe("write", path, err));
  }
  write_off = file_end = kHeaderSize;
  write_unsynced = true;
  dir_unsynced = true;
  return true;
}

bool DiskQueue::Impl::Flush(std::string* error) {
  if (buffer.empty()) return true;
  size_t written = 0;
  int err = write_file.PWrite(buffer, file_end, &written);
  // Whatever landed stays: the file and file_end must agree even after a part-way failure.
  buffer.erase(0, written);
  file_end += written;
  if (written > 0) write_unsynced = true;
  if (err != 0) return Fail(error, file::Describe("write", write_file.path(), err));
  return true;
}

bool DiskQueue::Impl::SyncWriteFile(std::string* error) {
  if (!write_unsynced || !write_file.is_open()) return true;
  if (int err = write_file.DataSync()) {
    *sync_failure = file::Describe("fsync", write_file.path(), err) +
                    " (writes are refused until qd restarts)";
    LOG_ERROR("DISKQUEUE(", options.name, "): ", *sync_failure);
    return Fail(error, *sync_failure);
  }
  write_unsynced = false;
  return true;
}

bool DiskQueue::Impl::Rollover(std::string* error) {
  // The old segment is complete once left; it must be durable before anything counts on it.
  if (!Flush(error) || !SyncWriteFile(error)) return false;
  write_file.Close();
  if (read_seg == write_seg) {
    read_seg_size = file_end;
    read_size_known = true;
  }
  ++write_seg;
  write_off = file_end = kHeaderSize;
  dirty = true;
  AdvanceIfSegmentDone();
  return true;
}

bool DiskQueue::Impl::Sync(std::string* error) {
  if (closed) return true;
  if (!sync_failure->empty()) return Fail(error, *sync_failure);
  if (!Flush(error) || !SyncWriteFile(error)) return false;
  if (dirty) {
    const uint64_t floor_seg = FloorSeg();
    if (!WriteMeta(CurrentMeta(), error)) return false;
    dirty = false;
    DeleteSegmentsBelowFloor(floor_seg);
  }
  ops_since_sync = 0;
  return true;
}

// Segments wholly below a floor that is on disk are read and acknowledged: nothing will
// ever read them again.
void DiskQueue::Impl::DeleteSegmentsBelowFloor(uint64_t floor_seg) {
  for (; oldest_seg < floor_seg; ++oldest_seg) {
    if (oldest_seg == random_seg) {
      random_file.Close();
      random_reader.Reset();
      random_seg = UINT64_MAX;
    }
    const std::string path = SegmentPath(oldest_seg);
    if (int err = file::Unlink(path); err != 0 && err != ENOENT) {
      LOG_WARN("DISKQUEUE(", options.name, "): ", file::Describe("unlink", path, err));
    }
  }
}

bool DiskQueue::Impl::PrepareSync(std::vector<SyncJob>* jobs, std::string* error) {
  if (closed) return true;
  if (!sync_failure->empty()) return Fail(error, *sync_failure);
  if (!Flush(error)) return false;
  SyncJob job;
  job.failure = sync_failure;
  if (write_unsynced && write_file.is_open()) {
    job.fd = write_file.Dup();
    if (job.fd < 0) return Fail(error, file::Describe("dup", write_file.path(), errno));
    job.path = write_file.path();
    write_unsynced = false;
  }
  if (dir_unsynced) {
    job.dir = options.dir;
    dir_unsynced = false;
  }
  if (job.fd >= 0 || !job.dir.empty()) jobs->push_back(std::move(job));
  ops_since_sync = 0;
  return true;
}

bool DiskQueue::Impl::WriteMeta(const Meta& m, std::string* error) {
  const std::string tmp = MetaTmpPath();
  const std::string data = EncodeMeta(m);
  file::File f;
  size_t written = 0;
  int err = f.Open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (err == 0) err = f.PWrite(data, 0, &written);
  if (err == 0) err = f.DataSync();
  f.Close();
  if (err != 0) {
    file::Unlink(tmp);
    return Fail(error, file::Describe("write", tmp, err));
  }
  if (int e = file::Rename(tmp, MetaPath())) {
    file::Unlink(tmp);
    return Fail(error, file::Describe("rename", tmp, e));
  }
  meta_on_disk = true;
  // Without this the rename (and new segment files) may not survive a power loss.
  if (int e = file::SyncDir(options.dir)) return Fail(error, file::Describe("fsync", options.dir, e));
  dir_unsynced = false;
  return true;
}

bool DiskQueue::Impl::CountOp(std::string* error) {
  if (++ops_since_sync < options.sync_every) return true;
  if (options.on_sync_due) {
    ops_since_sync = 0;
    options.on_sync_due();
    return true;
  }
  return Sync(error);
}

// --- Reading -------------------------------------------------------------------------------

DiskQueue::Impl::ReadFile DiskQueue::Impl::OpenReadFile() {
  if (read_file.is_open() && (read_seg == write_seg || read_size_known)) return ReadFile::kOk;
  const std::string path = SegmentPath(read_seg);
  int err = read_file.is_open() ? 0 : read_file.Open(path, O_RDONLY);
  // A segment no longer written to is read up to its real size, so a different
  // max_bytes_per_file on the last run does not matter.
  if (err == 0 && read_seg < write_seg && !read_size_known) {
    err = read_file.Size(&read_seg_size);
    read_size_known = err == 0;
  }
  if (err == 0) return ReadFile::kOk;
  read_file.Close();
  if (err == ENOENT && read_seg < write_seg) {
    LOG_WARN("DISKQUEUE(", options.name, "): ", path, " is missing; skipping it");
    return ReadFile::kMissing;
  }
  LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("open", path, err));
  return ReadFile::kError;
}

std::optional<DiskQueue::Taken> DiskQueue::Impl::Take() {
  std::optional<TakenRef> r = TakeRef();
  if (!r) return std::nullopt;
  Taken out;
  out.data.assign(r->data);
  out.seq = r->seq;
  out.ref = r->ref;
  out.handed_before = r->handed_before;
  return out;
}

std::optional<DiskQueue::TakenRef> DiskQueue::Impl::TakeRef() {
  if (closed) return std::nullopt;
  while (!CaughtUp()) {
    ReadFile rf = OpenReadFile();
    if (rf == ReadFile::kError) return std::nullopt;  // position kept: a later Pop retries
    if (rf == ReadFile::kMissing) {
      AdvanceReadSegment();
      continue;
    }
    if (read_seg < write_seg && read_off >= read_seg_size) {
      AdvanceReadSegment();
      continue;
    }
    BindReader();
    std::string_view payload;
    uint64_t size = 0;
    int err = 0;
    Check c = CheckRecord(reader, read_off, options.max_record_size, &payload, &size, &err);
    if (c == Check::kIoError) {
      LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("read", reader.path(), err));
      return std::nullopt;
    }
    if (c == Check::kInvalid) {
      SkipCorruption();
      continue;
    }
    TakenRef out;
    out.data = payload;
    out.seq = next_seq++;
    out.ref = RecordRef{read_seg, read_off, size};
    out.handed_before = HandedBefore(read_seg, read_off);
    AddOutstanding(out.seq, out.ref);
    read_off += size;
    depth = std::max<int64_t>(0, depth - 1);
    dirty = true;
    AdvanceIfSegmentDone();
    // Only puts count towards --sync-every. The read position is saved by the owner's
    // --sync-timeout sync (dirty is set): a crash may replay up to that much of what was
    // read (at-least-once), and a reader draining a backlog is not held to one meta
    // write and three fsyncs per sync_every records.
    return out;
  }
  if (depth != 0) {
    LOG_WARN("DISKQUEUE(", options.name, "): reader caught up with depth ", depth,
             " left; resetting it to 0");
    depth = 0;
    dirty = true;
  }
  return std::nullopt;
}

// Moves the reader from a damaged record to the next valid one in the segment (or its end),
// keeping every good record after the damage.
void DiskQueue::Impl::SkipCorruption() {
  uint64_t next = reader.end();
  int err = 0;
  Check c = FindNextRecord(reader, read_off + 1, options.max_record_size, &next, &err);
  if (c == Check::kIoError) {
    // Unknown extent; a later Pop tries again rather than skip data it could not read.
    LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("read", reader.path(), err));
    return;
  }
  if (c == Check::kInvalid) next = reader.end();
  LOG_WARN("DISKQUEUE(", options.name, "): ", reader.path(), ": skipping corrupt data at offset ",
           read_off, " (", next - read_off, " bytes)");
  ++corrupt;
  ++next_seq;  // the stretch counts as one unit, as in depth
  depth = std::max<int64_t>(0, depth - 1);
  read_off = next;
  dirty = true;
  AdvanceIfSegmentDone();
}

void DiskQueue::Impl::AdvanceReadSegment() {
  read_file.Close();
  reader.Reset();
  read_size_known = false;
  ++read_seg;
  read_off = kHeaderSize;
  dirty = true;
  // The finished segment is deleted by a later Sync, once a floor past it is on disk;
  // records in it may still be unacknowledged.
}

bool DiskQueue::Impl::AtEndOfReadSegment() {
  if (read_seg >= write_seg) return false;
  if (OpenReadFile() == ReadFile::kError) return false;
  return !read_file.is_open() || read_off >= read_seg_size;
}

std::optional<uint64_t> DiskQueue::Impl::Skip(const RecordRef& ref) {
  if (closed) return std::nullopt;
  while (read_seg < ref.seg && AtEndOfReadSegment()) AdvanceReadSegment();
  if (read_seg != ref.seg || read_off != ref.off || CaughtUp()) return std::nullopt;
  uint64_t seq = next_seq++;
  AddOutstanding(seq, RecordRef{read_seg, read_off, ref.size});
  read_off += ref.size;
  depth = std::max<int64_t>(0, depth - 1);
  dirty = true;
  AdvanceIfSegmentDone();
  return seq;
}

void DiskQueue::Impl::Ack(uint64_t seq) {
  if (outstanding.empty() || seq < outstanding.front().seq) return;
  // Seqs are handed out one per record, so until a corrupt stretch or a compaction leaves a
  // gap the entry sits at its distance from the front: no search (a binary search over the
  // deque was ~10 % of qd's instructions when draining a backlog).
  auto it = outstanding.end();
  if (uint64_t i = seq - outstanding.front().seq; i < outstanding.size() && outstanding[i].seq == seq) {
    it = outstanding.begin() + static_cast<std::ptrdiff_t>(i);
  } else {
    it = std::lower_bound(outstanding.begin(), outstanding.end(), seq,
                          [](const Outstanding& o, uint64_t s) { return o.seq < s; });
  }
  if (it == outstanding.end() || it->seq != seq || it->acked) return;
  it->acked = true;
  --unacked;
  const bool floor_moves = it == outstanding.begin();
  while (!outstanding.empty() && outstanding.front().acked) outstanding.pop_front();
  if (outstanding.size() > 1024 && outstanding.size() > 2 * unacked) {
    std::erase_if(outstanding, [](const Outstanding& o) { return o.acked; });
  }
  // Persisted (and segments below it deleted) by the owner's next Sync, which it orders
  // after syncing wherever the record was copied to.
  if (floor_moves) dirty = true;
}

std::optional<std::string> DiskQueue::Impl::ReadAt(const RecordRef& ref) {
  if (closed) return std::nullopt;
  SegmentReader* r = &random_reader;
  if (ref.seg == write_seg) {
    // The write segment: the file plus what is still buffered.
    if (!write_file.is_open()) return std::nullopt;
    random_reader.Reset();
    random_reader.Bind(&write_file, file_end, buffer);
  } else {
    if (random_seg != ref.seg) {
      random_file.Close();
      random_reader.Reset();
      random_seg = UINT64_MAX;
      if (int err = random_file.Open(SegmentPath(ref.seg), O_RDONLY)) {
        LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("open", SegmentPath(ref.seg), err));
        return std::nullopt;
      }
      random_seg = ref.seg;
    }
    uint64_t size = 0;
    if (int err = random_file.Size(&size)) {
      LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("stat", random_file.path(), err));
      return std::nullopt;
    }
    random_reader.Bind(&random_file, size, {});
  }
  std::string_view payload;
  uint64_t size = 0;
  int err = 0;
  Check c = CheckRecord(*r, ref.off, options.max_record_size, &payload, &size, &err);
  std::optional<std::string> out;
  if (c == Check::kValid) {
    out.emplace(payload);
  } else {
    LOG_ERROR("DISKQUEUE(", options.name, "): record at ", ref.seg, ":", ref.off,
              c == Check::kIoError ? " could not be read: " + std::string(std::strerror(err))
                                   : std::string(" is corrupt"));
    if (c == Check::kInvalid) ++corrupt;
  }
  if (ref.seg == write_seg) random_reader.Reset();  // the buffer it points into changes
  return out;
}

// --- Clear / close -------------------------------------------------------------------------

bool DiskQueue::Impl::Clear(std::string* error) {
  if (closed) return Fail(error, "disk queue " + options.name + " is closed");
  std::vector<uint64_t> segs;
  if (!ListSegments(&segs, error)) return false;
  // A new segment number, so nothing of the old data can be mistaken for the new.
  uint64_t next = std::max(write_seg, segs.empty() ? 0 : segs.back()) + 1;
  Meta fresh{0, next, kHeaderSize, next, kHeaderSize, next, kHeaderSize};
  // The meta goes first: if we die half-way, leftovers sit below the read position and the
  // next Open deletes them instead of serving them again.
  if ((meta_on_disk || !segs.empty()) && !WriteMeta(fresh, error)) return false;
  CloseFiles();
  buffer.clear();
  ApplyMeta(fresh);
  outstanding.clear();
  unacked = 0;
  oldest_seg = next;
  random_file.Close();
  random_reader.Reset();
  random_seg = UINT64_MAX;
  write_unsynced = false;
  dirty = false;
  ops_since_sync = 0;
  std::string first_error;
  for (uint64_t s : segs) {
    std::string path = SegmentPath(s);
    if (int err = file::Unlink(path); err != 0 && err != ENOENT && first_error.empty()) {
      first_error = file::Describe("unlink", path, err);
    }
  }
  if (!segs.empty()) {
    if (int err = file::SyncDir(options.dir); err != 0 && first_error.empty()) {
      first_error = file::Describe("fsync", options.dir, err);
    }
  }
  return first_error.empty() || Fail(error, first_error);
}

bool DiskQueue::Impl::Close(std::string* error) {
  if (closed) return true;
  bool ok = Sync(error);
  CloseFiles();
  buffer.clear();
  closed = true;
  return ok;
}

void DiskQueue::Impl::Delete() {
  CloseFiles();
  buffer.clear();
  closed = true;
  std::vector<uint64_t> segs;
  std::string error;
  if (!ListSegments(&segs, &error)) LOG_ERROR("DISKQUEUE(", options.name, "): ", error);
  std::vector<std::string> paths{MetaPath(), MetaTmpPath()};
  for (uint64_t s : segs) paths.push_back(SegmentPath(s));
  for (const std::string& path : paths) {
    if (int err = file::Unlink(path); err != 0 && err != ENOENT) {
      LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("unlink", path, err));
    }
  }
  if (int err = file::SyncDir(options.dir)) {
    LOG_ERROR("DISKQUEUE(", options.name, "): ", file::Describe("fsync", options.dir, err));
  }
}

// --- Public interface ----------------------------------------------------------------------

std::unique_ptr<DiskQueue> DiskQueue::Open(const Options& options, std::string* error) {
  if (options.dir.empty() || options.name.empty()) {
    Fail(error, "disk queue needs a directory and a name");
    return nullptr;
  }
  if (options.name.find('/') != std::string::npos) {
    Fail(error, "disk queue name " + options.name + " contains '/'");
    return nullptr;
  }
  std::unique_ptr<DiskQueue> q(new DiskQueue());
  q->impl_ = std::make_unique<Impl>(options);
  std::string recover_error;
  if (!q->impl_->Recover(&recover_error)) {
    Fail(error, "disk queue " + options.name + ": " + recover_error);
    q->impl_->closed = true;  // nothing to sync on the way out
    return nullptr;
  }
  return q;
}

DiskQueue::~DiskQueue() {
  if (!impl_ || impl_->closed) return;
  std::string error;
  if (!impl_->Close(&error)) LOG_ERROR("DISKQUEUE(", impl_->options.name, "): close: ", error);
}

bool DiskQueue::Put(std::string_view record, std::string* error, RecordRef* ref) {
  return impl_->Put(record, error, ref);
}
std::optional<std::string> DiskQueue::Pop() {
  std::optional<Taken> t = impl_->Take();
  if (!t) return std::nullopt;
  impl_->Ack(t->seq);
  return std::move(t->data);
}
std::optional<DiskQueue::Taken> DiskQueue::Take() { return impl_->Take(); }
std::optional<DiskQueue::TakenRef> DiskQueue::TakeRef() { return impl_->TakeRef(); }
std::optional<uint64_t> DiskQueue::Skip(const RecordRef& ref) { return impl_->Skip(ref); }
void DiskQueue::Ack(uint64_t seq) { impl_->Ack(seq); }
std::optional<std::string> DiskQueue::ReadAt(const RecordRef& ref) { return impl_->ReadAt(ref); }
size_t DiskQueue::Unacked() const { return impl_->unacked; }
uint64_t DiskQueue::FloorSegment() const { return impl_->FloorSeg(); }
uint64_t DiskQueue::WriteSegment() const { return impl_->write_seg; }
bool DiskQueue::PrepareSync(std::vector<SyncJob>* jobs, std::string* error) {
  return impl_->PrepareSync(jobs, error);
}

int64_t DiskQueue::Depth() const {
  // Never report empty while unread bytes remain: owners stop reading at Depth() == 0.
  if (impl_->depth == 0 && !impl_->CaughtUp()) return 1;
  return impl_->depth;
}

bool DiskQueue::Sync(std::string* error) { return impl_->Sync(error); }
bool DiskQueue::Flush(std::string* error) {
  if (impl_->closed) return true;
  return impl_->Flush(error);
}
bool DiskQueue::NeedsSync() const {
  const Impl& i = *impl_;
  return !i.closed && (i.dirty || i.write_unsynced || !i.buffer.empty() || i.ops_since_sync > 0);
}
bool DiskQueue::Clear(std::string* error) { return impl_->Clear(error); }
bool DiskQueue::Close(std::string* error) { return impl_->Close(error); }
void DiskQueue::Delete() { impl_->Delete(); }
uint64_t DiskQueue::corrupt_records() const { return impl_->corrupt; }

}  // namespace q
