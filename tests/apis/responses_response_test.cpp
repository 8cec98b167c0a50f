#include <gtest/gtest.h>

#include <string>

#include "apis/responses_api.hpp"

namespace portico::apis::responses {
namespace {

using nlohmann::json;

bool startsWith(const json& value, const std::string& prefix) {
  return value.is_string() && value.get<std::string>().rfind(prefix, 0) == 0 &&
         value.get<std::string>().size() > prefix.size();
}

json chatAnswer(const char* message, const char* finish = "stop") {
  json chat = json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,
    "model":"gpt-4o-2024","usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,
    "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}})");
  chat["choices"] = {{{"index", 0}, {"message", json::parse(message)}, {"finish_reason", finish}}};
  return chat;
}

TEST(ResponsesResponse, TextAnswerHasOpenAisShape) {
  const json request = json::parse(R"({"model":"gpt-4o","input":"Hi","instructions":"Be brief.",
    "temperature":0.5,"max_output_tokens":100,"metadata":{"k":"v"}})");
  const json response =
      fromChatResponse(chatAnswer(R"({"role":"assistant","content":"Hello!"})"), request);
  EXPECT_TRUE(startsWith(response["id"], "resp_"));
  EXPECT_EQ(response["object"], "response");
  EXPECT_EQ(response["created_at"], 1700000000);
  EXPECT_EQ(response["status"], "completed");
  EXPECT_TRUE(response["incomplete_details"].is_null());
  EXPECT_TRUE(response["error"].is_null());
  EXPECT_EQ(response["model"], "gpt-4o-2024");
  EXPECT_FALSE(response.contains("output_text"));
  ASSERT_EQ(response["output"].size(), 1u);
  const json& item = response["output"][0];
  EXPECT_TRUE(startsWith(item["id"], "msg_"));
  EXPECT_EQ(item["type"], "message");
  EXPECT_EQ(item["status"], "completed");
  EXPECT_EQ(item["role"], "assistant");
  EXPECT_EQ(item["content"],
            json::parse(R"([{"type":"output_text","text":"Hello!","annotations":[]}])"));
  EXPECT_EQ(response["usage"], json::parse(R"({"input_tokens":11,"input_tokens_details":
    {"cached_tokens":4},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":2},
    "total_tokens":18})"));
  // The request's fields, echoed.
  EXPECT_EQ(response["instructions"], "Be brief.");
  EXPECT_EQ(response["temperature"], 0.5);
  EXPECT_EQ(response["max_output_tokens"], 100);
  EXPECT_EQ(response["metadata"], json::parse(R"({"k":"v"})"));
  EXPECT_EQ(response["parallel_tool_calls"], true);
  EXPECT_EQ(response["tool_choice"], "auto");
  EXPECT_EQ(response["tools"], json::array());
  EXPECT_EQ(response["store"], false);
  EXPECT_EQ(response["truncation"], "disabled");
  EXPECT_TRUE(response["previous_response_id"].is_null());
  EXPECT_EQ(response["text"], json::parse(R"({"format":{"type":"text"}})"));
  EXPECT_EQ(response["reasoning"], json::parse(R"({"effort":null,"summary":null})"));
}

TEST(ResponsesResponse, ToolCallsBecomeFunctionCallItems) {
  const json request = json::parse(R"({"input":"Weather?","tool_choice":"required",
    "tools":[{"type":"function","name":"weather","parameters":{"type":"object"}}]})");
  const json response = fromChatResponse(chatAnswer(R"({"role":"assistant","content":null,
    "tool_calls":[
      {"id":"call_a","type":"function","function":{"name":"weather","arguments":"{\"c\":1}"}},
      {"id":"call_b","type":"function","function":{"name":"time","arguments":"{}"}}]})",
                                                    "tool_calls"),
                                         request);
  EXPECT_EQ(response["status"], "completed");
  ASSERT_EQ(response["output"].size(), 2u);
  const json& first = response["output"][0];
  EXPECT_TRUE(startsWith(first["id"], "fc_"));
  EXPECT_EQ(first["type"], "function_call");
  EXPECT_EQ(first["call_id"], "call_a");
  EXPECT_EQ(first["name"], "weather");
  EXPECT_EQ(first["arguments"], "{\"c\":1}");
  EXPECT_EQ(first["status"], "completed");
  EXPECT_EQ(response["output"][1]["call_id"], "call_b");
  EXPECT_NE(first["id"], response["output"][1]["id"]);
  EXPECT_EQ(response["tool_choice"], "required");
  EXPECT_EQ(response["tools"], request["tools"]);
  // The model's own words before its calls come first.
  const json with_text = fromChatResponse(chatAnswer(R"({"role":"assistant","content":"Let me see.",
    "tool_calls":[{"id":"call_a","type":"function","function":{"name":"weather","arguments":"{}"}}]})",
                                                     "tool_calls"),
                                          request);
  ASSERT_EQ(with_text["output"].size(), 2u);
  EXPECT_EQ(with_text["output"][0]["type"], "message");
  EXPECT_EQ(with_text["output"][1]["type"], "function_call");
}

