#include "stream/sse_framing.hpp"

#include <gtest/gtest.h>

namespace portico::stream {
namespace {

TEST(SseFraming, PrefixEndsAfterTheLastBlankLine) {
  EXPECT_EQ(completeEventsLength(""), 0u);
  EXPECT_EQ(completeEventsLength("data: a"), 0u);
  EXPECT_EQ(completeEventsLength("data: a\n"), 0u);
  EXPECT_EQ(completeEventsLength("data: a\n\n"), 9u);
  EXPECT_EQ(completeEventsLength("data: a\n\ndata: {\"id\": \"x\", \"obj"), 9u);
  EXPECT_EQ(completeEventsLength("event: e\ndata: a\n\ndata: b\n\n"), 27u);
}

TEST(SseFraming, CrLfAndCrLineEndingsCount) {
  EXPECT_EQ(completeEventsLength("data: a\r\n\r\n"), 11u);
  EXPECT_EQ(completeEventsLength("data: a\r\n\r\ndata: b\r\n"), 11u);
  EXPECT_EQ(completeEventsLength("data: a\r\r"), 9u);
  // A CRLF split after its CR: the CR already ends the blank line; the LF arrives later.
  EXPECT_EQ(completeEventsLength("data: a\r\n\r"), 10u);
  EXPECT_EQ(completeEventsLength("\ndata: b\r\n\r\n"), 12u);
}

}  // namespace
}  // namespace portico::stream
