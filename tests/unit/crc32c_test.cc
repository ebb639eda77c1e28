#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace q::crc32c {
namespace {

TEST(Crc32cTest, MatchesKnownVectors) {
  EXPECT_EQ(Value("123456789", 9), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(Value("", 0), 0u);
}

TEST(Crc32cTest, ExtendEqualsOneShotAtEverySplit) {
  std::string data = "The quick brown fox jumps over the lazy dog, twice over.";
  uint32_t whole = Value(data.data(), data.size());
  for (size_t i = 0; i <= data.size(); ++i) {
    EXPECT_EQ(Extend(Value(data.data(), i), data.data() + i, data.size() - i), whole) << i;
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; off + n <= data.size(); n += 7) {
      EXPECT_EQ(Extend(0x12345678u, data.data() + off, n), ExtendPortable(0x12345678u, data.data() + off, n))
          << off << " " << n;
    }
  }
}

TEST(Crc32cTest, MaskChangesTheValueAndUnmaskRestoresIt) {
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xffffffffu, 0x80000000u}) {
    EXPECT_NE(Mask(crc), crc);
    EXPECT_EQ(Unmask(Mask(crc)), crc);
    EXPECT_NE(Mask(Mask(crc)), Mask(crc));
  }
}

}  // namespace
}  // namespace q::crc32c
