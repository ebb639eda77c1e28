#include "qd/disk_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/file.h"

namespace q {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSegHeader = 8;
constexpr uint64_t kRecHeader = 8;

std::string Rec(int i, size_t size = 20) {
  std::string s = "record-" + std::to_string(i) + "-";
  s.resize(std::max(size, s.size()), static_cast<char>('a' + i % 26));
  return s;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

void FlipByte(const fs::path& p, uint64_t offset) {
  std::string data = ReadAll(p);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ 0x5a);
  WriteAll(p, data);
}

class DiskQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: these tests check logic, and an fsync there costs nothing.
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
                        ? fs::path("/dev/shm")
                        : fs::temp_directory_path();
    std::string tmpl = (base / "disk_queue_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    options_.dir = dir_.string();
    options_.name = "topic:chan";  // channel queues carry the ':' separator
  }
  void TearDown() override {
    file::SetFaultHook(nullptr);
    fs::remove_all(dir_);
  }

  std::unique_ptr<DiskQueue> OpenQueue(const DiskQueue::Options& options) {
    std::string error;
    auto q = DiskQueue::Open(options, &error);
    EXPECT_NE(q, nullptr) << error;
    return q;
  }
  std::unique_ptr<DiskQueue> OpenQueue() { return OpenQueue(options_); }

  void PutAll(DiskQueue& q, int from, int to, size_t size = 20) {
    for (int i = from; i < to; ++i) {
      std::string error;
      ASSERT_TRUE(q.Put(Rec(i, size), &error)) << error;
    }
  }
  void ExpectPops(DiskQueue& q, int from, int to, size_t size = 20) {
    for (int i = from; i < to; ++i) {
      auto r = q.Pop();
      ASSERT_TRUE(r.has_value()) << "record " << i;
      EXPECT_EQ(*r, Rec(i, size));
    }
  }
  void Close(DiskQueue& q) {
    std::string error;
    ASSERT_TRUE(q.Close(&error)) << error;
  }

  fs::path Segment(uint64_t n, const fs::path& dir) const {
    char num[16];
    std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(n));
    return dir / (options_.name + ".q." + num + ".seg");
  }
  fs::path Segment(uint64_t n) const { return Segment(n, dir_); }
  fs::path Meta() const { return dir_ / (options_.name + ".q.meta"); }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  size_t SegmentCount() const {
    auto names = Files();
    return std::count_if(names.begin(), names.end(),
                         [](const std::string& n) { return n.ends_with(".seg"); });
  }

  // A copy of the files as they are now, as a crash would leave them: written data without
  // the Close that would sync it and write the meta file.
  fs::path SnapshotFiles() {
    fs::path copy = dir_ / "crash";
    fs::create_directory(copy);
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.is_regular_file()) fs::copy_file(e.path(), copy / e.path().filename());
    }
    return copy;
  }

  // Offset of record i in a segment holding records of equal payload size from its start.
  static uint64_t RecordOffset(int i, size_t size = 20) {
    return kSegHeader + static_cast<uint64_t>(i) * (kRecHeader + size);
  }

  fs::path dir_;
  DiskQueue::Options options_;
};

TEST_F(DiskQueueTest, PopsRecordsInTheOrderTheyWerePut) {
  auto q = OpenQueue();
  PutAll(*q, 0, 100);
  ExpectPops(*q, 0, 100);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, DepthCountsRecordsNotYetPopped) {
  auto q = OpenQueue();
  EXPECT_TRUE(q->Empty());
  PutAll(*q, 0, 10);
  EXPECT_EQ(q->Depth(), 10);
  ExpectPops(*q, 0, 4);
  EXPECT_EQ(q->Depth(), 6);
  ExpectPops(*q, 4, 10);
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_TRUE(q->Empty());
}

