#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "anthropic/anthropic_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("anthropic", name);
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

struct Mapped {
  int status;
  std::string content_type;
  std::string raw;
  json body;
  std::optional<Usage> usage;
};

Mapped map(int status,
           std::string upstream_body,
           bool strict = true,
           Endpoint endpoint = Endpoint::kChatCompletions) {
  json request_body = {{"model", "claude-request-model"}};
  ClientRequest request;
  request.endpoint = endpoint;
  request.body = &request_body;
  request.now = kNow;
  Target target;
  target.provider = "anthropic";
  target.strict_open_ai_compliance = strict;
  auto out = AnthropicAdapter().mapResponse(
      request, target, UpstreamReply{status, "application/json", std::move(upstream_body)});
  return {out.status, out.content_type, out.body, json::parse(out.body, nullptr, false), out.usage};
}

TEST(AnthropicResponse, TextBlocksAreConcatenated) {
  auto out = map(200, readFixture("response_text.json"));
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.content_type, "application/json");
  const json& b = out.body;
  EXPECT_EQ(b["id"], "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["created"], 1700000000);
  EXPECT_EQ(b["model"], "claude-sonnet-4-5-20250929");
  EXPECT_EQ(b["provider"], "anthropic");
  ASSERT_EQ(b["choices"].size(), 1u);
  const json& choice = b["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], "Hello! How can I help?");
  EXPECT_FALSE(choice["message"].contains("tool_calls"));
  EXPECT_FALSE(choice["message"].contains("content_blocks"));
  EXPECT_TRUE(choice["logprobs"].is_null());
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_EQ(b["usage"], json({{"prompt_tokens", 12},
                              {"completion_tokens", 8},
                              {"total_tokens", 20},
                              {"prompt_tokens_details", {{"cached_tokens", 0}}}}));
}

TEST(AnthropicResponse, ToolUseBecomesToolCalls) {
  auto out = map(200, readFixture("response_tool_use.json"));
  const json& message = out.body["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  ASSERT_EQ(message["tool_calls"].size(), 2u);
  const json& call = message["tool_calls"][0];
  EXPECT_EQ(call["id"], "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  ASSERT_TRUE(call["function"]["arguments"].is_string());
  EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>()),
            json({{"city", "Paris"}, {"unit", "celsius"}}));
  EXPECT_EQ(message["tool_calls"][1]["function"]["arguments"], "{}");
  EXPECT_EQ(out.body["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_FALSE(message.contains("content_blocks"));  // thinking only outside strict mode
}

TEST(AnthropicResponse, NonStrictKeepsRawStopReasonAndBlocks) {
  auto out = map(200, readFixture("response_tool_use.json"), /*strict=*/false);
  EXPECT_EQ(out.body["choices"][0]["finish_reason"], "tool_use");
  const json& blocks = out.body["choices"][0]["message"]["content_blocks"];
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0]["type"], "thinking");
}

TEST(AnthropicResponse, CacheUsageCountsIntoPromptTokens) {
  auto out = map(200, readFixture("response_cache_usage.json"));
  EXPECT_EQ(out.body["usage"], json({{"prompt_tokens", 1210},
                                     {"completion_tokens", 5},
                                     {"total_tokens", 1215},
                                     {"prompt_tokens_details", {{"cached_tokens", 1000}}},
                                     {"cache_read_input_tokens", 1000},
                                     {"cache_creation_input_tokens", 200}}));
  EXPECT_EQ(out.body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(out.body["model"], "claude-3-5-haiku-20241022");
}

class AnthropicStopReason : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(AnthropicStopReason, MapsToOpenAi) {
  json message = json::parse(readFixture("response_text.json"));
  message["stop_reason"] = GetParam().first;
  auto out = map(200, message.dump());
  EXPECT_EQ(out.body["choices"][0]["finish_reason"], GetParam().second);
  auto raw = map(200, message.dump(), /*strict=*/false);
  EXPECT_EQ(raw.body["choices"][0]["finish_reason"], GetParam().first);
}

INSTANTIATE_TEST_SUITE_P(All,
                         AnthropicStopReason,
                         ::testing::Values(std::pair{"end_turn", "stop"},
                                           std::pair{"stop_sequence", "stop"},
                                           std::pair{"pause_turn", "stop"},
                                           std::pair{"max_tokens", "length"},
                                           std::pair{"tool_use", "tool_calls"},
                                           std::pair{"refusal", "content_filter"},
                                           std::pair{"something_new", "stop"}));

TEST(AnthropicResponse, EmptyContentIsEmptyString) {
  auto out = map(200, R"({"id":"m","type":"message","content":[],"stop_reason":"max_tokens",
                          "usage":{"input_tokens":1,"output_tokens":0}})");
  EXPECT_EQ(out.body["choices"][0]["message"]["content"], "");
  EXPECT_EQ(out.body["model"], "claude-request-model");  // falls back to the request's
}

TEST(AnthropicResponse, ErrorIsNormalisedWithStatusKept) {
  auto out = map(429, readFixture("error_rate_limit.json"));
  EXPECT_EQ(out.status, 429);
  EXPECT_EQ(out.body["error"]["message"],
            "anthropic error: Number of request tokens has exceeded your per-minute rate limit");
  EXPECT_EQ(out.body["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(out.body["error"]["param"].is_null());
  EXPECT_TRUE(out.body["error"]["code"].is_null());
  EXPECT_EQ(out.body["provider"], "anthropic");
}

TEST(AnthropicResponse, InvalidSuccessBodiesAreErrorsNotSuccesses) {
  for (const char* body : {"not json", "[1,2]", R"({"id":"x"})", ""}) {
    auto out = map(200, body);
    EXPECT_EQ(out.status, 502) << body;
    EXPECT_EQ(out.body["provider"], "anthropic") << body;
  }
  auto in_200 = map(200, readFixture("error_rate_limit.json"));
  EXPECT_EQ(in_200.status, 502);
  EXPECT_EQ(in_200.body["error"]["type"], "rate_limit_error");
}

TEST(AnthropicResponse, MessagesEndpointIsRelayedUnchanged) {
  const std::string ok = readFixture("response_text.json");
  auto out = map(200, ok, true, Endpoint::kMessages);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.raw, ok);
  const std::string err = readFixture("error_rate_limit.json");
  auto failed = map(429, err, true, Endpoint::kMessages);
  EXPECT_EQ(failed.status, 429);
  EXPECT_EQ(failed.raw, err);
}

TEST(AnthropicResponse, UsageIsReportedForTheGateway) {
  auto text = map(200, readFixture("response_text.json"));
  ASSERT_TRUE(text.usage.has_value());
  EXPECT_EQ(*text.usage, (Usage{.prompt_tokens = 12, .completion_tokens = 8, .cached_tokens = 0}));

  // Cache reads and writes count into the prompt, as in the client's usage; reads are cached.
  auto cached = map(200, readFixture("response_cache_usage.json"));
  ASSERT_TRUE(cached.usage.has_value());
  EXPECT_EQ(*cached.usage,
            (Usage{.prompt_tokens = 1210, .completion_tokens = 5, .cached_tokens = 1000}));

  // Anthropic-format answers relayed unchanged report the same counts.
  auto messages = map(200, readFixture("response_cache_usage.json"), true, Endpoint::kMessages);
  EXPECT_EQ(messages.usage, cached.usage);

  // No usage for errors, whatever the endpoint.
  EXPECT_FALSE(map(429, readFixture("error_rate_limit.json")).usage.has_value());
  EXPECT_FALSE(
      map(429, readFixture("error_rate_limit.json"), true, Endpoint::kMessages).usage.has_value());
  EXPECT_FALSE(map(200, "not json").usage.has_value());
  EXPECT_FALSE(map(200, readFixture("error_rate_limit.json")).usage.has_value());
}

// The text path writes what the tree path writes, byte for byte, status and usage included.
void expectTextPathAsTree(const std::string& upstream_body, bool strict) {
  json request_body = {{"model", "claude-request-model"}};
  ClientRequest request;
  request.body = &request_body;
  request.now = kNow;
  Target target;
  target.strict_open_ai_compliance = strict;
  const UpstreamReply reply{200, "application/json", upstream_body};
  auto text = anthropicTextChatResponse(request, target, reply, "anthropic");
  ASSERT_TRUE(text.has_value()) << upstream_body;
  auto tree = anthropicTreeChatResponse(request, target, reply, "anthropic");
  EXPECT_EQ(text->status, tree.status);
  EXPECT_EQ(text->content_type, tree.content_type);
  EXPECT_EQ(text->body, tree.body) << upstream_body;
  EXPECT_EQ(text->usage, tree.usage);
}

TEST(AnthropicResponse, TextAnswersAreWrittenAsTheTreeWritesThem) {
  const std::string cases[] = {
      readFixture("response_text.json"),
      readFixture("response_cache_usage.json"),
      R"({"id":"m","type":"message","content":[],"stop_reason":"max_tokens","usage":{}})",
      R"({"content":[{"type":"text","text":"a\n\"b\"\\"},{"text":"caf\u00e9 \ud83d\ude00","type":"text"}],
          "model":"claude-x","stop_reason":null,"usage":{"input_tokens":3,"output_tokens":4,
          "cache_read_input_tokens":0,"cache_creation_input_tokens":7,"service_tier":"standard"}})",
      R"({"id":"first","id":"last","content":[1,"skipped",{"type":"text","text":"x"}],
          "stop_reason":"refusal","usage":{"input_tokens":2.5,"output_tokens":"9"}})",
      R"({"id":"m","content":[{"type":"text","text":"\u0001\u001f\u007f"}],"stop_reason":"tool_use",
          "usage":{"input_tokens":-1,"output_tokens":9223372036854775807}})",
      R"({"content":[{"type":"text","text":"no usage, no id"}],"stop_reason":"something_new"})",
  };
  for (const auto& body : cases) {
    expectTextPathAsTree(body, /*strict=*/true);
    expectTextPathAsTree(body, /*strict=*/false);
  }
}

