#include "portico/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portico::stream {
namespace {

using Event = SseParser::Event;
using namespace std::string_literals;

std::vector<Event> parseAll(std::string_view text, bool finish = true) {
  SseParser parser;
  std::vector<Event> out;
  EXPECT_TRUE(parser.feed(text, out));
  if (finish) parser.finish(out);
  return out;
}

// Feeds `text` in two pieces split at `at`.
std::vector<Event> parseSplit(std::string_view text, std::size_t at) {
  SseParser parser;
  std::vector<Event> out;
  EXPECT_TRUE(parser.feed(text.substr(0, at), out));
  EXPECT_TRUE(parser.feed(text.substr(at), out));
  parser.finish(out);
  return out;
}

const std::string kMixedStream =
    ": keep-alive\n"
    "event: first\n"
    "data: one\n"
    "\n"
    "data:two\r\n"
    "data:  three\r\n"
    "id: 7\r\n"
    "\r\n"
    "event: ping\r"
    "\r"
    "data: {\"a\":1}\n"
    "\n"
    "data: tail";

std::vector<Event> expectedMixed() {
  return {
      {"first", "one", ""},   {"", "two\n three", "7"}, {"ping", "", "7"},
      {"", "{\"a\":1}", "7"}, {"", "tail", "7"},
  };
}

TEST(SseParserTest, ParsesMixedStreamInOneFeed) {
  EXPECT_EQ(parseAll(kMixedStream), expectedMixed());
}

TEST(SseParserTest, AnySingleSplitGivesIdenticalEvents) {
  const auto expected = expectedMixed();
  for (std::size_t at = 0; at <= kMixedStream.size(); ++at) {
    EXPECT_EQ(parseSplit(kMixedStream, at), expected) << "split at " << at;
  }
}

TEST(SseParserTest, EveryPairOfSplitsGivesIdenticalEvents) {
  const auto expected = expectedMixed();
  const std::string_view text = kMixedStream;
  for (std::size_t a = 0; a <= text.size(); ++a) {
    for (std::size_t b = a; b <= text.size(); ++b) {
      SseParser parser;
      std::vector<Event> out;
      ASSERT_TRUE(parser.feed(text.substr(0, a), out));
      ASSERT_TRUE(parser.feed(text.substr(a, b - a), out));
      ASSERT_TRUE(parser.feed(text.substr(b), out));
      parser.finish(out);
      ASSERT_EQ(out, expected) << "splits at " << a << ", " << b;
    }
  }
}

TEST(SseParserTest, ByteByByteGivesIdenticalEvents) {
  SseParser parser;
  std::vector<Event> out;
  for (char c : kMixedStream) ASSERT_TRUE(parser.feed(std::string_view(&c, 1), out));
  parser.finish(out);
  EXPECT_EQ(out, expectedMixed());
}

TEST(SseParserTest, EventsAreDispatchedOnlyOnBlankLine) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: a\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(parser.feed("\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a");
}

TEST(SseParserTest, CrlfLineEndings) {
  EXPECT_EQ(parseAll("event: e\r\ndata: x\r\n\r\ndata: y\r\n\r\n", false),
            (std::vector<Event>{{"e", "x", ""}, {"", "y", ""}}));
}

TEST(SseParserTest, BareCrLineEndings) {
  EXPECT_EQ(parseAll("data: x\rdata: y\r\rdata: z\r\r", false),
            (std::vector<Event>{{"", "x\ny", ""}, {"", "z", ""}}));
}

TEST(SseParserTest, CrAtEndOfFeedThenLfIsOneLineEnd) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: x\r", out));
  ASSERT_TRUE(parser.feed("\ndata: y\r", out));
  ASSERT_TRUE(parser.feed("\n\r", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "x\ny");
  // The second '\r' ended an empty line; a following "\n" must not create another one.
  ASSERT_TRUE(parser.feed("\ndata: z\n\n", out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "z");
}

TEST(SseParserTest, CrThenLfInSeparateFeedsDoesNotDispatchTwice) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: x\r\n\r", out));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(parser.feed("\n", out));
  ASSERT_TRUE(parser.feed("\n", out));  // a real empty line, but nothing pending
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseParserTest, CommentsAreIgnored) {
  EXPECT_EQ(parseAll(": ping\n\n:\ndata: a\n: inside\ndata: b\n\n: trailing\n"),
            (std::vector<Event>{{"", "a\nb", ""}}));
}

TEST(SseParserTest, KeepAliveOnlyStreamProducesNothing) {
  EXPECT_TRUE(parseAll(": ping\n\n: ping\r\n\r\n").empty());
}

TEST(SseParserTest, MultiLineDataJoinsWithNewline) {
  EXPECT_EQ(parseAll("data: line1\ndata: line2\ndata:\ndata: line4\n\n")[0].data,
            "line1\nline2\n\nline4");
}

TEST(SseParserTest, OnlyOneLeadingSpaceIsStripped) {
  const auto events = parseAll("data:x\n\ndata: x\n\ndata:  x\n\ndata:x \n\n");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].data, "x");
  EXPECT_EQ(events[1].data, "x");
  EXPECT_EQ(events[2].data, " x");
  EXPECT_EQ(events[3].data, "x ");
}