TEST_F(DiskQueueTest, PopOnEmptyQueueReturnsNothing) {
  auto q = OpenQueue();
  EXPECT_FALSE(q->Pop().has_value());
  PutAll(*q, 0, 1);
  ExpectPops(*q, 0, 1);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, EmptyAndLargeRecordsRoundTrip) {
  auto q = OpenQueue();
  std::string error;
  std::string big(200000, 'x');
  ASSERT_TRUE(q->Put("", &error)) << error;
  ASSERT_TRUE(q->Put(big, &error)) << error;
  ASSERT_TRUE(q->Put("after", &error)) << error;
  EXPECT_EQ(q->Pop(), "");
  EXPECT_EQ(q->Pop(), big);
  EXPECT_EQ(q->Pop(), "after");
}

TEST_F(DiskQueueTest, QueueThatIsNeverWrittenLeavesNoFiles) {
  auto q = OpenQueue();
  EXPECT_FALSE(q->NeedsSync());
  Close(*q);
  EXPECT_TRUE(Files().empty());
}

TEST_F(DiskQueueTest, RollsOverAtMaxBytesAndDeletesConsumedSegments) {
  // Two 28-byte records fit after the 8-byte header in 64 bytes; a third does not.
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 10);
  EXPECT_EQ(SegmentCount(), 5u);
  EXPECT_EQ(fs::file_size(Segment(0)), RecordOffset(2));
  ExpectPops(*q, 0, 3);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;  // consumed segments go once the floor is on disk
  EXPECT_FALSE(fs::exists(Segment(0)));
  EXPECT_TRUE(fs::exists(Segment(1)));
  ExpectPops(*q, 3, 10);
  ASSERT_TRUE(q->Sync(&error)) << error;
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_EQ(SegmentCount(), 1u);  // the one still being written to
  EXPECT_TRUE(fs::exists(Segment(4)));
}

TEST_F(DiskQueueTest, LoneOversizedRecordGetsItsOwnSegment) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  std::string error;
  std::string big(500, 'b');
  PutAll(*q, 0, 1);
  ASSERT_TRUE(q->Put(big, &error)) << error;
  PutAll(*q, 2, 3);
  Close(*q);
  EXPECT_EQ(fs::file_size(Segment(0)), RecordOffset(1));
  EXPECT_EQ(fs::file_size(Segment(1)), kSegHeader + kRecHeader + big.size());
  EXPECT_EQ(fs::file_size(Segment(2)), RecordOffset(1));
  q = OpenQueue();
  ExpectPops(*q, 0, 1);
  EXPECT_EQ(q->Pop(), big);
  ExpectPops(*q, 2, 3);
}

TEST_F(DiskQueueTest, OversizedRecordIsRefusedAndNothingChanges) {
  options_.max_record_size = 100;
  auto q = OpenQueue();
  std::string error;
  EXPECT_FALSE(q->Put(std::string(101, 'x'), &error));
  EXPECT_NE(error.find("101"), std::string::npos) << error;
  EXPECT_EQ(q->Depth(), 0);
  ASSERT_TRUE(q->Put(std::string(100, 'x'), &error)) << error;
  EXPECT_EQ(q->Pop(), std::string(100, 'x'));
}

TEST_F(DiskQueueTest, ReopenAfterCloseKeepsUnreadRecordsAndDepth) {
  auto q = OpenQueue();
  PutAll(*q, 0, 10);
  ExpectPops(*q, 0, 3);
  Close(*q);
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 7);
  ExpectPops(*q, 3, 10);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, DestructorClosesLikeClose) {
  {
    auto q = OpenQueue();
    PutAll(*q, 0, 5);
    ExpectPops(*q, 0, 1);
  }
  auto q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);
  ExpectPops(*q, 1, 5);
}

TEST_F(DiskQueueTest, ReopenAcrossSegmentsKeepsOrderAndDepth) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 9);
  ExpectPops(*q, 0, 3);
  Close(*q);
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 6);
  PutAll(*q, 9, 12);
  ExpectPops(*q, 3, 12);
  EXPECT_EQ(q->Depth(), 0);
}

