// The client side of transactions, pure parts: the check-back frame payload, the TX command
// bytes, txid and group names.
#include "client/check_back.h"

#include <gtest/gtest.h>

#include <set>

#include "client/command.h"
#include "client/tx_names.h"
#include "common/byte_order.h"
#include "common/names.h"

namespace q {
namespace {

std::string Sized(std::string_view s) {
  std::string out;
  AppendBE16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
  return out;
}

std::string Payload(std::string_view topic, std::string_view txid, uint16_t checks, int64_t ts,
                    std::string_view id, std::string_view body) {
  std::string p = Sized(topic) + Sized(txid);
  AppendBE16(p, checks);
  AppendBE64(p, static_cast<uint64_t>(ts));
  p.append(id);
  p.append(body);
  return p;
}

TEST(ParseCheckBack, ReadsEveryField) {
  std::string p = Payload("orders", "o-1001", 3, 1764133700000000123, "0a1b2c3d4e5f6789",
                          "{\"order\":1001}");
  auto c = ParseCheckBack(p);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->topic, "orders");
  EXPECT_EQ(c->txid, "o-1001");
  EXPECT_EQ(c->checks, 3);
  EXPECT_EQ(c->timestamp_ns, 1764133700000000123);
  EXPECT_EQ(c->id, "0a1b2c3d4e5f6789");
  EXPECT_EQ(c->body, "{\"order\":1001}");
}

TEST(ParseCheckBack, BodyMayHoldAnyBytes) {
  std::string body("a\0b\n\xff", 5);
  auto c = ParseCheckBack(Payload("t", "x", 65535, 0, "0123456789abcdef", body));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->body, body);
  EXPECT_EQ(c->checks, 65535);
}

TEST(ParseCheckBack, RejectsEveryTruncation) {
  std::string p = Payload("orders", "o-1", 1, 5, "0123456789abcdef", "");
  ASSERT_TRUE(ParseCheckBack(p).has_value());  // an empty body is still a whole payload
  for (size_t n = 0; n < p.size(); ++n) {
    EXPECT_FALSE(ParseCheckBack(std::string_view(p).substr(0, n)).has_value()) << n;
  }
}

TEST(ParseCheckBack, RejectsLengthsPastTheEnd) {
  std::string p;
  AppendBE16(p, 1000);
  p += "short";
  EXPECT_FALSE(ParseCheckBack(p).has_value());
}

TEST(TxCommands, Bytes) {
  std::string out;
  command::AppendTxPub(out, "orders", "o-1", "body");
  EXPECT_EQ(out, std::string("TXPUB orders o-1\n\0\0\0\4body", 25));
  out.clear();
  command::AppendTxDecision(out, "TXCOMMIT", "orders", "o-1");
  command::AppendTxDecision(out, "TXROLLBACK", "orders", "o-2");
  command::AppendTxDecision(out, "TXUNKNOWN", "orders", "o-3");
  EXPECT_EQ(out, "TXCOMMIT orders o-1\nTXROLLBACK orders o-2\nTXUNKNOWN orders o-3\n");
}

TEST(TxNames, TxidRules) {
  EXPECT_TRUE(IsValidTxid("o-1001"));
  EXPECT_TRUE(IsValidTxid("a.b_c:d-E9"));
  EXPECT_TRUE(IsValidTxid(std::string(64, 'x')));
  EXPECT_FALSE(IsValidTxid(std::string(65, 'x')));
  EXPECT_FALSE(IsValidTxid(""));
  EXPECT_FALSE(IsValidTxid("a b"));
  EXPECT_FALSE(IsValidTxid("a/b"));
  EXPECT_FALSE(IsValidTxid("a\n"));
}

TEST(TxNames, GroupRules) {
  EXPECT_TRUE(IsValidTxGroup("orders"));
  EXPECT_TRUE(IsValidTxGroup("a.b_c-9"));
  EXPECT_FALSE(IsValidTxGroup("a:b"));  // ':' is for txids only
  EXPECT_FALSE(IsValidTxGroup(""));
  EXPECT_FALSE(IsValidTxGroup(std::string(65, 'g')));
}

TEST(TxNames, GeneratedTxidsAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string t = tx::NewTxid();
    EXPECT_TRUE(IsValidTxid(t)) << t;
    EXPECT_TRUE(seen.insert(t).second) << t;
  }
}

}  // namespace
}  // namespace q
