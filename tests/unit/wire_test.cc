#include "common/wire.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "common/byte_order.h"

namespace q::wire {
namespace {

TEST(WireTest, FrameRoundTrips) {
  std::string buf;
  AppendFrame(buf, FrameType::kResponse, kOk);
  AppendFrame(buf, FrameType::kError, "E_INVALID bad");
  ASSERT_EQ(buf.size(), 8 + 2 + 8 + 13u);
  EXPECT_EQ(LoadBE32(buf.data()), 6u);  // size counts the type and the data

  size_t consumed = 0;
  auto f = ParseFrame(buf, &consumed);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(consumed, 10u);
  EXPECT_EQ(f->type, FrameType::kResponse);
  EXPECT_EQ(f->data, "OK");
  f = ParseFrame(std::string_view(buf).substr(consumed), &consumed);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->type, FrameType::kError);
  EXPECT_EQ(f->data, "E_INVALID bad");
}

TEST(WireTest, IncompleteFrameParsesAsNothing) {
  std::string buf;
  AppendFrame(buf, FrameType::kResponse, "hello");
  size_t consumed = 123;
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_FALSE(ParseFrame(std::string_view(buf).substr(0, n), &consumed).has_value()) << n;
  }
  EXPECT_EQ(consumed, 123u);
}

TEST(WireTest, MessageFrameRoundTrips) {
  Message m;
  m.id = MessageId::FromView("0123456789abcdef");
  m.timestamp = 1700000000123456789;
  m.attempts = 3;
  m.body = MakeBody(std::string("body\0bytes", 10));
  std::string buf;
  AppendMessageFrame(buf, m);
  size_t consumed = 0;
  auto f = ParseFrame(buf, &consumed);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(consumed, buf.size());
  EXPECT_EQ(f->type, FrameType::kMessage);
  auto d = DecodeMessage(f->data);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->timestamp, m.timestamp);
  EXPECT_EQ(d->attempts, 3);
  EXPECT_EQ(d->id, m.id);
  EXPECT_EQ(d->body, *m.body);
}

TEST(WireTest, MessageWithoutBodyRoundTrips) {
  Message m;
  m.id = MessageId::FromView("ffffffffffffffff");
  std::string buf;
  AppendMessage(buf, m);
  EXPECT_EQ(buf.size(), kMessageHeaderSize);
  auto d = DecodeMessage(buf);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->body.empty());
  EXPECT_FALSE(DecodeMessage(std::string_view(buf).substr(0, kMessageHeaderSize - 1)));
}

TEST(WireTest, SplitParamsKeepsEmptyParams) {
  auto p = SplitParams("A  B");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "A");
  EXPECT_EQ(p[1], "");
  EXPECT_EQ(p[2], "B");
  EXPECT_EQ(SplitParams("NOP").size(), 1u);
  EXPECT_EQ(SplitParams("SUB t c ").size(), 4u);
}

TEST(WireTest, ParseDecimalAcceptsOnlyPlainDigits) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("1234"), 1234u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(ParseDecimal("-1"));
  EXPECT_FALSE(ParseDecimal("1a"));
  EXPECT_FALSE(ParseDecimal(""));
  EXPECT_FALSE(ParseDecimal(" 1"));
  EXPECT_FALSE(ParseDecimal("+1"));
  EXPECT_FALSE(ParseDecimal("18446744073709551616"));
  EXPECT_FALSE(ParseDecimal("99999999999999999999"));
}

}  // namespace
}  // namespace q::wire
