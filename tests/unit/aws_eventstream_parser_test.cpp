#include "portico/aws_eventstream_parser.hpp"

#include <gtest/gtest.h>

#include <boost/crc.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace portico::stream {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Status = AwsEventStreamParser::Status;

std::string fromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

void putU32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

// Frames a raw header block and payload with correct lengths and CRCs.
std::string frameRaw(std::string_view headers, std::string_view payload) {
  std::string out(12, '\0');
  putU32(out, 0, static_cast<std::uint32_t>(16 + headers.size() + payload.size()));
  putU32(out, 4, static_cast<std::uint32_t>(headers.size()));
  putU32(out, 8, crc32(std::string_view(out).substr(0, 8)));
  out.append(headers);
  out.append(payload);
  out.append(4, '\0');
  putU32(out, out.size() - 4, crc32(std::string_view(out).substr(0, out.size() - 4)));
  return out;
}

// A bare prelude (12 bytes) with a correct prelude CRC.
std::string prelude(std::uint32_t total, std::uint32_t headers_len) {
  std::string out(12, '\0');
  putU32(out, 0, total);
  putU32(out, 4, headers_len);
  putU32(out, 8, crc32(std::string_view(out).substr(0, 8)));
  return out;
}

std::vector<EventStreamMessage> decodeAll(std::string_view bytes) {
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(bytes, out), Status::kOk) << parser.errorMessage();
  EXPECT_EQ(parser.buffered(), 0u);
  return out;
}

Headers bedrockHeaders(const std::string& event_type) {
  return {{":event-type", event_type},
          {":content-type", "application/json"},
          {":message-type", "event"}};
}

TEST(AwsEventStreamTest, KnownGoodEmptyFrame) {
  // The smallest valid frame: no headers, no payload (the AWS SDKs' "empty_message" vector).
  const std::string bytes = fromHex("000000100000000005c248eb7d98c8ff");
  EXPECT_EQ(encodeEventStreamMessage({}, ""), bytes);
  const auto messages = decodeAll(bytes);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].headers.empty());
  EXPECT_EQ(messages[0].payload, "");
}

TEST(AwsEventStreamTest, KnownGoodFrameWithHeader) {
  // Published example (README of emblica/aws-event-stream-parser-rs): content-type:
  // application/json with payload {'foo':'bar'}.
  const std::string bytes = fromHex(
      "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
      "7b27666f6f273a27626172277d8d9c08b1");
  const auto messages = decodeAll(bytes);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].headers, (Headers{{"content-type", "application/json"}}));
  EXPECT_EQ(messages[0].payload, "{'foo':'bar'}");
  EXPECT_EQ(encodeEventStreamMessage({{"content-type", "application/json"}}, "{'foo':'bar'}"),
            bytes);
}

TEST(AwsEventStreamTest, RoundTrip) {
  const Headers headers = bedrockHeaders("contentBlockDelta");
  const std::string payload =
      R"({"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"})";
  const auto messages = decodeAll(encodeEventStreamMessage(headers, payload));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].headers, headers);
  EXPECT_EQ(messages[0].payload, payload);
  EXPECT_EQ(messages[0].header(":event-type"), "contentBlockDelta");
  EXPECT_EQ(messages[0].header(":message-type"), "event");
  EXPECT_EQ(messages[0].header("missing"), "");
}

TEST(AwsEventStreamTest, BinaryPayloadAndEmptyHeaderValue) {
  const std::string payload("\0\x01\xff\r\n", 5);
  const auto messages = decodeAll(encodeEventStreamMessage({{"x", ""}}, payload));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].headers, (Headers{{"x", ""}}));
  EXPECT_EQ(messages[0].payload, payload);
}

TEST(AwsEventStreamTest, SeveralFramesInOneFeed) {
  std::string bytes;
  bytes += encodeEventStreamMessage(bedrockHeaders("messageStart"), R"({"role":"assistant"})");
  bytes +=
      encodeEventStreamMessage(bedrockHeaders("contentBlockDelta"), R"({"delta":{"text":"a"}})");
  bytes += encodeEventStreamMessage(bedrockHeaders("messageStop"), R"({"stopReason":"end_turn"})");
  bytes += encodeEventStreamMessage(bedrockHeaders("metadata"), R"({"usage":{}})");
  const auto messages = decodeAll(bytes);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].header(":event-type"), "messageStart");
  EXPECT_EQ(messages[3].header(":event-type"), "metadata");
  EXPECT_EQ(messages[2].payload, R"({"stopReason":"end_turn"})");
}

