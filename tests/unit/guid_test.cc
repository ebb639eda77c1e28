#include "common/guid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <unordered_set>

namespace q {
namespace {

TEST(GuidTest, IdsAreSixteenLowercaseHexCharacters) {
  GuidFactory f(1);
  MessageId id = f.Next();
  EXPECT_EQ(id.view().size(), 16u);
  EXPECT_TRUE(std::all_of(id.bytes.begin(), id.bytes.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << id.view();
}

TEST(GuidTest, HundredThousandIdsAreUniqueAndIncreasing) {
  GuidFactory f(7);
  std::unordered_set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 100000; ++i) {
    std::string id(f.Next().view());
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
    ASSERT_GT(id, prev);  // fixed width hex: string order is numeric order
    prev = id;
  }
}

TEST(GuidTest, NodeIdIsPartOfTheId) {
  GuidFactory a(1), b(2);
  EXPECT_NE(a.Next(), b.Next());
}

}  // namespace
}  // namespace q