TEST_F(DiskQueueTest, RecordsWrittenAfterLastSyncSurviveACrash) {
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 5);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  // 30 KiB records push the 64 KiB write buffer out to the file without a Sync: after five
  // of them the first four are in the file and the fifth only in memory.
  PutAll(*q, 5, 10, 30000);
  fs::path crash = SnapshotFiles();
  q->Delete();  // the live queue is done with; the snapshot is what "restarts"

  options_.dir = crash.string();
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 9);
  ExpectPops(*q, 0, 5);
  ExpectPops(*q, 5, 9, 30000);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, RecordsInSegmentsStartedAfterLastSyncSurviveACrash) {
  options_.max_bytes_per_file = 64;
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  // Rolling over writes segment 0 out; records 2..3 reach segment 1 when segment 2 starts,
  // records 4..5 stay in memory. The meta file still says "segment 0".
  PutAll(*q, 2, 6);
  fs::path crash = SnapshotFiles();
  q->Delete();

  options_.dir = crash.string();
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);
  PutAll(*q, 6, 7);
  ExpectPops(*q, 0, 4);
  ExpectPops(*q, 6, 7);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, TornTailIsTruncatedOnOpen) {
  auto q = OpenQueue();
  PutAll(*q, 0, 5);
  Close(*q);
  fs::resize_file(Segment(0), fs::file_size(Segment(0)) - 3);

  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);
  EXPECT_EQ(fs::file_size(Segment(0)), RecordOffset(4));
  EXPECT_EQ(q->corrupt_records(), 0u);  // a torn tail is a crash, not damage
  // New records go right after the last whole one.
  PutAll(*q, 100, 101);
  ExpectPops(*q, 0, 4);
  ExpectPops(*q, 100, 101);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, TornTailAfterLastSyncIsTruncatedAndEarlierTailRecordsKept) {
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  std::string meta_after_two = ReadAll(Meta());
  PutAll(*q, 2, 5);
  Close(*q);
  // As if the process died while writing record 4, long after the last meta write.
  WriteAll(Meta(), meta_after_two);
  fs::resize_file(Segment(0), RecordOffset(4) + 5);

  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);
  EXPECT_EQ(fs::file_size(Segment(0)), RecordOffset(4));
  ExpectPops(*q, 0, 4);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, FlippedByteInMiddleRecordIsSkippedAndCounted) {
  auto q = OpenQueue();
  PutAll(*q, 0, 5);
  Close(*q);
  FlipByte(Segment(0), RecordOffset(2) + kRecHeader + 3);

  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 5);
  ExpectPops(*q, 0, 2);
  ExpectPops(*q, 3, 5);
  EXPECT_FALSE(q->Pop().has_value());
  EXPECT_EQ(q->corrupt_records(), 1u);
  EXPECT_EQ(q->Depth(), 0);
}

TEST_F(DiskQueueTest, DamagedLengthFieldLosesOnlyThatRecord) {
  auto q = OpenQueue();
  PutAll(*q, 0, 5);
  Close(*q);
  FlipByte(Segment(0), RecordOffset(1));  // high byte of the length: far out of range

  q = OpenQueue();
  ExpectPops(*q, 0, 1);
  ExpectPops(*q, 2, 5);
  EXPECT_FALSE(q->Pop().has_value());
  EXPECT_EQ(q->corrupt_records(), 1u);
}

TEST_F(DiskQueueTest, CorruptLastRecordOfOlderSegmentDoesNotStopTheReader) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  Close(*q);
  FlipByte(Segment(0), RecordOffset(1) + kRecHeader);

  q = OpenQueue();
  ExpectPops(*q, 0, 1);
  ExpectPops(*q, 2, 6);
  EXPECT_EQ(q->corrupt_records(), 1u);
  EXPECT_EQ(q->Depth(), 0);
}

