#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "apis/messages_api.hpp"

namespace portico::apis::messages {
namespace {

using nlohmann::json;

const json kRequest = {{"model", "claude-sonnet-4-5"}, {"max_tokens", 100}};

json completion(json message, json finish_reason = "stop", json usage = nullptr) {
  json out = {
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "gpt-4o-2024-08-06"},
      {"choices",
       {{{"index", 0}, {"message", std::move(message)}, {"finish_reason", finish_reason}}}}};
  if (!usage.is_null()) {
    out["usage"] = std::move(usage);
  }
  return out;
}

json assistant(json content) { return {{"role", "assistant"}, {"content", std::move(content)}}; }

TEST(MessagesResponse, TextAnswer) {
  const json out = fromChatResponse(
      completion(assistant("Hello!"), "stop",
                 {{"prompt_tokens", 12}, {"completion_tokens", 3}, {"total_tokens", 15}}),
      kRequest);
  const std::string id = out["id"];
  EXPECT_EQ(id.rfind("msg_", 0), 0u);
  EXPECT_EQ(id.size(), 4u + 32u);
  EXPECT_EQ(out["type"], "message");
  EXPECT_EQ(out["role"], "assistant");
  EXPECT_EQ(out["model"], "gpt-4o-2024-08-06");
  EXPECT_EQ(out["content"], json::array({{{"type", "text"}, {"text", "Hello!"}}}));
  EXPECT_EQ(out["stop_reason"], "end_turn");
  EXPECT_TRUE(out.contains("stop_sequence"));
  EXPECT_TRUE(out["stop_sequence"].is_null());
  EXPECT_EQ(out["usage"], json({{"input_tokens", 12},
                                {"output_tokens", 3},
                                {"cache_read_input_tokens", 0},
                                {"cache_creation_input_tokens", 0}}));
}

TEST(MessagesResponse, ModelFallsBackToTheRequest) {
  json chat = completion(assistant("x"));
  chat.erase("model");
  EXPECT_EQ(fromChatResponse(chat, kRequest)["model"], "claude-sonnet-4-5");
}

TEST(MessagesResponse, CachedTokensAreReadsNotInput) {
  const json out =
      fromChatResponse(completion(assistant("x"), "stop",
                                  {{"prompt_tokens", 1000},
                                   {"completion_tokens", 20},
                                   {"prompt_tokens_details", {{"cached_tokens", 800}}}}),
                       kRequest);
  EXPECT_EQ(out["usage"]["input_tokens"], 200);
  EXPECT_EQ(out["usage"]["cache_read_input_tokens"], 800);
  EXPECT_EQ(out["usage"]["output_tokens"], 20);
  EXPECT_EQ(out["usage"]["cache_creation_input_tokens"], 0);
}

TEST(MessagesResponse, InputTokensNeverNegative) {
  const json out = fromChatResponse(completion(assistant("x"), "stop",
                                               {{"prompt_tokens", 5},
                                                {"completion_tokens", 1},
                                                {"prompt_tokens_details", {{"cached_tokens", 9}}}}),
                                    kRequest);
  EXPECT_EQ(out["usage"]["input_tokens"], 0);
}

TEST(MessagesResponse, MissingUsageIsZeros) {
  const json out = fromChatResponse(completion(assistant("x")), kRequest);
  EXPECT_EQ(out["usage"]["input_tokens"], 0);
  EXPECT_EQ(out["usage"]["output_tokens"], 0);
}

TEST(MessagesResponse, ToolCallsBecomeToolUseWithParsedInput) {
  json message = assistant(nullptr);
  message["tool_calls"] = {
      {{"id", "call_1"},
       {"type", "function"},
       {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Paris","days":2})"}}}},
      {{"id", "call_2"},
       {"type", "function"},
       {"function", {{"name", "broken"}, {"arguments", "{\"city\": \"Par"}}}},
      {{"id", "call_3"},
       {"type", "function"},
       {"function", {{"name", "list"}, {"arguments", "[1]"}}}}};
  const json out = fromChatResponse(completion(message, "tool_calls"), kRequest);
  EXPECT_EQ(out["stop_reason"], "tool_use");
  ASSERT_EQ(out["content"].size(), 3u);
  EXPECT_EQ(out["content"][0], json({{"type", "tool_use"},
                                     {"id", "call_1"},
                                     {"name", "get_weather"},
                                     {"input", {{"city", "Paris"}, {"days", 2}}}}));
  EXPECT_EQ(out["content"][1]["input"], json::object());
  EXPECT_EQ(out["content"][2]["input"], json::object());
}

