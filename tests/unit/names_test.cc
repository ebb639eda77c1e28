#include "common/names.h"

#include <gtest/gtest.h>

#include <string>

namespace q {
namespace {

TEST(NamesTest, AcceptsLettersDigitsDotUnderscoreDash) {
  EXPECT_TRUE(IsValidTopicName("a"));
  EXPECT_TRUE(IsValidTopicName("Topic_1.x-y"));
  EXPECT_TRUE(IsValidChannelName("chan-2_B.c"));
}

TEST(NamesTest, RejectsEmptyAndForeignCharacters) {
  EXPECT_FALSE(IsValidTopicName(""));
  EXPECT_FALSE(IsValidTopicName("a b"));
  EXPECT_FALSE(IsValidTopicName("a:b"));  // ':' separates topic and channel in file names
  EXPECT_FALSE(IsValidTopicName("a/b"));
  EXPECT_FALSE(IsValidTopicName("a#b"));
  EXPECT_FALSE(IsValidChannelName("caf\xC3\xA9"));
}

TEST(NamesTest, AllowsUpToSixtyFourBytes) {
  EXPECT_TRUE(IsValidTopicName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidTopicName(std::string(65, 'a')));
}

TEST(NamesTest, EphemeralSuffixCountsTowardsTheLimit) {
  EXPECT_TRUE(IsValidTopicName("t#ephemeral"));
  EXPECT_TRUE(IsValidChannelName(std::string(54, 'c') + "#ephemeral"));
  EXPECT_FALSE(IsValidChannelName(std::string(55, 'c') + "#ephemeral"));
}

TEST(NamesTest, EphemeralSuffixAloneIsNotAName) {
  EXPECT_FALSE(IsValidTopicName("#ephemeral"));
  EXPECT_FALSE(IsValidTopicName("t#ephemeral#ephemeral"));
  EXPECT_FALSE(IsValidTopicName("t#Ephemeral"));
}

TEST(NamesTest, IsEphemeralLooksAtTheSuffixOnly) {
  EXPECT_TRUE(IsEphemeral("t#ephemeral"));
  EXPECT_FALSE(IsEphemeral("t"));
  EXPECT_FALSE(IsEphemeral("t#ephemeralx"));
}

}  // namespace
}  // namespace q