TEST_F(DiskQueueTest, CorruptRecordInUnsyncedTailIsSkippedAndLaterRecordsKept) {
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  PutAll(*q, 2, 4, 30000);  // in the buffer
  PutAll(*q, 4, 5, 30000);  // flushes 2 and 3 to the file
  fs::path crash = SnapshotFiles();
  q->Delete();
  uint64_t third = RecordOffset(2);  // record 2 starts right after the two small ones
  FlipByte(Segment(0, crash), third + kRecHeader + 100);

  options_.dir = crash.string();
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);  // 2 synced + the damaged one + record 3
  ExpectPops(*q, 0, 2);
  ExpectPops(*q, 3, 4, 30000);
  EXPECT_FALSE(q->Pop().has_value());
  EXPECT_EQ(q->corrupt_records(), 1u);
  EXPECT_EQ(q->Depth(), 0);
}

TEST_F(DiskQueueTest, MissingMetaRebuildsFromSegments) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 10);
  ExpectPops(*q, 0, 3);  // segment 0 is gone, segment 1 half read
  Close(*q);
  fs::remove(Meta());

  q = OpenQueue();
  // The read position is lost: segment 1 is read from its start, record 2 comes again.
  EXPECT_EQ(q->Depth(), 8);
  PutAll(*q, 10, 11);
  ExpectPops(*q, 2, 11);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, CorruptMetaRebuildsFromSegments) {
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  ExpectPops(*q, 0, 2);
  Close(*q);
  FlipByte(Meta(), 12);

  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 6);
  ExpectPops(*q, 0, 6);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, TruncatedMetaRebuildsFromSegments) {
  auto q = OpenQueue();
  PutAll(*q, 0, 3);
  Close(*q);
  fs::resize_file(Meta(), 10);
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 3);
  ExpectPops(*q, 0, 3);
}

TEST_F(DiskQueueTest, RebuildNeverOverwritesExistingSegments) {
  auto q = OpenQueue();
  PutAll(*q, 0, 3);
  Close(*q);
  fs::remove(Meta());
  q = OpenQueue();
  PutAll(*q, 3, 5);
  Close(*q);
  q = OpenQueue();
  ExpectPops(*q, 0, 5);
}

TEST_F(DiskQueueTest, StaleConsumedSegmentIsDeletedOnOpen) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  ExpectPops(*q, 0, 2);
  Close(*q);
  // As if the process died after persisting the read position but before the unlink.
  WriteAll(Segment(0), ReadAll(Segment(1)));
  q = OpenQueue();
  EXPECT_FALSE(fs::exists(Segment(0)));
  EXPECT_EQ(q->Depth(), 4);
  ExpectPops(*q, 2, 6);
}

TEST_F(DiskQueueTest, MissingSegmentIsSkippedAndDepthSettles) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  Close(*q);
  fs::remove(Segment(1));  // removed behind qd's back
  q = OpenQueue();
  ExpectPops(*q, 0, 2);
  ExpectPops(*q, 4, 6);
  EXPECT_FALSE(q->Pop().has_value());
  EXPECT_EQ(q->Depth(), 0);
  PutAll(*q, 6, 7);
  ExpectPops(*q, 6, 7);
}

TEST_F(DiskQueueTest, OpenFailsForMissingDirectory) {
  options_.dir = (dir_ / "nope").string();
  std::string error;
  EXPECT_EQ(DiskQueue::Open(options_, &error), nullptr);
  EXPECT_NE(error.find("nope"), std::string::npos) << error;
}

TEST_F(DiskQueueTest, UnknownFormatVersionFailsOpenAndKeepsTheFile) {
  auto q = OpenQueue();
  PutAll(*q, 0, 3);
  Close(*q);
  q.reset();
  fs::remove(Meta());
  FlipByte(Segment(0), 7);
  std::string before = ReadAll(Segment(0));
  std::string error;
  EXPECT_EQ(DiskQueue::Open(options_, &error), nullptr);
  EXPECT_NE(error.find("version"), std::string::npos) << error;
  EXPECT_EQ(ReadAll(Segment(0)), before);
}