TEST(AwsEventStreamTest, FramesSplitAtEveryByte) {
  std::string bytes;
  bytes += encodeEventStreamMessage(bedrockHeaders("messageStart"), R"({"role":"assistant"})");
  bytes += encodeEventStreamMessage({}, "");
  bytes +=
      encodeEventStreamMessage(bedrockHeaders("contentBlockDelta"), R"({"delta":{"text":"a"}})");
  const auto expected = decodeAll(bytes);
  ASSERT_EQ(expected.size(), 3u);
  for (std::size_t at = 0; at <= bytes.size(); ++at) {
    AwsEventStreamParser parser;
    std::vector<EventStreamMessage> out;
    ASSERT_EQ(parser.feed(std::string_view(bytes).substr(0, at), out), Status::kOk);
    ASSERT_EQ(parser.feed(std::string_view(bytes).substr(at), out), Status::kOk);
    ASSERT_EQ(out.size(), 3u) << "split at " << at;
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(out[i].headers, expected[i].headers);
      EXPECT_EQ(out[i].payload, expected[i].payload);
    }
  }
}

TEST(AwsEventStreamTest, ByteByByteFeed) {
  const std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload") +
                            encodeEventStreamMessage(bedrockHeaders("y"), "more");
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  for (char c : bytes) ASSERT_EQ(parser.feed(std::string_view(&c, 1), out), Status::kOk);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload, "more");
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(AwsEventStreamTest, PartialFrameIsBuffered) {
  const std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  ASSERT_EQ(parser.feed(std::string_view(bytes).substr(0, bytes.size() - 1), out), Status::kOk);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parser.buffered(), bytes.size() - 1);
}

TEST(AwsEventStreamTest, CorruptedPreludeCrcIsDetected) {
  std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  bytes[9] = static_cast<char>(bytes[9] ^ 0x01);
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(bytes, out), Status::kError);
  EXPECT_NE(parser.errorMessage().find("prelude"), std::string::npos) << parser.errorMessage();
  EXPECT_TRUE(out.empty());
}

TEST(AwsEventStreamTest, CorruptedLengthIsCaughtByPreludeCrc) {
  std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  bytes[3] = static_cast<char>(bytes[3] + 1);
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(bytes, out), Status::kError);
}

TEST(AwsEventStreamTest, PreludeErrorIsReportedBeforeTheFrameIsComplete) {
  std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  bytes[8] = static_cast<char>(bytes[8] ^ 0x80);
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(std::string_view(bytes).substr(0, 11), out), Status::kOk);
  EXPECT_EQ(parser.feed(std::string_view(bytes).substr(11, 1), out), Status::kError);
}

TEST(AwsEventStreamTest, CorruptedPayloadIsCaughtByMessageCrc) {
  std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  bytes[bytes.size() - 6] = 'X';
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(bytes, out), Status::kError);
  EXPECT_NE(parser.errorMessage().find("message CRC"), std::string::npos) << parser.errorMessage();
}

TEST(AwsEventStreamTest, CorruptedMessageCrcIsDetected) {
  std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  bytes.back() = static_cast<char>(bytes.back() ^ 0x10);
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(bytes, out), Status::kError);
}

TEST(AwsEventStreamTest, ErrorIsStickyAndEarlierMessagesAreKept) {
  const std::string good = encodeEventStreamMessage(bedrockHeaders("a"), "1");
  std::string bad = encodeEventStreamMessage(bedrockHeaders("b"), "2");
  bad.back() = static_cast<char>(bad.back() ^ 0x10);
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(good + bad, out), Status::kError);
  EXPECT_EQ(out.size(), 1u);
  const std::string message = parser.errorMessage();
  EXPECT_EQ(parser.feed(good, out), Status::kError);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(parser.errorMessage(), message);
}

TEST(AwsEventStreamTest, TooShortTotalLengthIsRejected) {
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(prelude(15, 0), out), Status::kError);
  EXPECT_NE(parser.errorMessage().find("out of range"), std::string::npos);
}

TEST(AwsEventStreamTest, OversizedTotalLengthIsRejectedImmediately) {
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(prelude(AwsEventStreamParser::kMaxFrameSize + 1, 0), out), Status::kError);
  AwsEventStreamParser huge;
  EXPECT_EQ(huge.feed(prelude(0xFFFFFFFFu, 0), out), Status::kError);
}

TEST(AwsEventStreamTest, MaximumTotalLengthIsAcceptedAndWaitedFor) {
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(prelude(AwsEventStreamParser::kMaxFrameSize, 0), out), Status::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(AwsEventStreamTest, HeadersLengthBeyondFrameIsRejected) {
  AwsEventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.feed(prelude(32, 17), out), Status::kError);
  AwsEventStreamParser wraps;
  EXPECT_EQ(wraps.feed(prelude(16, 0xFFFFFFFFu), out), Status::kError);
}

