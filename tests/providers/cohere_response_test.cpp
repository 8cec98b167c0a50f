// cohere: Cohere v2 answers (chat, tool calls, embed, errors) -> OpenAI's format; no sockets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cohere/cohere_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readCohereText(const std::string& name) {
  return portico::testing::readTestData("cohere", name);
}

struct CohereReplyCase {
  HeaderList headers;
  json body;
  ClientRequest request;
  Target target;
  CohereAdapter adapter;

  explicit CohereReplyCase(Endpoint endpoint, json b = {{"model", "command-a-03-2025"}})
      : body(std::move(b)) {
    request.endpoint = endpoint;
    request.headers = &headers;
    request.body = &body;
    request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    target.provider = "cohere";
    target.api_key = "k";
  }

  MappedResponse map(int status, const std::string& reply_body) {
    return adapter.mapResponse(request, target,
                               UpstreamReply{status, "application/json", reply_body});
  }
};

TEST(CohereResponse, TextAnswer) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  auto mapped = c.map(200, readCohereText("chat_response_text.json"));
  ASSERT_EQ(mapped.status, 200);
  json expected = {
      {"id", "c14c80c3-18eb-4519-9460-6c92edd8cfb4"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "command-a-03-2025"},
      {"provider", "cohere"},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", "Hello! How can I help?"}}},
         {"logprobs", nullptr},
         {"finish_reason", "stop"}}}},
      // usage.tokens wins over billed_units
      {"usage", {{"prompt_tokens", 69}, {"completion_tokens", 6}, {"total_tokens", 75}}}};
  EXPECT_EQ(json::parse(mapped.body), expected) << mapped.body;
}

TEST(CohereResponse, ToolCallsAnswer) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  auto mapped = c.map(200, readCohereText("chat_response_tool_calls.json"));
  ASSERT_EQ(mapped.status, 200);
  json body = json::parse(mapped.body);
  const json& choice = body["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  EXPECT_FALSE(choice["message"].contains("tool_plan"));  // strict mode
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 2u);
  EXPECT_EQ(choice["message"]["tool_calls"][1],
            json({{"id", "get_weather_e7sq6qtwcxdr"},
                  {"type", "function"},
                  {"function",
                   {{"name", "get_weather"}, {"arguments", "{\"location\":\"Brasilia\"}"}}}}));
  // Only billed units were sent: they are used.
  EXPECT_EQ(body["usage"],
            json({{"prompt_tokens", 37}, {"completion_tokens", 28}, {"total_tokens", 65}}));
}

TEST(CohereResponse, NonStrictKeepsRawFinishReasonAndToolPlan) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  c.target.strict_open_ai_compliance = false;
  json body = json::parse(c.map(200, readCohereText("chat_response_tool_calls.json")).body);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "TOOL_CALL");
  EXPECT_EQ(body["choices"][0]["message"]["tool_plan"],
            "I will look up the weather in Madrid and Brasilia.");
}

TEST(CohereResponse, FinishReasonMap) {
  EXPECT_EQ(mapCohereFinishReason("COMPLETE", true), "stop");
  EXPECT_EQ(mapCohereFinishReason("STOP_SEQUENCE", true), "stop");
  EXPECT_EQ(mapCohereFinishReason("MAX_TOKENS", true), "length");
  EXPECT_EQ(mapCohereFinishReason("TOOL_CALL", true), "tool_calls");
  EXPECT_EQ(mapCohereFinishReason("ERROR_TOXIC", true), "content_filter");
  EXPECT_EQ(mapCohereFinishReason("SOMETHING_NEW", true), "stop");
  EXPECT_EQ(mapCohereFinishReason("MAX_TOKENS", false), "MAX_TOKENS");
}

TEST(CohereResponse, ErrorIsNormalisedWithStatusKept) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  auto mapped = c.map(404, readCohereText("error_400.json"));
  EXPECT_EQ(mapped.status, 404);
  json body = json::parse(mapped.body);
  EXPECT_EQ(body["provider"], "cohere");
  EXPECT_TRUE(body["error"]["message"].get<std::string>().starts_with(
      "cohere error: invalid request: model 'command-x' not found"));

  mapped = c.map(
      429,
      R"({"message":"You are using a Trial key, which is limited to 10 API calls / minute."})");
  EXPECT_EQ(mapped.status, 429);
  EXPECT_NE(mapped.body.find("Trial key"), std::string::npos);
}

