#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "anthropic/anthropic_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("anthropic", name);
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

struct StreamRun {
  json request_body = {{"model", "claude-sonnet-4-5"}, {"stream", true}};
  bool strict = true;

  std::unique_ptr<StreamTransformer> make() const {
    ClientRequest request;
    request.endpoint = Endpoint::kChatCompletions;
    request.body = &request_body;
    request.stream = true;
    request.now = kNow;
    Target target;
    target.provider = "anthropic";
    target.strict_open_ai_compliance = strict;
    return AnthropicAdapter().makeStreamTransformer(request, target);
  }

  // Feeds `pieces` in order, then finish(complete).
  std::string run(const std::vector<std::string_view>& pieces, bool complete = true) const {
    auto t = make();
    std::string out;
    for (auto piece : pieces) t->feed(piece, out);
    t->finish(complete, out);
    return out;
  }
  std::string whole(std::string_view text, bool complete = true) const {
    return run({text}, complete);
  }
};

// The "data:" payloads of an SSE body, in order.
std::vector<std::string> payloads(const std::string& sse) {
  return portico::testing::strictSsePayloads(sse);
}

std::vector<json> chunks(const std::string& sse) {
  std::vector<json> out;
  for (const auto& p : payloads(sse)) {
    if (p != "[DONE]") out.push_back(json::parse(p));
  }
  return out;
}

TEST(AnthropicStream, TextAndToolUseFixtureMapsToChunks) {
  StreamRun run;
  run.request_body["stream_options"] = {{"include_usage", true}};
  const std::string out = run.whole(readFixture("stream_text_tool.sse"));
  const auto data = payloads(out);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), "[DONE]");
  const auto c = chunks(out);
  ASSERT_EQ(c.size(), 8u) << out;

  for (const auto& chunk : c) {
    EXPECT_EQ(chunk["id"], "msg_014p7gG3wDgGV9EUtLvnow3U");
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["created"], 1700000000);
    EXPECT_EQ(chunk["model"], "claude-sonnet-4-5-20250929");
    EXPECT_EQ(chunk["provider"], "anthropic");
  }
  auto choice = [&](std::size_t i) { return c[i]["choices"][0]; };
  EXPECT_EQ(choice(0)["delta"], json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(choice(0)["index"], 0);
  EXPECT_TRUE(choice(0)["logprobs"].is_null());
  EXPECT_TRUE(choice(0)["finish_reason"].is_null());
  EXPECT_EQ(choice(1)["delta"], json({{"content", "Okay, let's check"}}));
  EXPECT_EQ(choice(2)["delta"], json({{"content", " the weather for San Francisco, CA:"}}));
  EXPECT_EQ(choice(3)["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function",
                            "function":{"name":"get_weather","arguments":""}}])"));
  EXPECT_EQ(choice(4)["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"function":{"arguments":"{\"location\":"}}])"));
  std::string args = choice(4)["delta"]["tool_calls"][0]["function"]["arguments"];
  args += choice(5)["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
  EXPECT_EQ(json::parse(args), json({{"location", "San Francisco, CA"}, {"unit", "fahrenheit"}}));
  EXPECT_EQ(choice(6)["delta"], json::object());
  EXPECT_EQ(choice(6)["finish_reason"], "tool_calls");
  EXPECT_EQ(c[7]["choices"], json::array());
  EXPECT_EQ(c[7]["usage"], json({{"prompt_tokens", 572},
                                 {"completion_tokens", 89},
                                 {"total_tokens", 661},
                                 {"prompt_tokens_details", {{"cached_tokens", 100}}},
                                 {"cache_read_input_tokens", 100}}));
}