TEST(SseParserTest, ValueMayContainColons) {
  EXPECT_EQ(parseAll("data: {\"a\":\"b:c\"}\n\n")[0].data, "{\"a\":\"b:c\"}");
}

TEST(SseParserTest, EmptyDataLineStillDispatches) {
  const auto events = parseAll("data\n\ndata:\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, "");
}

TEST(SseParserTest, EventNameWithoutDataIsDispatchedWithEmptyData) {
  EXPECT_EQ(parseAll("event: ping\n\n"), (std::vector<Event>{{"ping", "", ""}}));
}

TEST(SseParserTest, BlankLinesAndIdOnlyBlocksDispatchNothing) {
  const auto events = parseAll("\n\n\r\nid: 3\n\nretry: 100\n\nunknown: x\n\n");
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, IdPersistsAcrossEventsAndNulIdIsIgnored) {
  const auto events = parseAll("id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n"s);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].id, "1");
  EXPECT_EQ(events[1].id, "1");
  EXPECT_EQ(events[2].id, "1");
}

TEST(SseParserTest, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(parseAll("event\ndata\n\n"), (std::vector<Event>{{"", "", ""}}));
}

TEST(SseParserTest, LastEventFieldWins) {
  EXPECT_EQ(parseAll("event: a\nevent: b\ndata: x\n\n")[0].event, "b");
}

TEST(SseParserTest, EventNameResetsBetweenEvents) {
  const auto events = parseAll("event: a\ndata: 1\n\ndata: 2\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "a");
  EXPECT_EQ(events[1].event, "");
}

TEST(SseParserTest, LeadingBomIsSkipped) {
  EXPECT_EQ(parseAll("\xEF\xBB\xBF"
                     "data: a\n\n")[0]
                .data,
            "a");
  EXPECT_EQ(parseSplit("\xEF\xBB\xBF"
                       "data: a\n\n",
                       2)[0]
                .data,
            "a");
}

TEST(SseParserTest, FinishDispatchesEventWithoutTrailingBlankLine) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: a\n\ndata: b\n", out));
  EXPECT_EQ(out.size(), 1u);
  parser.finish(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].data, "b");
}

TEST(SseParserTest, FinishFlushesUnterminatedLine) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("event: done\ndata: [DONE]", out));
  parser.finish(out);
  EXPECT_EQ(out, (std::vector<Event>{{"done", "[DONE]", ""}}));
}

TEST(SseParserTest, FinishWithNothingPendingIsNoOp) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: a\n\n: bye\n", out));
  parser.finish(out);
  EXPECT_EQ(out.size(), 1u);
  parser.finish(out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseParserTest, OverflowOfPartialLineBreaksTheStream) {
  SseParser parser(16);
  std::vector<Event> out;
  EXPECT_TRUE(parser.feed("data: 0123456789", out));  // exactly 16 buffered
  EXPECT_FALSE(parser.feed("x", out));
  EXPECT_TRUE(parser.broken());
  // Stays broken, even for well-formed input.
  EXPECT_FALSE(parser.feed("\n\ndata: a\n\n", out));
  parser.finish(out);
  EXPECT_TRUE(out.empty());
}

TEST(SseParserTest, OverflowOfAccumulatedDataBreaksTheStream) {
  SseParser parser(32);
  std::vector<Event> out;
  bool ok = true;
  for (int i = 0; i < 10 && ok; ++i) ok = parser.feed("data: 0123456789\n", out);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(out.empty());
}

TEST(SseParserTest, LargeCompleteEventsInOneFeedDoNotOverflow) {
  // Complete lines are not "buffered incomplete data": many of them in one feed are fine.
  SseParser parser(64);
  std::vector<Event> out;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "data: " + std::to_string(i) + "\n\n";
  EXPECT_TRUE(parser.feed(text, out));
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out[999].data, "999");
}