TEST(ResponsesResponse, ReasoningContentComesFirstAsASummary) {
  const json response = fromChatResponse(
      chatAnswer(R"({"role":"assistant","content":"42","reasoning_content":"Think."})"),
      json::parse(R"({"input":"Q","reasoning":{"effort":"high"}})"));
  ASSERT_EQ(response["output"].size(), 2u);
  const json& reasoning = response["output"][0];
  EXPECT_EQ(reasoning["type"], "reasoning");
  EXPECT_TRUE(startsWith(reasoning["id"], "rs_"));
  EXPECT_EQ(reasoning["summary"], json::parse(R"([{"type":"summary_text","text":"Think."}])"));
  EXPECT_EQ(response["output"][1]["content"][0]["text"], "42");
  EXPECT_EQ(response["reasoning"]["effort"], "high");
}

TEST(ResponsesResponse, LengthAndContentFilterAreIncomplete) {
  const json cut =
      fromChatResponse(chatAnswer(R"({"role":"assistant","content":"Once"})", "length"),
                       json::parse(R"({"input":"Story"})"));
  EXPECT_EQ(cut["status"], "incomplete");
  EXPECT_EQ(cut["incomplete_details"], json::parse(R"({"reason":"max_output_tokens"})"));
  const json filtered = fromChatResponse(
      chatAnswer(R"({"role":"assistant","content":""})", "content_filter"), json::object());
  EXPECT_EQ(filtered["status"], "incomplete");
  EXPECT_EQ(filtered["incomplete_details"], json::parse(R"({"reason":"content_filter"})"));
}

TEST(ResponsesResponse, RefusalAndArrayContent) {
  const json refused = fromChatResponse(
      chatAnswer(R"({"role":"assistant","content":null,"refusal":"I can't help."})"), json());
  EXPECT_EQ(refused["output"][0]["content"],
            json::parse(R"([{"type":"refusal","refusal":"I can't help."}])"));
  const json parts = fromChatResponse(
      chatAnswer(
          R"({"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]})"),
      json());
  EXPECT_EQ(parts["output"][0]["content"][0]["text"], "ab");
}

TEST(ResponsesResponse, MissingUsageAndModelFallBack) {
  json chat = chatAnswer(R"({"role":"assistant","content":"x"})");
  chat.erase("usage");
  chat.erase("model");
  chat.erase("created");
  const json response = fromChatResponse(chat, json::parse(R"({"model":"asked","input":"x"})"));
  EXPECT_EQ(response["model"], "asked");
  EXPECT_TRUE(response["created_at"].is_number_integer());
  EXPECT_GT(response["created_at"].get<long long>(), 1600000000);
  EXPECT_EQ(response["usage"]["input_tokens"], 0);
  EXPECT_EQ(response["usage"]["output_tokens"], 0);
  EXPECT_EQ(response["usage"]["total_tokens"], 0);
  EXPECT_EQ(response["usage"]["input_tokens_details"]["cached_tokens"], 0);
  // An answer without choices still makes a response, with no output.
  const json empty = fromChatResponse(json::parse(R"({"choices":"nope"})"), json());
  EXPECT_EQ(empty["status"], "completed");
  EXPECT_EQ(empty["output"].size(), 0u);
}

}  // namespace
}  // namespace portico::apis::responses