TEST_F(DiskQueueTest, ClearDropsEverythingAndTheQueueStaysUsable) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 10);
  ExpectPops(*q, 0, 1);
  std::string error;
  ASSERT_TRUE(q->Clear(&error)) << error;
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_FALSE(q->Pop().has_value());
  EXPECT_EQ(SegmentCount(), 0u);
  PutAll(*q, 100, 102);
  EXPECT_FALSE(fs::exists(Segment(0)));  // numbering continues past the cleared segments
  ExpectPops(*q, 100, 101);
  Close(*q);
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 1);
  ExpectPops(*q, 101, 102);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, ClearedRecordsDoNotComeBackAfterReopen) {
  auto q = OpenQueue();
  PutAll(*q, 0, 5);
  Close(*q);
  q = OpenQueue();
  std::string error;
  ASSERT_TRUE(q->Clear(&error)) << error;
  Close(*q);
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, DeleteRemovesOnlyThisQueuesFiles) {
  DiskQueue::Options topic = options_;
  topic.name = "topic";
  auto t = OpenQueue(topic);
  PutAll(*t, 0, 3);
  Close(*t);

  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  PutAll(*q, 0, 10);
  ASSERT_GT(SegmentCount(), 1u);
  q->Delete();
  EXPECT_EQ(Files(), (std::vector<std::string>{"topic.q.000000.seg", "topic.q.meta"}));
  q.reset();  // the destructor of a deleted queue writes nothing
  EXPECT_EQ(Files().size(), 2u);
  t = OpenQueue(topic);
  ExpectPops(*t, 0, 3);
}

TEST_F(DiskQueueTest, SyncEveryCountsPutsAndPopsWaitForThePeriodicSync) {
  options_.sync_every = 3;
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  EXPECT_TRUE(q->NeedsSync());
  PutAll(*q, 2, 3);  // third put: synced
  EXPECT_FALSE(q->NeedsSync());
  EXPECT_TRUE(fs::exists(Meta()));
  ExpectPops(*q, 0, 3);  // reads never force a sync...
  EXPECT_TRUE(q->NeedsSync());  // ...but leave the read position to be saved
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  EXPECT_FALSE(q->NeedsSync());
}

TEST_F(DiskQueueTest, SyncedStateSurvivesACrash) {
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  ExpectPops(*q, 0, 2);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  fs::path crash = SnapshotFiles();
  q->Delete();
  options_.dir = crash.string();
  q = OpenQueue();
  EXPECT_EQ(q->Depth(), 4);
  ExpectPops(*q, 2, 6);
}

TEST_F(DiskQueueTest, FailedWriteRefusesThePutAndKeepsEarlierRecords) {
  auto q = OpenQueue();
  PutAll(*q, 0, 3);  // buffered in memory
  file::SetFaultHook([](file::Op op, const std::string&) { return op == file::Op::kWrite ? ENOSPC : 0; });
  std::string error;
  EXPECT_FALSE(q->Put(std::string(70000, 'x'), &error));  // needs the buffer flushed first
  EXPECT_NE(error.find("No space"), std::string::npos) << error;
  EXPECT_EQ(q->Depth(), 3);
  ExpectPops(*q, 0, 1);  // readers are served while the disk is full
  file::SetFaultHook(nullptr);
  PutAll(*q, 3, 4);
  Close(*q);
  q = OpenQueue();
  ExpectPops(*q, 1, 4);
  EXPECT_FALSE(q->Pop().has_value());
}

TEST_F(DiskQueueTest, FailedFsyncRefusesAllLaterWrites) {
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  file::SetFaultHook([](file::Op op, const std::string&) { return op == file::Op::kSync ? EIO : 0; });
  std::string error;
  EXPECT_FALSE(q->Sync(&error));
  file::SetFaultHook(nullptr);
  // The kernel may have dropped the pages the fsync failed on; retrying would lie.
  EXPECT_FALSE(q->Put("later", &error));
  EXPECT_NE(error.find("fsync"), std::string::npos) << error;
  ExpectPops(*q, 0, 2);
}