TEST(AwsEventStreamTest, TruncatedStreamIsNotAnErrorButYieldsNothing) {
  const std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    AwsEventStreamParser parser;
    std::vector<EventStreamMessage> out;
    EXPECT_EQ(parser.feed(std::string_view(bytes).substr(0, len), out), Status::kOk);
    EXPECT_TRUE(out.empty());
  }
}

TEST(AwsEventStreamTest, AllHeaderTypesAreDecoded) {
  std::string h;
  auto name = [&h](std::string_view n, char type) {
    h.push_back(static_cast<char>(n.size()));
    h.append(n);
    h.push_back(type);
  };
  name("t", 0);
  name("f", 1);
  name("b", 2);
  h.push_back('\xFE');  // -2
  name("s", 3);
  h.append("\x01\x00", 2);  // 256
  name("i", 4);
  h.append("\xFF\xFF\xFF\xFF");  // -1
  name("l", 5);
  h.append("\x00\x00\x00\x01\x00\x00\x00\x00", 8);  // 4294967296
  name("bytes", 6);
  h.append("\x00\x03\x00\x01\x02", 5);
  name("str", 7);
  h.append("\x00\x02hi", 4);
  name("ts", 8);
  h.append("\x00\x00\x01\x8b\xcf\xe5\x68\x00", 8);
  name("uuid", 9);
  h.append(fromHex("0123456789abcdef0123456789abcdef"));
  const auto messages = decodeAll(frameRaw(h, "body"));
  ASSERT_EQ(messages.size(), 1u);
  const Headers expected = {{"t", "true"},
                            {"f", "false"},
                            {"b", "-2"},
                            {"s", "256"},
                            {"i", "-1"},
                            {"l", "4294967296"},
                            {"bytes", std::string("\x00\x01\x02", 3)},
                            {"str", "hi"},
                            {"ts", "1700000000000"},
                            {"uuid", "01234567-89ab-cdef-0123-456789abcdef"}};
  EXPECT_EQ(messages[0].headers, expected);
  EXPECT_EQ(messages[0].payload, "body");
}

TEST(AwsEventStreamTest, MalformedHeadersAreRejected) {
  const std::vector<std::string> bad_blocks = {
      std::string("\x00", 1),  // empty name
      std::string("\x05"
                  "ab",
                  3),  // name runs past the block
      std::string("\x01"
                  "a",
                  2),  // no type byte
      std::string("\x01"
                  "a\x0A",
                  3),  // unknown type 10
      std::string("\x01"
                  "a\x07\x00",
                  4),  // string length cut short
      std::string("\x01"
                  "a\x07\x00\x05"
                  "abc",
                  8),  // string value runs past the block
      std::string("\x01"
                  "a\x04\x00\x00",
                  5),  // int32 cut short
      std::string("\x01"
                  "a\x09\x00\x01",
                  5),  // uuid cut short
  };
  for (const auto& block : bad_blocks) {
    AwsEventStreamParser parser;
    std::vector<EventStreamMessage> out;
    EXPECT_EQ(parser.feed(frameRaw(block, "p"), out), Status::kError)
        << "block size " << block.size();
    EXPECT_FALSE(parser.errorMessage().empty());
    EXPECT_TRUE(out.empty());
  }
}

TEST(AwsEventStreamTest, BedrockExceptionFrame) {
  const Headers headers = {{":exception-type", "throttlingException"},
                           {":content-type", "application/json"},
                           {":message-type", "exception"}};
  const auto messages =
      decodeAll(encodeEventStreamMessage(headers, R"({"message":"Too many requests"})"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].header(":message-type"), "exception");
  EXPECT_EQ(messages[0].header(":exception-type"), "throttlingException");
}

TEST(AwsEventStreamTest, EncoderTruncatesOversizedHeaderParts) {
  const std::string long_name(300, 'n');
  const std::string long_value(70000, 'v');
  const auto messages = decodeAll(encodeEventStreamMessage({{long_name, long_value}}, "p"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].headers[0].first.size(), 255u);
  EXPECT_EQ(messages[0].headers[0].second.size(), 65535u);
}

TEST(AwsEventStreamTest, RandomGarbageNeverCrashes) {
  std::uint32_t state = 7;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 24;
  };
  for (int round = 0; round < 500; ++round) {
    AwsEventStreamParser parser;
    std::vector<EventStreamMessage> out;
    std::string bytes = encodeEventStreamMessage(bedrockHeaders("x"), "payload");
    bytes[next() % bytes.size()] = static_cast<char>(next());
    bytes.append(static_cast<std::size_t>(next() % 32), static_cast<char>(next()));
    parser.feed(bytes, out);
  }
  SUCCEED();
}

}  // namespace
}  // namespace portico::stream
