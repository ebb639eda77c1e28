#include "client/batch.h"

#include <gtest/gtest.h>

#include "client/command.h"
#include "common/byte_order.h"

namespace q {
namespace {

Publication Pub(std::string topic, std::string body) {
  Publication p;
  p.topic = std::move(topic);
  p.bodies = {std::move(body)};
  return p;
}

std::vector<const Publication*> Ptrs(const std::vector<Publication>& v) {
  std::vector<const Publication*> out;
  for (auto& p : v) out.push_back(&p);
  return out;
}

TEST(BatchPrefix, MergesConsecutivePubsToOneTopic) {
  std::vector<Publication> v = {Pub("a", "1"), Pub("a", "2"), Pub("a", "3"), Pub("b", "4")};
  auto p = Ptrs(v);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 1 << 20, 1000), 3u);
  EXPECT_EQ(BatchPrefix(p.data() + 3, 1, true, 1 << 20, 1000), 1u);
}

TEST(BatchPrefix, NoMergingWhenOff) {
  std::vector<Publication> v = {Pub("a", "1"), Pub("a", "2")};
  auto p = Ptrs(v);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), false, 1 << 20, 1000), 1u);
  EXPECT_EQ(BatchPrefix(p.data(), 0, true, 1 << 20, 1000), 0u);
}

TEST(BatchPrefix, DpubAndMpubAreNeverMerged) {
  std::vector<Publication> v = {Pub("a", "1"), Pub("a", "2"), Pub("a", "3")};
  v[1].kind = Publication::Kind::kDpub;
  auto p = Ptrs(v);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 1 << 20, 1000), 1u);  // stops before DPUB
  EXPECT_EQ(BatchPrefix(p.data() + 1, 2, true, 1 << 20, 1000), 1u);     // DPUB alone
  v[0].kind = Publication::Kind::kMpub;
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 1 << 20, 1000), 1u);
}

TEST(BatchPrefix, RespectsMessageAndByteLimits) {
  std::vector<Publication> v;
  for (int i = 0; i < 10; ++i) v.push_back(Pub("a", std::string(10, 'x')));
  auto p = Ptrs(v);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 1 << 20, 4), 4u);
  // MPUB body = 4 (count) + n * (4 + 10); 3 messages = 46 bytes.
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 46, 1000), 3u);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 45, 1000), 2u);
  EXPECT_EQ(BatchPrefix(p.data(), p.size(), true, 1, 1000), 1u);  // always at least one
}

TEST(AppendBatch, SinglePubIsPub) {
  std::vector<Publication> v = {Pub("t", "hello")};
  auto p = Ptrs(v);
  std::string out;
  AppendBatch(out, p.data(), 1);
  EXPECT_EQ(out, std::string("PUB t\n\0\0\0\5hello", 15));
}

TEST(AppendBatch, SingleDpubCarriesDelay) {
  std::vector<Publication> v = {Pub("t", "x")};
  v[0].kind = Publication::Kind::kDpub;
  v[0].delay_ms = 1500;
  auto p = Ptrs(v);
  std::string out;
  AppendBatch(out, p.data(), 1);
  EXPECT_EQ(out, std::string("DPUB t 1500\n\0\0\0\1x", 17));
}

TEST(AppendBatch, MergedPubsBecomeOneMpub) {
  std::vector<Publication> v = {Pub("t", "ab"), Pub("t", "c")};
  auto p = Ptrs(v);
  std::string out;
  AppendBatch(out, p.data(), 2);
  std::string want = "MPUB t\n";
  AppendBE32(want, 4 + 4 + 2 + 4 + 1);
  AppendBE32(want, 2);
  AppendBE32(want, 2);
  want += "ab";
  AppendBE32(want, 1);
  want += "c";
  EXPECT_EQ(out, want);
}

TEST(Command, TextCommands) {
  std::string out;
  command::AppendSub(out, "t", "c");
  command::AppendRdy(out, 25);
  command::AppendFin(out, "0123456789abcdef");
  command::AppendReq(out, "0123456789abcdef", 0);
  command::AppendTouch(out, "0123456789abcdef");
  command::AppendNop(out);
  command::AppendCls(out);
  EXPECT_EQ(out,
            "SUB t c\nRDY 25\nFIN 0123456789abcdef\nREQ 0123456789abcdef 0\n"
            "TOUCH 0123456789abcdef\nNOP\nCLS\n");
}

}  // namespace
}  // namespace q