TEST(CohereResponse, FinishReasonErrorIsAnErrorNotAnAnswer) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  auto mapped = c.map(
      200, R"({"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[]}})");
  EXPECT_EQ(mapped.status, 502);
  EXPECT_NE(mapped.body.find("cohere error:"), std::string::npos);
}

TEST(CohereResponse, GarbageIsA502NeverACrash) {
  CohereReplyCase c(Endpoint::kChatCompletions);
  for (std::string bad :
       {"not json", "[1,2]", R"({"message":3,"finish_reason":5})",
        R"({"message":{"content":[{"type":"text","text":7}],"tool_calls":"x"}})"}) {
    auto mapped = c.map(200, bad);
    if (mapped.status == 200) {
      // Tolerated shapes still give a valid chat.completion.
      EXPECT_EQ(json::parse(mapped.body)["object"], "chat.completion") << bad;
    } else {
      EXPECT_EQ(mapped.status, 502) << bad;
    }
  }
  EXPECT_EQ(c.map(200, "not json").status, 502);
}

TEST(CohereResponse, Embeddings) {
  CohereReplyCase c(Endpoint::kEmbeddings, {{"model", "embed-english-v3.0"},
                                            {"input", json::array({"hello", "goodbye"})}});
  auto mapped = c.map(200, readCohereText("embed_response.json"));
  ASSERT_EQ(mapped.status, 200);
  json body = json::parse(mapped.body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["model"], "embed-english-v3.0");
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["object"], "embedding");
  EXPECT_EQ(body["data"][1]["index"], 1);
  EXPECT_EQ(body["data"][1]["embedding"], json::array({-0.25, 0.125, 1.0}));
  EXPECT_EQ(body["usage"], json({{"prompt_tokens", 2}, {"total_tokens", 2}}));
}

TEST(CohereResponse, EmbeddingsAsBase64Floats) {
  CohereReplyCase c(Endpoint::kEmbeddings,
                    {{"model", "m"}, {"input", "x"}, {"encoding_format", "base64"}});
  auto mapped = c.map(
      200, R"({"embeddings":{"float":[[1.0,-2.0]]},"meta":{"billed_units":{"input_tokens":1}}})");
  ASSERT_EQ(mapped.status, 200);
  // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0 (little-endian)
  EXPECT_EQ(json::parse(mapped.body)["data"][0]["embedding"], "AACAPwAAAMA=");
}

TEST(CohereResponse, UsageIsReportedForTheGateway) {
  CohereReplyCase chat(Endpoint::kChatCompletions);
  // usage.tokens (what the model saw) wins over billed_units, as in the client's usage.
  auto text = chat.map(200, readCohereText("chat_response_text.json"));
  EXPECT_EQ(text.usage, (Usage{.prompt_tokens = 69, .completion_tokens = 6}));
  // Only billed units: they are used.
  auto tools = chat.map(200, readCohereText("chat_response_tool_calls.json"));
  EXPECT_EQ(tools.usage, (Usage{.prompt_tokens = 37, .completion_tokens = 28}));
  // None given, or an error: none reported.
  EXPECT_FALSE(chat.map(200, R"({"id":"x","message":{"content":"hi"}})").usage.has_value());
  EXPECT_FALSE(chat.map(404, readCohereText("error_400.json")).usage.has_value());

  CohereReplyCase embed(Endpoint::kEmbeddings,
                        {{"model", "embed-english-v3.0"}, {"input", json::array({"a", "b"})}});
  EXPECT_EQ(embed.map(200, readCohereText("embed_response.json")).usage,
            (Usage{.prompt_tokens = 2}));

  EXPECT_EQ(cohereUsage(json::object()), std::nullopt);
  EXPECT_EQ(cohereUsage({{"billed_units", {{"input_tokens", 3}, {"output_tokens", 4}}},
                         {"tokens", {{"input_tokens", 69}, {"output_tokens", 4}}}}),
            (Usage{.prompt_tokens = 69, .completion_tokens = 4}));
}

}  // namespace
}  // namespace portico::providers