TEST(AnthropicStream, WithoutIncludeUsageTheUsageRidesOnTheFinishingChunkOnce) {
  const auto c = chunks(StreamRun().whole(readFixture("stream_text_tool.sse")));
  ASSERT_EQ(c.size(), 7u);
  for (std::size_t i = 0; i + 1 < c.size(); ++i) EXPECT_FALSE(c[i].contains("usage")) << i;
  EXPECT_EQ(c[6]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(c[6]["usage"]["completion_tokens"], 89);
  EXPECT_EQ(c[6]["usage"]["total_tokens"], 661);
}

TEST(AnthropicStream, SameOutputWhateverTheSplit) {
  StreamRun run;
  run.request_body["stream_options"] = {{"include_usage", true}};
  const std::string fixture = readFixture("stream_text_tool.sse");
  const std::string expected = run.whole(fixture);
  std::string_view all = fixture;
  for (std::size_t i = 0; i <= fixture.size(); ++i) {
    ASSERT_EQ(run.run({all.substr(0, i), all.substr(i)}), expected) << "split at " << i;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < fixture.size(); ++i) bytes.push_back(all.substr(i, 1));
  EXPECT_EQ(run.run(bytes), expected);

  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string_view> pieces;
    std::size_t pos = 0;
    while (pos < fixture.size()) {
      std::size_t n = std::uniform_int_distribution<std::size_t>(1, 40)(rng);
      pieces.push_back(all.substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(run.run(pieces), expected) << "round " << round;
  }

  // CRLF framing carries the same events.
  std::string crlf;
  for (char ch : fixture) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  EXPECT_EQ(run.whole(crlf), expected);
}

TEST(AnthropicStream, PingUnknownEventsAndCommentsAreTolerated) {
  const std::string sse =
      ": keep-alive\n\n"
      "event: ping\n\n"
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":3}}})"
      "\n\n"
      "event: brand_new_event\ndata: {\"type\":\"brand_new_event\",\"x\":1}\n\n"
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search"}})"
      "\n\n"
      "data: not json at all\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}})"
      "\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})"
      "\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const std::string out = StreamRun().whole(sse);
  const auto c = chunks(out);
  ASSERT_EQ(c.size(), 3u) << out;
  EXPECT_EQ(c[1]["choices"][0]["delta"], json({{"content", "Hi"}}));
  EXPECT_EQ(c[2]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(payloads(out).back(), "[DONE]");
}

TEST(AnthropicStream, ErrorEventMidStreamBecomesErrorAndStops) {
  const std::string fixture = readFixture("stream_error.sse");
  StreamRun run;
  const std::string expected = run.whole(fixture);
  const auto data = payloads(expected);
  ASSERT_EQ(data.size(), 3u) << expected;
  EXPECT_EQ(json::parse(data[1])["choices"][0]["delta"]["content"], "Partial");
  const json error = json::parse(data[2]);
  EXPECT_EQ(error["error"]["message"], "anthropic error: Overloaded");
  EXPECT_EQ(error["error"]["type"], "overloaded_error");
  EXPECT_EQ(error["provider"], "anthropic");
  EXPECT_EQ(expected.find("[DONE]"), std::string::npos);
  EXPECT_EQ(expected.find("never shown"), std::string::npos);
  EXPECT_EQ(expected.find("finish_reason\":\"overloaded"), std::string::npos);
  std::string_view all = fixture;
  for (std::size_t i = 0; i <= fixture.size(); ++i) {
    ASSERT_EQ(run.run({all.substr(0, i), all.substr(i)}), expected) << "split at " << i;
  }
}

TEST(AnthropicStream, BrokenUpstreamEndsWithErrorEvent) {
  const std::string fixture = readFixture("stream_text_tool.sse");
  const std::string partial = fixture.substr(0, fixture.find("event: content_block_stop"));
  const std::string out = StreamRun().whole(partial, /*complete=*/false);
  const auto data = payloads(out);
  ASSERT_GE(data.size(), 2u);
  const json last = json::parse(data.back());
  EXPECT_EQ(last["provider"], "anthropic");
  EXPECT_TRUE(last["error"]["message"].get<std::string>().starts_with("anthropic error: "));
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);

  // A clean close before the message finished is not a success either.
  const std::string cut = StreamRun().whole(partial, /*complete=*/true);
  EXPECT_EQ(cut.find("[DONE]"), std::string::npos);
  EXPECT_TRUE(json::parse(payloads(cut).back()).contains("error"));

  // Nothing at all, then a break: only the error.
  const auto empty = payloads(StreamRun().whole("", /*complete=*/false));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(json::parse(empty[0]).contains("error"));
}

TEST(AnthropicStream, FinishAfterStopReasonWithoutMessageStopEndsCleanly) {
  const std::string fixture = readFixture("stream_text_tool.sse");
  const std::string no_stop = fixture.substr(0, fixture.find("event: message_stop"));
  const std::string out = StreamRun().whole(no_stop);
  EXPECT_EQ(payloads(out).back(), "[DONE]");
  // After message_stop, finish(false) adds nothing.
  EXPECT_EQ(StreamRun().whole(fixture, false), StreamRun().whole(fixture, true));
}

// The event's name stands in for a data "type" that is missing or no string; usage counts that
// are no integers are not counted; a stop_reason that is no string finishes nothing.
TEST(AnthropicStream, EventNamesStandInForAMissingTypeAndOddFieldsAreSkipped) {
  const std::string out = StreamRun().whole(
      "event: message_start\n"
      "data: {\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\","
      "\"usage\":{\"input_tokens\":7,\"output_tokens\":1.5,\"cache_read_input_tokens\":\"9\"}}}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":5,\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi "
      "\\\"there\\\"\"}}\n\n"
      "event: message_delta\n"
      "data: "
      "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":7},\"usage\":{\"output_tokens\":3}}"
      "\n\n"
      "event: message_delta\n"
      "data: {\"delta\":{\"stop_reason\":\"max_tokens\"}}\n\n"
      "event: message_stop\n"
      "data: {}\n\n");
  const auto c = chunks(out);
  ASSERT_EQ(c.size(), 3u) << out;
  EXPECT_EQ(c[0]["id"], "msg_1");
  EXPECT_EQ(c[0]["model"], "claude-x");
  EXPECT_EQ(c[1]["choices"][0]["delta"], json({{"content", "Hi \"there\""}}));
  EXPECT_EQ(c[2]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c[2]["usage"]["prompt_tokens"], 7);
  EXPECT_EQ(c[2]["usage"]["completion_tokens"], 3);
  EXPECT_EQ(c[2]["usage"]["total_tokens"], 10);
  EXPECT_EQ(c[2]["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(payloads(out).back(), "[DONE]");
}

TEST(AnthropicStream, ThinkingOnlyOutsideStrictMode) {
  const std::string sse =
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_t","model":"claude-x","usage":{"input_tokens":3}}})"
      "\n\n"
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})"
      "\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}})"
      "\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":2}})"
      "\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  const auto strict = chunks(StreamRun().whole(sse));
  ASSERT_EQ(strict.size(), 2u);
  EXPECT_EQ(strict[1]["choices"][0]["finish_reason"], "length");

  StreamRun loose;
  loose.strict = false;
  const auto extra = chunks(loose.whole(sse));
  ASSERT_EQ(extra.size(), 4u);
  EXPECT_EQ(extra[1]["choices"][0]["delta"]["content_blocks"][0]["delta"]["thinking"], "Hmm");
  EXPECT_EQ(extra[3]["choices"][0]["finish_reason"], "max_tokens");
}