TEST(MessagesResponse, TextBeforeToolUse) {
  json message = assistant("Checking.");
  message["tool_calls"] = {
      {{"id", "c"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}};
  const json out = fromChatResponse(completion(message, "tool_calls"), kRequest);
  ASSERT_EQ(out["content"].size(), 2u);
  EXPECT_EQ(out["content"][0]["type"], "text");
  EXPECT_EQ(out["content"][1]["type"], "tool_use");
}

TEST(MessagesResponse, ReasoningBecomesThinkingFirst) {
  json message = assistant("42");
  message["reasoning_content"] = "Let me think.";
  const json out = fromChatResponse(completion(message), kRequest);
  EXPECT_EQ(out["content"],
            json::array({{{"type", "thinking"}, {"thinking", "Let me think."}, {"signature", ""}},
                         {{"type", "text"}, {"text", "42"}}}));
  json groq = assistant("42");
  groq["reasoning"] = "Hmm.";  // Groq's and OpenRouter's name for it
  EXPECT_EQ(fromChatResponse(completion(groq), kRequest)["content"][0]["thinking"], "Hmm.");
}

TEST(MessagesResponse, ToolCallsBesideStopAreAToolUseTurn) {
  json message = assistant(nullptr);
  message["tool_calls"] = json::parse(
      R"([{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}])");
  EXPECT_EQ(fromChatResponse(completion(message, "stop"), kRequest)["stop_reason"], "tool_use");
  EXPECT_EQ(fromChatResponse(completion(message, nullptr), kRequest)["stop_reason"], "tool_use");
  EXPECT_EQ(fromChatResponse(completion(message, "length"), kRequest)["stop_reason"], "max_tokens");
}

TEST(MessagesResponse, StopReasons) {
  auto reason = [](json finish) {
    return fromChatResponse(completion(assistant("x"), finish), kRequest)["stop_reason"];
  };
  EXPECT_EQ(reason("stop"), "end_turn");
  EXPECT_EQ(reason("length"), "max_tokens");
  EXPECT_EQ(reason("tool_calls"), "tool_use");
  EXPECT_EQ(reason("function_call"), "tool_use");
  EXPECT_EQ(reason("content_filter"), "refusal");
  EXPECT_EQ(reason(nullptr), "end_turn");
  EXPECT_EQ(reason("something_new"), "end_turn");
}

TEST(MessagesResponse, StopSequenceRequestStillEndsTurn) {
  json request = kRequest;
  request["stop_sequences"] = {"END"};
  const json out = fromChatResponse(completion(assistant("x"), "stop"), request);
  EXPECT_EQ(out["stop_reason"], "end_turn");
  EXPECT_TRUE(out["stop_sequence"].is_null());
}

TEST(MessagesResponse, RefusalIsTextWithRefusalReason) {
  json message = assistant(nullptr);
  message["refusal"] = "I can't help with that.";
  const json out = fromChatResponse(completion(message, "stop"), kRequest);
  EXPECT_EQ(out["content"], json::array({{{"type", "text"}, {"text", "I can't help with that."}}}));
  EXPECT_EQ(out["stop_reason"], "refusal");
}

TEST(MessagesResponse, OddShapesGiveAnEmptyMessage) {
  for (const json& chat : {json::object(), json{{"choices", "x"}}, json{{"choices", json::array()}},
                           json{{"choices", {{{"message", 3}}}}}}) {
    const json out = fromChatResponse(chat, kRequest);
    EXPECT_EQ(out["content"], json::array()) << chat.dump();
    EXPECT_EQ(out["stop_reason"], "end_turn");
    EXPECT_EQ(out["model"], "claude-sonnet-4-5");
  }
}

TEST(MessagesError, TypeFromStatus) {
  const std::pair<int, const char*> cases[] = {{400, "invalid_request_error"},
                                               {401, "authentication_error"},
                                               {403, "permission_error"},
                                               {404, "not_found_error"},
                                               {413, "request_too_large"},
                                               {429, "rate_limit_error"},
                                               {500, "api_error"},
                                               {502, "api_error"},
                                               {503, "overloaded_error"},
                                               {529, "overloaded_error"},
                                               {504, "api_error"},
                                               {408, "api_error"},
                                               {422, "invalid_request_error"}};
  for (const auto& [status, type] : cases) {
    const json out = errorFromChat(status, R"({"error":{"message":"m"}})");
    EXPECT_EQ(out, json({{"type", "error"}, {"error", {{"type", type}, {"message", "m"}}}}))
        << status;
  }
}

TEST(MessagesError, MessageFromAnyShape) {
  EXPECT_EQ(
      errorFromChat(400, R"({"error":{"message":"openai says","type":"x"}})")["error"]["message"],
      "openai says");
  EXPECT_EQ(
      errorFromChat(400, R"({"status":"failure","message":"portkey says"})")["error"]["message"],
      "portkey says");
  EXPECT_EQ(errorFromChat(400, R"({"error":"plain error"})")["error"]["message"], "plain error");
  EXPECT_EQ(errorFromChat(502, "Bad Gateway")["error"]["message"], "Bad Gateway");
  EXPECT_EQ(errorFromChat(500, "")["error"]["message"], "The upstream answered with status 500");
}

TEST(MessagesError, RawTextIsCapped) {
  const std::string long_text(5000, 'x');
  EXPECT_EQ(errorFromChat(500, long_text)["error"]["message"].get<std::string>().size(), 1000u);
  // Not cut inside a UTF-8 sequence: the é straddling byte 1000 is left out whole.
  const std::string accented = std::string(999, 'a') + "\xC3\xA9" + "tail";
  EXPECT_EQ(errorFromChat(500, accented)["error"]["message"], std::string(999, 'a'));
}

}  // namespace
}  // namespace portico::apis::messages