TEST(SseParserTest, ManyTinyFeedsOfOneLongLineStayFast) {
  // Would take far too long if each feed rescanned the whole pending line.
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: ", out));
  const std::string chunk(4, 'x');
  for (int i = 0; i < 500000; ++i) ASSERT_TRUE(parser.feed(chunk, out));
  ASSERT_TRUE(parser.feed("\n\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data.size(), 2000000u);
}

TEST(SseParserTest, OpenAiShapedStream) {
  const std::string text =
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      "data: [DONE]\n\n";
  const auto events = parseAll(text);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].data, "[DONE]");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParserTest, AnthropicShapedStream) {
  const std::string text =
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":\"assistant\"}}\n"
      "\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n"
      "\n"
      "event: ping\n"
      "data: {\"type\": \"ping\"}\n"
      "\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n"
      "\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
      "\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n"
      "\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n"
      "\n";
  const std::vector<std::string> names = {
      "message_start",      "content_block_start", "ping",        "content_block_delta",
      "content_block_stop", "message_delta",       "message_stop"};
  for (std::size_t at = 0; at <= text.size(); at += 7) {
    const auto events = parseSplit(text, at);
    ASSERT_EQ(events.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(events[i].event, names[i]);
    EXPECT_EQ(events[0].data,
              "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":\"assistant\"}}");
    EXPECT_EQ(events[2].data, "{\"type\": \"ping\"}");
  }
}

TEST(SseParserTest, ArbitraryBytesNeverCrash) {
  // A cheap deterministic fuzz: random bytes biased towards the interesting ones.
  std::uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 16;
  };
  const char alphabet[] = {'\r', '\n', ':', ' ', 'd', 'a', 't', 'e', 'v', 'n', 'i', '\0', '\xEF'};
  for (int round = 0; round < 200; ++round) {
    SseParser parser(256);
    std::vector<Event> out;
    std::string chunk;
    for (int i = 0; i < 64; ++i) {
      chunk.clear();
      const auto len = next() % 16;
      for (unsigned j = 0; j < len; ++j) chunk.push_back(alphabet[next() % sizeof(alphabet)]);
      parser.feed(chunk, out);
    }
    parser.finish(out);
  }
  SUCCEED();
}

// Takes whole events in place while it can, then feeds the rest, at every split of `text`:
// the events must be the ones feed() alone gives (ids aside: in-place events carry none).
std::vector<Event> takeThenFeed(std::string_view text, std::size_t at, std::size_t* taken) {
  SseParser parser;
  std::vector<Event> out;
  for (std::string_view piece : {text.substr(0, at), text.substr(at)}) {
    std::string_view name;
    std::string_view data;
    while (parser.takeWholeEvent(piece, name, data)) {
      out.push_back(Event{std::string(name), std::string(data), ""});
      ++*taken;
    }
    EXPECT_TRUE(parser.feed(piece, out));
  }
  parser.finish(out);
  return out;
}

TEST(SseParserTest, WholeEventsTakenInPlaceAreTheOnesFeedGives) {
  const std::string streams[] = {
      "data: {\"a\":1}\n\ndata: [DONE]\n\n",
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {}\n\n",
      "data:  two spaces\n\ndata:none\n\ndata: \n\nevent: \ndata: x\n\n",
      "\xEF\xBB\xBF"
      "data: after a BOM\n\ndata: y\n\n",
      "data: a\ndata: b\n\nid: 7\ndata: c\n\n: comment\ndata: d\n\n",
      "data: cr\r\n\r\ndata: e\n\nevent: x\r\ndata: f\n\ndata: g\n\n\n\ndata: h\n\n",
      "event: named only\n\ndata: i\n\nevent: a\nevent: b\ndata: j\n\ndata: last",
  };
  for (const std::string& text : streams) {
    std::vector<Event> expected = parseAll(text);
    for (Event& event : expected) event.id.clear();
    std::size_t taken = 0;
    for (std::size_t at = 0; at <= text.size(); ++at) {
      std::vector<Event> got = takeThenFeed(text, at, &taken);
      for (Event& event : got) event.id.clear();
      EXPECT_EQ(got, expected) << text << " split at " << at;
    }
    EXPECT_GT(taken, 0u) << text;  // the in-place path ran for every stream
  }
}

TEST(SseParserTest, NothingIsTakenInPlaceWhileTheParserHoldsBytes) {
  SseParser parser;
  std::vector<Event> out;
  ASSERT_TRUE(parser.feed("data: half", out));
  std::string_view rest = "\n\ndata: whole\n\n";
  std::string_view name;
  std::string_view data;
  EXPECT_FALSE(parser.takeWholeEvent(rest, name, data));
  EXPECT_EQ(rest, "\n\ndata: whole\n\n");  // untouched
  ASSERT_TRUE(parser.feed(rest, out));
  EXPECT_EQ(out, (std::vector<Event>{{"", "half", ""}, {"", "whole", ""}}));
  std::string_view next = "data: now\n\nrest";
  EXPECT_TRUE(parser.takeWholeEvent(next, name, data));
  EXPECT_EQ(data, "now");
  EXPECT_EQ(next, "rest");
}

}  // namespace
}  // namespace portico::stream