TEST_F(DiskQueueTest, FailedMetaWriteFailsSyncButKeepsTheQueue) {
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  file::SetFaultHook([](file::Op op, const std::string&) { return op == file::Op::kRename ? EIO : 0; });
  std::string error;
  EXPECT_FALSE(q->Sync(&error));
  EXPECT_TRUE(q->NeedsSync());
  file::SetFaultHook(nullptr);
  ASSERT_TRUE(q->Sync(&error)) << error;
  EXPECT_FALSE(fs::exists(dir_ / (options_.name + ".q.meta.tmp")));
  PutAll(*q, 2, 3);
  Close(*q);
  q = OpenQueue();
  ExpectPops(*q, 0, 3);
}

TEST_F(DiskQueueTest, InterleavedUseMatchesASimpleFifo) {
  options_.max_bytes_per_file = 300;
  options_.sync_every = 7;
  std::mt19937 rng(12345);
  std::deque<std::string> model;
  auto q = OpenQueue();
  int next = 0;
  for (int step = 0; step < 5000; ++step) {
    int action = static_cast<int>(rng() % 100);
    if (action < 55) {
      std::string r = Rec(next++, rng() % 120);
      std::string error;
      ASSERT_TRUE(q->Put(r, &error)) << error;
      model.push_back(r);
    } else if (action < 98) {
      auto r = q->Pop();
      if (model.empty()) {
        ASSERT_FALSE(r.has_value()) << "step " << step;
      } else {
        ASSERT_TRUE(r.has_value()) << "step " << step;
        ASSERT_EQ(*r, model.front()) << "step " << step;
        model.pop_front();
      }
    } else {
      Close(*q);
      q = OpenQueue();
    }
    ASSERT_EQ(q->Depth(), static_cast<int64_t>(model.size())) << "step " << step;
  }
  EXPECT_LE(SegmentCount(), model.size() + 1);  // consumed segments are gone
  EXPECT_EQ(q->corrupt_records(), 0u);
}

// --- Take / Ack: the floor -----------------------------------------------------------------

TEST_F(DiskQueueTest, TakenButUnackedRecordsAreReadAgainAfterACrash) {
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  auto t0 = q->Take();
  auto t1 = q->Take();
  auto t2 = q->Take();
  ASSERT_TRUE(t0 && t1 && t2);
  EXPECT_EQ(t1->data, Rec(1));
  q->Ack(t0->seq);  // 0 done; 1 and 2 still out (2 is acked below, after the floor)
  q->Ack(t2->seq);
  EXPECT_EQ(q->Depth(), 3);
  EXPECT_EQ(q->Unacked(), 1u);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  fs::path crash = SnapshotFiles();
  q->Delete();
  options_.dir = crash.string();
  q = OpenQueue();
  // From the floor (record 1): 1 and 2 again, marked as handed out before, then 3..5.
  EXPECT_EQ(q->Depth(), 5);
  for (int i = 1; i < 6; ++i) {
    auto t = q->Take();
    ASSERT_TRUE(t.has_value()) << i;
    EXPECT_EQ(t->data, Rec(i));
    EXPECT_EQ(t->handed_before, i <= 2) << i;
    q->Ack(t->seq);
  }
  EXPECT_FALSE(q->Take().has_value());
}

TEST_F(DiskQueueTest, SegmentsStayUntilTheFloorPassesThem) {
  options_.max_bytes_per_file = 64;  // two records per segment
  auto q = OpenQueue();
  PutAll(*q, 0, 6);
  auto first = q->Take();
  ASSERT_TRUE(first.has_value());
  ExpectPops(*q, 1, 5);
  std::string error;
  ASSERT_TRUE(q->Sync(&error)) << error;
  EXPECT_TRUE(fs::exists(Segment(0)));  // record 0 is still out
  q->Ack(first->seq);
  ASSERT_TRUE(q->Sync(&error)) << error;
  EXPECT_FALSE(fs::exists(Segment(0)));
  EXPECT_FALSE(fs::exists(Segment(1)));
  EXPECT_TRUE(fs::exists(Segment(2)));
}

