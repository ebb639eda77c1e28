#include "qd/in_flight_queue.h"

#include <gtest/gtest.h>

namespace q {
namespace {

Message Msg(const char* id16) {
  Message m;
  m.id = MessageId::FromView(id16);
  m.body = MakeBody(std::string_view("x"));
  return m;
}

TEST(InFlightQueue, RemoveChecksOwner) {
  InFlightQueue q;
  ASSERT_TRUE(q.Add({Msg("aaaaaaaaaaaaaaaa"), 1, 0, 100}));
  EXPECT_EQ(q.Remove(MessageId::FromView("aaaaaaaaaaaaaaaa"), 2, nullptr), InFlightQueue::Result::kNotOwner);
  EXPECT_EQ(q.Remove(MessageId::FromView("bbbbbbbbbbbbbbbb"), 1, nullptr), InFlightQueue::Result::kNotInFlight);
  EXPECT_EQ(q.Remove(MessageId::FromView("aaaaaaaaaaaaaaaa"), 1, nullptr), InFlightQueue::Result::kOk);
  EXPECT_EQ(q.size(), 0u);
}

TEST(InFlightQueue, DuplicateIdIsRefused) {
  InFlightQueue q;
  ASSERT_TRUE(q.Add({Msg("aaaaaaaaaaaaaaaa"), 1, 0, 100}));
  EXPECT_FALSE(q.Add({Msg("aaaaaaaaaaaaaaaa"), 2, 0, 100}));
}

TEST(InFlightQueue, PopExpiredReturnsOnlyDueEntriesInDeadlineOrder) {
  InFlightQueue q;
  q.Add({Msg("cccccccccccccccc"), 1, 0, 300});
  q.Add({Msg("aaaaaaaaaaaaaaaa"), 1, 0, 100});
  q.Add({Msg("bbbbbbbbbbbbbbbb"), 1, 0, 200});
  auto due = q.PopExpired(250);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].message.id.view(), "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(due[1].message.id.view(), "bbbbbbbbbbbbbbbb");
  EXPECT_EQ(q.size(), 1u);
}

TEST(InFlightQueue, TouchedDeadlineReplacesTheOldOne) {
  InFlightQueue q;
  q.Add({Msg("aaaaaaaaaaaaaaaa"), 1, 0, 100});
  ASSERT_EQ(q.SetDeadline(MessageId::FromView("aaaaaaaaaaaaaaaa"), 1, 500), InFlightQueue::Result::kOk);
  EXPECT_TRUE(q.PopExpired(400).empty());
  EXPECT_EQ(q.PopExpired(500).size(), 1u);
}

TEST(InFlightQueue, FinishedEntriesNeverExpire) {
  InFlightQueue q;
  for (int i = 0; i < 1000; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "%016d", i);
    q.Add({Msg(id), 1, 0, 100 + i});
    q.Remove(MessageId::FromView(id), 1, nullptr);
  }
  EXPECT_TRUE(q.PopExpired(1 << 30).empty());
}

}  // namespace
}  // namespace q
