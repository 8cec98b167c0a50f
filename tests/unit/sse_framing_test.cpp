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

namespace portico::stream {
namespace {

// Fed byte by byte and consumed as a relay does, the scanner finds the same boundaries as a
// scan of the whole text.
TEST(SseFraming, TheScannerAgreesWithAWholeScanHoweverItIsFed) {
  const std::string text =
      "data: a\r\n\r\nevent: e\ndata: b\n\ndata: c\r\rdata: d\r\n\r\ndata: partial";
  std::string buffer;
  std::string written;
  EventBoundaryScanner scanner;
  for (char c : text) {
    buffer.push_back(c);
    const std::size_t complete = scanner.scan(buffer);
    written += buffer.substr(0, complete);
    buffer.erase(0, complete);
    scanner.consumed(complete);
  }
  EXPECT_EQ(written, text.substr(0, completeEventsLength(text)));
  EXPECT_EQ(buffer, "data: partial");
}

TEST(SseFraming, DoneIsRecognisedOnlyAsTheLastEvent) {
  EXPECT_TRUE(endsWithDoneEvent("data: {}\n\ndata: [DONE]\n\n"));
  EXPECT_TRUE(endsWithDoneEvent("data:[DONE]\r\n\r\n"));
  EXPECT_FALSE(endsWithDoneEvent("data: [DONE]\n\ndata: {}\n\n"));
  EXPECT_FALSE(endsWithDoneEvent("data: x[DONE]\n\n"));
}

}  // namespace
}  // namespace portico::stream