TEST_F(DiskQueueTest, AckOfUnknownOrRepeatedSeqIsIgnored) {
  auto q = OpenQueue();
  PutAll(*q, 0, 2);
  auto t = q->Take();
  ASSERT_TRUE(t.has_value());
  q->Ack(t->seq);
  q->Ack(t->seq);
  q->Ack(12345);
  EXPECT_EQ(q->Unacked(), 0u);
  ExpectPops(*q, 1, 2);
}

TEST_F(DiskQueueTest, SkipMovesPastTheNextRecordOnly) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  std::vector<DiskQueue::RecordRef> refs(5);
  std::string error;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Put(Rec(i), &error, &refs[i])) << error;
  EXPECT_FALSE(q->Skip(refs[1]).has_value());  // not the next one
  for (int i = 0; i < 4; ++i) {
    auto seq = q->Skip(refs[i]);  // crosses segments on the way
    ASSERT_TRUE(seq.has_value()) << i;
    q->Ack(*seq);
  }
  EXPECT_EQ(q->Depth(), 1);
  ExpectPops(*q, 4, 5);
}

TEST_F(DiskQueueTest, ReadAtReadsBufferedAndWrittenRecords) {
  options_.max_bytes_per_file = 64;
  auto q = OpenQueue();
  std::vector<DiskQueue::RecordRef> refs(5);
  std::string error;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Put(Rec(i), &error, &refs[i])) << error;
  for (int i : {4, 0, 3, 1, 2}) EXPECT_EQ(q->ReadAt(refs[i]), Rec(i)) << i;
  ASSERT_TRUE(q->Sync(&error)) << error;
  for (int i : {2, 4, 0}) EXPECT_EQ(q->ReadAt(refs[i]), Rec(i)) << i;
  Close(*q);
  FlipByte(Segment(0), refs[1].off + kRecHeader + 2);
  q = OpenQueue();
  EXPECT_FALSE(q->ReadAt(refs[1]).has_value());
  EXPECT_EQ(q->ReadAt(refs[0]), Rec(0));
}

TEST_F(DiskQueueTest, PrepareSyncHandsOutADescriptorToSync) {
  options_.sync_every = 1000000;
  auto q = OpenQueue();
  PutAll(*q, 0, 3);
  std::vector<DiskQueue::SyncJob> jobs;
  std::string error;
  ASSERT_TRUE(q->PrepareSync(&jobs, &error)) << error;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_GE(jobs[0].fd, 0);
  EXPECT_EQ(jobs[0].dir, dir_.string());  // the segment file is new
  EXPECT_EQ(file::DataSyncFd(jobs[0].fd, jobs[0].path), 0);
  close(jobs[0].fd);
  EXPECT_EQ(fs::file_size(Segment(0)), RecordOffset(3));  // written out, not just buffered
  jobs.clear();
  ASSERT_TRUE(q->PrepareSync(&jobs, &error)) << error;
  EXPECT_TRUE(jobs.empty());  // nothing new
}

TEST_F(DiskQueueTest, AFailedBackgroundSyncRefusesLaterWrites) {
  auto q = OpenQueue();
  PutAll(*q, 0, 1);
  std::vector<DiskQueue::SyncJob> jobs;
  std::string error;
  ASSERT_TRUE(q->PrepareSync(&jobs, &error)) << error;
  ASSERT_EQ(jobs.size(), 1u);
  close(jobs[0].fd);
  *jobs[0].failure = "fsync failed";  // what the sync thread's owner records
  EXPECT_FALSE(q->Put("x", &error));
  EXPECT_EQ(error, "fsync failed");
  ExpectPops(*q, 0, 1);
}

}  // namespace
}  // namespace q