TEST(AnthropicResponse, OtherAnswersAreLeftToTheTree) {
  ClientRequest request;
  Target target;
  for (const std::string& body : {
           readFixture("response_tool_use.json"),
           readFixture("error_rate_limit.json"),
           std::string(R"({"content":[{"type":"text","text":"x","citations":[]}]})"),
           std::string(R"({"content":[{"type":"text","text":7}]})"),
           std::string(R"({"content":{"type":"text","text":"x"}})"),
           std::string(R"({"id":7,"content":[]})"),
           std::string(R"({"content":[],"usage":{"input_tokens":18446744073709551615}})"),
           std::string("not json"),
       }) {
    EXPECT_FALSE(anthropicTextChatResponse(
                     request, target, UpstreamReply{200, "application/json", body}, "anthropic")
                     .has_value())
        << body;
  }
  EXPECT_FALSE(anthropicTextChatResponse(
                   request, target,
                   UpstreamReply{500, "application/json", readFixture("response_text.json")},
                   "anthropic")
                   .has_value());
}

TEST(AnthropicResponse, AnotherProviderIdGoesOnAnswersAndErrors) {
  json request_body = {{"model", "claude-request-model"}};
  ClientRequest request;
  request.body = &request_body;
  request.now = kNow;
  Target target;
  target.provider = "vertex-ai";
  auto ok = anthropicChatResponse(
      request, target, UpstreamReply{200, "application/json", readFixture("response_text.json")},
      "vertex-ai");
  EXPECT_EQ(json::parse(ok.body)["provider"], "vertex-ai");
  EXPECT_EQ(ok.usage, (Usage{.prompt_tokens = 12, .completion_tokens = 8, .cached_tokens = 0}));

  auto failed = anthropicChatResponse(
      request, target, UpstreamReply{429, "application/json", readFixture("error_rate_limit.json")},
      "vertex-ai");
  EXPECT_EQ(failed.status, 429);
  json error = json::parse(failed.body);
  EXPECT_EQ(error["provider"], "vertex-ai");
  EXPECT_EQ(error["error"]["message"],
            "vertex-ai error: Number of request tokens has exceeded your per-minute rate limit");

  auto invalid = anthropicChatResponse(request, target,
                                       UpstreamReply{200, "application/json", "[]"}, "vertex-ai");
  EXPECT_EQ(invalid.status, 502);
  EXPECT_EQ(json::parse(invalid.body)["error"]["message"],
            "vertex-ai error: Invalid response received from vertex-ai: []");
}

}  // namespace
}  // namespace portico::providers
