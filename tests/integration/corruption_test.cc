// Damaged storage files (docs/durability.md): qd starts on them, delivers every intact
// record, and reports what it skipped in its log and in /stats.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/qd_fixture.h"

namespace q::test {
namespace {

namespace fs = std::filesystem;

std::string Body(int i) {
  std::string b = "body-" + std::to_string(i) + "-";
  b.resize(120, static_cast<char>('a' + i % 26));
  return b;
}

class CorruptionTest : public QdFixture {
 protected:
  void PublishAndStop(int n) {
    TestClient pub = NewClient();
    ASSERT_TRUE(IsOk(pub.Sub("t", "c")));  // creates t and its channel c
    TestClient producer = NewClient();
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) bodies.push_back(Body(i));
    ASSERT_TRUE(IsOk(producer.Mpub("t", bodies)));
    ASSERT_TRUE(WaitForChannelValue("t", "c", "depth", n));
    ASSERT_TRUE(qd_->Stop()) << qd_->ExitDescription();
  }
  fs::path Segment() const { return fs::path(qd_->data_path()) / "t:c.q.000000.seg"; }

  std::set<std::string> ConsumeAll(size_t expected) {
    TestClient sub = NewSubscriber("t", "c");
    EXPECT_TRUE(sub.Rdy(500));
    std::set<std::string> got;
    while (got.size() < expected) {
      ReceivedMessage m;
      if (!sub.ReadMessage(&m)) break;
      EXPECT_TRUE(got.insert(m.body).second) << "delivered twice: " << m.body;
      EXPECT_TRUE(sub.Fin(m.id));
    }
    EXPECT_TRUE(sub.ExpectNoFrame(300ms));
    return got;
  }
};

TEST_F(CorruptionTest, FlippedBytesInTheMiddleLoseOnlyThatRecord) {
  constexpr int kCount = 200;
  ASSERT_NO_FATAL_FAILURE(PublishAndStop(kCount));
  {
    std::fstream f(Segment(), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open()) << Segment();
    f.seekp(static_cast<std::streamoff>(fs::file_size(Segment()) / 2));
    f.write("\xff\x00\xff\x00", 4);
  }
  ASSERT_TRUE(qd_->Start()) << qd_->log();
  std::set<std::string> got = ConsumeAll(kCount - 1);
  EXPECT_EQ(got.size(), static_cast<size_t>(kCount - 1)) << "only the damaged record may be missing";
  for (const auto& body : got) EXPECT_EQ(body.size(), 120u) << "a damaged body was delivered";
  EXPECT_EQ(Val(ChannelStats("t", "c"), "corrupt_records", -1), 1) << ChannelStats("t", "c");
  EXPECT_NE(qd_->log().find("skipping corrupt data"), std::string::npos);
}

TEST_F(CorruptionTest, TornTailIsCutOffAndEveryEarlierRecordDelivered) {
  constexpr int kCount = 200;
  ASSERT_NO_FATAL_FAILURE(PublishAndStop(kCount));
  fs::resize_file(Segment(), fs::file_size(Segment()) - 30);  // the last record half-written
  ASSERT_TRUE(qd_->Start()) << qd_->log();
  std::set<std::string> got = ConsumeAll(kCount - 1);
  EXPECT_EQ(got.size(), static_cast<size_t>(kCount - 1));
  EXPECT_FALSE(got.count(Body(kCount - 1))) << "the torn record cannot be whole";
  EXPECT_NE(qd_->log().find("torn tail"), std::string::npos) << qd_->log();
  // New messages go after the cut, readable.
  TestClient pub = NewClient();
  ASSERT_TRUE(IsOk(pub.Pub("t", "after")));
  TestClient sub = NewSubscriber("t", "c");
  ASSERT_TRUE(sub.Rdy(1));
  ReceivedMessage m;
  ASSERT_TRUE(sub.ReadMessage(&m));
  EXPECT_EQ(m.body, "after");
}

TEST_F(CorruptionTest, SecondQdOnTheSameDataPathRefusesToStart) {
  QdProcess other(QD_BINARY,
                  {"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--data-path=" + qd_->data_path()},
                  {});
  EXPECT_FALSE(other.Start(5s)) << "a second qd started on a locked data path";
  EXPECT_NE(other.log().find("lock"), std::string::npos) << other.log();
}

}  // namespace
}  // namespace q::test
