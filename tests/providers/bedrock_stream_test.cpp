// Bedrock converse-stream: binary event-stream frames (built with the real encoder) in any split
// -> OpenAI chunks; exception frames and corrupt CRCs -> an error event, never a fake finish.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "bedrock/bedrock_adapter.hpp"
#include "portico/aws_eventstream_parser.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("bedrock", name);
}

constexpr const char* kModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";

std::string eventFrame(const std::string& type, const json& payload) {
  return stream::encodeEventStreamMessage(
      {{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}},
      payload.dump());
}

std::string exceptionFrame(const std::string& type, const std::string& message) {
  return stream::encodeEventStreamMessage({{":exception-type", type},
                                           {":content-type", "application/json"},
                                           {":message-type", "exception"}},
                                          json{{"message", message}}.dump());
}

// The fixture's events as one upstream byte stream.
std::string fixtureBytes() {
  std::string bytes;
  for (const auto& e : json::parse(readFixture("stream_events.json"))) {
    bytes += eventFrame(e["event"], e["payload"]);
  }
  return bytes;
}

// The translator for a chat request made at 1700000000 (strict mode, id "chatcmpl-test").
std::unique_ptr<StreamTransformer> makeTransformer(bool include_usage = true) {
  const json body = {
      {"model", kModel}, {"stream", true}, {"stream_options", {{"include_usage", include_usage}}}};
  ClientRequest request;
  request.body = &body;
  request.stream = true;
  request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return bedrock::makeChatStream(request, true, "chatcmpl-test");
}

// Parses "data: ..." events; [DONE] stays a string.
std::vector<json> events(const std::string& sse) {
  std::vector<json> out;
  for (const auto& data : portico::testing::strictSsePayloads(sse)) {
    out.push_back(data == "[DONE]" ? json(data) : json::parse(data));
  }
  return out;
}

std::string runPieces(const std::vector<std::string_view>& pieces, bool include_usage = true) {
  auto t = makeTransformer(include_usage);
  std::string out;
  for (auto piece : pieces) t->feed(piece, out);
  t->finish(true, out);
  return out;
}

TEST(BedrockStream, FixtureInOneReadMatchesExpectedChunks) {
  const std::string bytes = fixtureBytes();
  EXPECT_EQ(events(runPieces({bytes})), events(readFixture("stream_expected.sse")));
}

TEST(BedrockStream, EverySplitPointGivesTheSameChunks) {
  const std::string bytes = fixtureBytes();
  std::string_view all(bytes);
  // The one-read output is checked against the fixture above; every split must equal it.
  const std::string whole = runPieces({all});
  ASSERT_EQ(events(whole), events(readFixture("stream_expected.sse")));
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    ASSERT_EQ(runPieces({all.substr(0, i), all.substr(i)}), whole) << "split at " << i;
  }
}

TEST(BedrockStream, ByteByByteAndRandomPieces) {
  const std::string bytes = fixtureBytes();
  const auto expected = events(readFixture("stream_expected.sse"));
  std::string_view all(bytes);
  std::vector<std::string_view> single;
  for (std::size_t i = 0; i < bytes.size(); ++i) single.push_back(all.substr(i, 1));
  EXPECT_EQ(events(runPieces(single)), expected);

  std::mt19937 rng(1234);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string_view> pieces;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      std::size_t n = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
      pieces.push_back(all.substr(pos, n));
      pos += std::min(n, bytes.size() - pos);
    }
    ASSERT_EQ(events(runPieces(pieces)), expected) << "round " << round;
  }
}

