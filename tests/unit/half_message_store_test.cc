#include "qd/half_message_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace q {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDelay = 1000;  // first check-back 1000 ns after TXPUB

class HalfMessageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                                                      : fs::temp_directory_path();
    std::string tmpl = (base / "half_store_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<HalfMessageStore> Open(uint64_t max_bytes_per_file = 1 << 20) {
    DiskQueue::Options o;
    o.dir = dir_.string();
    o.name = "orders~tx";
    o.max_bytes_per_file = max_bytes_per_file;
    std::string error;
    auto log = DiskQueue::Open(o, &error);
    EXPECT_NE(log, nullptr) << error;
    auto store = std::make_unique<HalfMessageStore>(std::move(log), "orders", kDelay);
    store->Load(/*now=*/0);
    return store;
  }

  static HalfMessage Half(const std::string& txid, int64_t ts = 0) {
    HalfMessage h;
    h.txid = txid;
    h.group = "shop";
    h.timestamp = ts;
    h.id.bytes.fill('a');
    return h;
  }

  static void Add(HalfMessageStore& s, const std::string& txid, const std::string& body,
                  HalfMessageStore::AddResult want = HalfMessageStore::AddResult::kAdded) {
    std::string error;
    EXPECT_EQ(s.Add(Half(txid), MakeBody(body), &error), want) << txid << ": " << error;
  }

  fs::path dir_;
};

TEST_F(HalfMessageStoreTest, PendingAndDecidedSurviveReopening) {
  {
    auto s = Open();
    Add(*s, "a", "body a");
    Add(*s, "b", "body b");
    Add(*s, "c", "body c");
    std::string error;
    ASSERT_TRUE(s->Decide("b", TxOutcome::kCommit, &error)) << error;
    ASSERT_TRUE(s->Decide("c", TxOutcome::kRollback, &error)) << error;
    s->Close();
  }
  auto s = Open();
  EXPECT_EQ(s->size(), 1u);
  ASSERT_NE(s->Find("a"), nullptr);
  EXPECT_EQ(s->Find("a")->group, "shop");
  std::string error;
  auto m = s->Read("a", 5, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(*m->body, "body a");
  EXPECT_EQ(m->timestamp, 5);
  EXPECT_EQ(s->Decided("b"), TxOutcome::kCommit);
  EXPECT_EQ(s->Decided("c"), TxOutcome::kRollback);
  EXPECT_EQ(s->Decided("a"), std::nullopt);
}

TEST_F(HalfMessageStoreTest, RepeatedTxpubIsRecognisedByItsBody) {
  auto s = Open();
  Add(*s, "a", "body");
  Add(*s, "a", "body", HalfMessageStore::AddResult::kRepeated);
  Add(*s, "a", "other", HalfMessageStore::AddResult::kExists);
  Add(*s, "a", "bodx", HalfMessageStore::AddResult::kExists);  // same size, other bytes
  std::string error;
  ASSERT_TRUE(s->Decide("a", TxOutcome::kRollback, &error));
  Add(*s, "a", "body", HalfMessageStore::AddResult::kExists);  // decided: never again
}

TEST_F(HalfMessageStoreTest, CheckBacksBackOffAndExhaust) {
  auto s = Open();
  Add(*s, "a", "body");
  std::vector<HalfMessage> exhausted;
  EXPECT_TRUE(s->TakeDueChecks(kDelay - 1, 3, &exhausted).empty());
  int64_t now = kDelay;
  std::vector<int64_t> waits;
  for (int i = 1; i <= 3; ++i) {
    auto due = s->TakeDueChecks(now, 3, &exhausted);
    ASSERT_EQ(due.size(), 1u) << "check " << i;
    EXPECT_EQ(due[0].checks, i);
    waits.push_back(due[0].next_check_at - now);
    now = due[0].next_check_at;
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{2 * kDelay, 4 * kDelay, 8 * kDelay}));
  EXPECT_TRUE(exhausted.empty());
  EXPECT_TRUE(s->TakeDueChecks(now, 3, &exhausted).empty());
  ASSERT_EQ(exhausted.size(), 1u);
  EXPECT_EQ(exhausted[0].txid, "a");
}

TEST_F(HalfMessageStoreTest, BackoffIsCappedAtSixteenTimesTheFirstDelay) {
  auto s = Open();
  Add(*s, "a", "body");
  std::vector<HalfMessage> exhausted;
  int64_t now = kDelay, wait = 0;
  for (int i = 0; i < 8; ++i) {
    auto due = s->TakeDueChecks(now, 100, &exhausted);
    ASSERT_EQ(due.size(), 1u);
    wait = due[0].next_check_at - now;
    now = due[0].next_check_at;
  }
  EXPECT_EQ(wait, HalfMessageStore::kMaxBackoffFactor * kDelay);
}

TEST_F(HalfMessageStoreTest, LongUndecidedMessagesDoNotPinOldSegments) {
  // Small segments: one undecided message among many decided ones gets copied forward.
  auto s = Open(/*max_bytes_per_file=*/4096);
  Add(*s, "old", std::string(100, 'o'));
  std::string error;
  for (int i = 0; i < 200; ++i) {
    std::string txid = "t" + std::to_string(i);
    Add(*s, txid, std::string(100, 'x'));
    ASSERT_TRUE(s->Decide(txid, TxOutcome::kCommit, &error)) << error;
  }
  s->Close();
  s.reset();
  size_t segments = 0;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().extension() == ".seg") ++segments;
  EXPECT_LE(segments, 4u) << "segments behind the undecided message were kept";
  auto reopened = Open(4096);
  EXPECT_EQ(reopened->size(), 1u);
  auto m = reopened->Read("old", 0, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(*m->body, std::string(100, 'o'));
}

TEST_F(HalfMessageStoreTest, MemoryOnlyModeForEphemeralTopics) {
  HalfMessageStore s(nullptr, "eph#ephemeral", kDelay);
  s.Load(0);
  Add(s, "a", "body");
  std::string error;
  auto m = s.Read("a", 1, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(*m->body, "body");
  ASSERT_TRUE(s.Decide("a", TxOutcome::kCommit, &error));
  EXPECT_EQ(s.size(), 0u);
}

}  // namespace
}  // namespace q
