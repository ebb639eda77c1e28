#include "qd/deferred_queue.h"

#include <gtest/gtest.h>

namespace q {
namespace {

Message Due(const char* id16, int64_t at) {
  Message m;
  m.id = MessageId::FromView(id16);
  m.deliver_at = at;
  return m;
}

TEST(DeferredQueue, PopsDueMessagesEarliestFirst) {
  DeferredQueue q;
  q.Add(Due("cccccccccccccccc", 30));
  q.Add(Due("aaaaaaaaaaaaaaaa", 10));
  q.Add(Due("bbbbbbbbbbbbbbbb", 20));
  EXPECT_TRUE(q.PopDue(5).empty());
  auto due = q.PopDue(20);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id.view(), "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(due[1].id.view(), "bbbbbbbbbbbbbbbb");
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.Contains(MessageId::FromView("aaaaaaaaaaaaaaaa")));
  EXPECT_TRUE(q.Contains(MessageId::FromView("cccccccccccccccc")));
}

TEST(DeferredQueue, SameIdTwiceIsRefused) {
  DeferredQueue q;
  EXPECT_TRUE(q.Add(Due("aaaaaaaaaaaaaaaa", 10)));
  EXPECT_FALSE(q.Add(Due("aaaaaaaaaaaaaaaa", 20)));
  EXPECT_EQ(q.TakeAll().size(), 1u);
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace q