TEST(BedrockStream, WithoutIncludeUsageTheUsageRidesOnTheFinishingChunkOnce) {
  const auto out = events(runPieces({fixtureBytes()}, false));
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.back(), "[DONE]");
  int with_usage = 0;
  for (const auto& e : out) {
    if (e.is_object()) {
      with_usage += e.contains("usage") ? 1 : 0;
      EXPECT_EQ(e["choices"].size(), 1u);
    }
  }
  EXPECT_EQ(with_usage, 1);
  const json& finishing = out[out.size() - 2];
  EXPECT_EQ(finishing["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(finishing["usage"].contains("prompt_tokens")) << finishing.dump();
}

TEST(BedrockStream, ControlEventsEmitNoEmptyDeltas) {
  // contentBlockStop and a text contentBlockStart produce nothing; messageStart gives the role.
  std::string bytes =
      eventFrame("messageStart", {{"role", "assistant"}}) +
      eventFrame("contentBlockStart", {{"contentBlockIndex", 0}, {"start", json::object()}}) +
      eventFrame("contentBlockStop", {{"contentBlockIndex", 0}}) +
      eventFrame("someFutureEvent", {{"x", 1}});
  auto t = makeTransformer();
  std::string out;
  t->feed(bytes, out);
  auto got = events(out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
}

TEST(BedrockStream, ExceptionFrameMidStreamBecomesAnErrorEventAndStops) {
  std::string bytes =
      eventFrame("messageStart", {{"role", "assistant"}}) +
      eventFrame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hel"}}}}) +
      exceptionFrame("throttlingException", "Too many tokens, slow down.") +
      eventFrame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "lo"}}}});
  std::string_view all(bytes);
  for (std::size_t i = 0; i <= bytes.size(); i += 7) {
    auto t = makeTransformer();
    std::string out;
    t->feed(all.substr(0, i), out);
    t->feed(all.substr(i), out);
    t->finish(true, out);
    auto got = events(out);
    ASSERT_EQ(got.size(), 3u) << out;
    EXPECT_EQ(got[1]["choices"][0]["delta"]["content"], "Hel");
    EXPECT_EQ(got[2], json::parse(R"({"error":{
        "message":"bedrock error: Too many tokens, slow down.",
        "type":"throttlingException","param":null,"code":null},"provider":"bedrock"})"));
    EXPECT_EQ(out.find("[DONE]"), std::string::npos);
    EXPECT_EQ(out.find("finish_reason\":\"stop"), std::string::npos);
  }
}

TEST(BedrockStream, StreamMadeOnlyOfAnExceptionIsNotSwallowed) {
  auto t = makeTransformer();
  std::string out;
  t->feed(exceptionFrame("modelStreamErrorException", "Model failed"), out);
  t->finish(true, out);
  auto got = events(out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["error"]["type"], "modelStreamErrorException");
  EXPECT_EQ(got[0]["error"]["message"], "bedrock error: Model failed");
}

TEST(BedrockStream, CorruptCrcBecomesAnErrorEvent) {
  std::string good = eventFrame("messageStart", {{"role", "assistant"}});
  std::string bad =
      eventFrame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Hi"}}}});
  bad[bad.size() - 6] ^= 0x20;  // a payload byte: the message CRC no longer matches
  auto t = makeTransformer();
  std::string out;
  t->feed(good + bad, out);
  t->feed(eventFrame("messageStop", {{"stopReason", "end_turn"}}), out);
  t->finish(true, out);
  auto got = events(out);
  ASSERT_EQ(got.size(), 2u) << out;
  EXPECT_EQ(got[1]["error"]["type"], "upstream_stream_error");
  EXPECT_NE(got[1]["error"]["message"].get<std::string>().find("invalid event stream"),
            std::string::npos);
  EXPECT_EQ(out.find("Hi"), std::string::npos);
}

TEST(BedrockStream, BrokenUpstreamOrTruncatedStreamEndsWithAnError) {
  {
    auto t = makeTransformer();
    std::string out;
    t->feed(eventFrame("messageStart", {{"role", "assistant"}}), out);
    t->finish(false, out);
    auto got = events(out);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[1].contains("error"));
  }
  {
    // A clean close before messageStop is a truncated answer, not a success.
    auto t = makeTransformer();
    std::string out;
    t->feed(eventFrame("messageStart", {{"role", "assistant"}}), out);
    t->finish(true, out);
    EXPECT_TRUE(events(out).back().contains("error"));
  }
  {
    // Half a frame left over.
    auto t = makeTransformer();
    std::string out;
    std::string frame = eventFrame("messageStop", {{"stopReason", "end_turn"}});
    t->feed(std::string_view(frame).substr(0, 10), out);
    t->finish(true, out);
    EXPECT_TRUE(events(out).back().contains("error"));
  }
}

TEST(BedrockStream, MessageStopWithoutMetadataStillEndsWithDone) {
  auto t = makeTransformer();
  std::string out;
  t->feed(eventFrame("messageStop", {{"stopReason", "max_tokens"}}), out);
  t->finish(true, out);
  auto got = events(out);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(got[1], "[DONE]");
}

TEST(BedrockStream, AdapterMakesATransformerWithAFreshId) {
  BedrockAdapter adapter;
  json body = {{"model", kModel}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  ClientRequest request;
  request.body = &body;
  request.stream = true;
  Target target;
  auto t = adapter.makeStreamTransformer(request, target);
  ASSERT_NE(t, nullptr);
  std::string out;
  t->feed(fixtureBytes(), out);
  auto got = events(out);
  ASSERT_EQ(got.size(), 9u);
  EXPECT_TRUE(got[0]["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(got[0]["model"], kModel);
  EXPECT_TRUE(got[7].contains("usage"));
}

}  // namespace
}  // namespace portico::providers