TEST(AnthropicStream, NothingAfterTheEnd) {
  auto t = StreamRun().make();
  std::string out;
  t->feed(readFixture("stream_text_tool.sse"), out);
  const std::string before = out;
  t->feed("event: content_block_delta\ndata: {}\n\n", out);
  t->finish(false, out);
  EXPECT_EQ(out, before);
}

TEST(AnthropicStream, ReportsUsageWhateverTheClientAsked) {
  const std::string fixture = readFixture("stream_text_tool.sse");
  // message_start's input and cache counts, message_delta's final output count.
  const Usage expected{.prompt_tokens = 572, .completion_tokens = 89, .cached_tokens = 100};
  for (bool include_usage : {false, true}) {
    StreamRun run;
    if (include_usage) {
      run.request_body["stream_options"] = {{"include_usage", true}};
    }
    auto t = run.make();
    EXPECT_FALSE(t->usage().has_value());
    std::string out;
    for (const auto& piece : testing::splitIntoPieces(fixture, 13)) {
      t->feed(piece, out);
    }
    t->finish(true, out);
    EXPECT_EQ(t->usage(), expected) << include_usage;
  }
}

TEST(AnthropicStream, AnotherProviderIdGoesOnEveryChunkAndError) {
  json body = {{"model", "claude-sonnet-4-5"}, {"stream", true}};
  ClientRequest request;
  request.body = &body;
  request.stream = true;
  request.now = kNow;
  Target target;
  target.provider = "vertex-ai";
  auto t = makeAnthropicChatStream(request, target, "vertex-ai");
  std::string out;
  t->feed(readFixture("stream_text_tool.sse"), out);
  t->finish(true, out);
  const auto c = chunks(out);
  ASSERT_EQ(c.size(), 7u);
  for (const auto& chunk : c) {
    EXPECT_EQ(chunk["provider"], "vertex-ai");
  }

  auto broken = makeAnthropicChatStream(request, target, "vertex-ai");
  std::string cut;
  broken->feed(readFixture("stream_text_tool.sse").substr(0, 400), cut);
  broken->finish(false, cut);
  const json error = chunks(cut).back();
  EXPECT_EQ(error["provider"], "vertex-ai");
  EXPECT_EQ(error["error"]["message"], "vertex-ai error: the upstream stream was interrupted");
}

TEST(AnthropicMessagesStream, MultiLineDataGoesOutOnOneLine) {
  // The fuzzer found it: data split over lines went out as several data lines. Newlines in
  // valid JSON are whitespace, so one line with spaces says the same.
  auto relay = makeAnthropicMessagesStream("anthropic");
  std::string out;
  relay->feed("event: ping\ndata: {\"type\":\ndata: \"ping\"}\n\ndata: not json\n\n", out);
  relay->finish(true, out);
  EXPECT_EQ(out, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
}

}  // namespace
}  // namespace portico::providers
