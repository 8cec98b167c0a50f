#include <gtest/gtest.h>

#include <string>

#include "apis/responses_api.hpp"

namespace portico::apis::responses {
namespace {

using nlohmann::json;

json mapped(const char* body) {
  auto chat = toChatRequest(json::parse(body));
  EXPECT_TRUE(chat.has_value()) << body;
  return chat ? *chat : json();
}

// The 400's message, or "" when the body was mapped.
std::string refusal(const json& body) {
  auto chat = toChatRequest(body);
  if (chat) {
    return "";
  }
  EXPECT_EQ(chat.error().status, 400);
  return chat.error().body["error"]["message"].get<std::string>();
}

std::string refusal(const char* body) { return refusal(json::parse(body)); }

TEST(ResponsesRequest, StringInputWithInstructionsAndModel) {
  const json chat = mapped(R"({"model":"gpt-4o","instructions":"Be brief.","input":"Hi"})");
  EXPECT_EQ(chat, json::parse(R"({"model":"gpt-4o","messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]})"));
}

TEST(ResponsesRequest, StreamAsksForTheUsageChunk) {
  const json chat = mapped(R"({"model":"m","input":"Hi","stream":true})");
  EXPECT_EQ(chat["stream"], true);
  EXPECT_EQ(chat["stream_options"], json::parse(R"({"include_usage":true})"));
  const json quiet = mapped(R"({"model":"m","input":"Hi","stream":false})");
  EXPECT_EQ(quiet["stream"], false);
  EXPECT_FALSE(quiet.contains("stream_options"));
}

TEST(ResponsesRequest, MessageItemsWithPartsAndRoles) {
  const json chat = mapped(R"({"input":[
    {"type":"message","role":"developer","content":[{"type":"input_text","text":"Rules."}]},
    {"role":"user","content":[
      {"type":"input_text","text":"What is this?"},
      {"type":"input_image","image_url":"https://x/cat.png","detail":"low"},
      {"type":"input_file","file_data":"data:application/pdf;base64,QQ==","filename":"a.pdf"}]},
    {"role":"assistant","content":[{"type":"output_text","text":"A "},
                                   {"type":"output_text","text":"cat."}]},
    {"role":"user","content":"Thanks"}]})");
  EXPECT_EQ(chat["messages"], json::parse(R"([
    {"role":"system","content":"Rules."},
    {"role":"user","content":[
      {"type":"text","text":"What is this?"},
      {"type":"image_url","image_url":{"url":"https://x/cat.png","detail":"low"}},
      {"type":"file","file":{"file_data":"data:application/pdf;base64,QQ==","filename":"a.pdf"}}]},
    {"role":"assistant","content":"A cat."},
    {"role":"user","content":"Thanks"}])"));
}

TEST(ResponsesRequest, RefusalPartsBecomeText) {
  const json chat = mapped(R"({"input":[
    {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]}]})");
  EXPECT_EQ(chat["messages"][0], json::parse(R"({"role":"assistant","content":"No."})"));
}

TEST(ResponsesRequest, FunctionCallsMergeIntoTheAssistantMessageBeforeThem) {
  const json chat = mapped(R"({"input":[
    {"role":"user","content":"Weather in Paris and Rome?"},
    {"role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
    {"type":"reasoning","id":"rs_1","summary":[]},
    {"type":"function_call","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Paris\"}"},
    {"type":"function_call","call_id":"call_2","name":"weather","arguments":"{\"city\":\"Rome\"}"},
    {"type":"function_call_output","call_id":"call_1","output":"sunny"},
    {"type":"function_call_output","call_id":"call_2",
     "output":[{"type":"input_text","text":"rain"},{"type":"input_text","text":"y"}]},
    {"type":"function_call","call_id":"call_3","name":"clock"}]})");
  EXPECT_EQ(chat["messages"], json::parse(R"([
    {"role":"user","content":"Weather in Paris and Rome?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"call_2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"sunny"},
    {"role":"tool","tool_call_id":"call_2","content":"rainy"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"call_3","type":"function","function":{"name":"clock","arguments":"{}"}}]}])"));
}

TEST(ResponsesRequest, FunctionToolsAndToolChoice) {
  const json chat = mapped(R"({"input":"Hi","parallel_tool_calls":false,
    "tools":[{"type":"function","name":"weather","description":"Weather now",
              "parameters":{"type":"object"},"strict":true}],
    "tool_choice":{"type":"function","name":"weather"}})");
  EXPECT_EQ(chat["tools"], json::parse(R"([{"type":"function","function":{"name":"weather",
    "description":"Weather now","parameters":{"type":"object"},"strict":true}}])"));
  EXPECT_EQ(chat["tool_choice"],
            json::parse(R"({"type":"function","function":{"name":"weather"}})"));
  EXPECT_EQ(chat["parallel_tool_calls"], false);
  const json tools = json::parse(R"([{"type":"function","name":"weather","parameters":{}}])");
  for (const char* choice : {"auto", "none", "required"}) {
    json body = {{"input", "Hi"}, {"tool_choice", choice}, {"tools", tools}};
    EXPECT_EQ(toChatRequest(body).value()["tool_choice"], choice);
    // Without tools chat providers refuse a tool_choice (the AI SDK sends "auto" anyway).
    body.erase("tools");
    EXPECT_FALSE(toChatRequest(body).value().contains("tool_choice")) << choice;
  }
}

TEST(ResponsesRequest, ParallelToolCallsOnlyWithTools) {
  // Chat refuses parallel_tool_calls when no tools are given.
  EXPECT_FALSE(
      mapped(R"({"input":"Hi","parallel_tool_calls":true})").contains("parallel_tool_calls"));
}

TEST(ResponsesRequest, SamplingAndLimits) {
  const json chat = mapped(R"({"input":"Hi","temperature":0.2,"top_p":0.9,"user":"u1",
    "top_logprobs":3,"max_output_tokens":50,"service_tier":"flex","metadata":{"a":"b"},
    "reasoning":{"effort":"low","summary":"auto"},"store":false,"include":["x"],
    "truncation":"auto"})");
  EXPECT_EQ(chat, json::parse(R"({"messages":[{"role":"user","content":"Hi"}],
    "temperature":0.2,"top_p":0.9,"user":"u1","logprobs":true,"top_logprobs":3,
    "max_tokens":50,"reasoning_effort":"low"})"));
}

TEST(ResponsesRequest, TextFormats) {
  EXPECT_EQ(mapped(R"({"input":"Hi","text":{"format":{"type":"json_schema","name":"answer",
    "schema":{"type":"object"},"strict":true,"description":"d"}}})")["response_format"],
            json::parse(R"({"type":"json_schema","json_schema":{"name":"answer",
    "schema":{"type":"object"},"strict":true,"description":"d"}})"));
  EXPECT_EQ(mapped(R"({"input":"Hi","text":{"format":{"type":"json_object"}}})")["response_format"],
            json::parse(R"({"type":"json_object"})"));
  EXPECT_FALSE(
      mapped(R"({"input":"Hi","text":{"format":{"type":"text"}}})").contains("response_format"));
  EXPECT_NE(refusal(R"({"input":"Hi","text":{"format":{"type":"grammar"}}})"), "");
  EXPECT_NE(refusal(R"({"input":"Hi","text":{"format":{"type":"json_schema"}}})"), "");
}

TEST(ResponsesRequest, StatefulFeaturesAreRefused) {
  for (const char* body :
       {R"({"input":"Hi","previous_response_id":"resp_1"})", R"({"input":"Hi","store":true})",
        R"({"input":"Hi","conversation":"conv_1"})", R"({"input":"Hi","background":true})",
        R"({"input":"Hi","prompt":{"id":"pmpt_1"}})"}) {
    EXPECT_NE(refusal(body).find("statelessly"), std::string::npos) << body;
  }
  EXPECT_NE(refusal(R"({"input":"Hi","store":true})").find("store"), std::string::npos);
  // Explicitly off (or null) is fine.
  EXPECT_EQ(refusal(R"({"input":"Hi","store":false,"background":false,
    "previous_response_id":null,"conversation":null,"prompt":null})"),
            "");
}

TEST(ResponsesRequest, InputsThatNeedStoredThingsAreRefused) {
  EXPECT_NE(refusal(R"({"input":[{"type":"item_reference","id":"msg_1"}]})").find("statelessly"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"input":[{"role":"user","content":[
    {"type":"input_image","file_id":"file_1"}]}]})")
                .find("file_id"),
            std::string::npos);
  for (const char* file : {R"({"type":"input_file","file_id":"file_1"})",
                           R"({"type":"input_file","file_url":"https://x/a.pdf"})"}) {
    json body = {{"input", {{{"role", "user"}, {"content", {json::parse(file)}}}}}};
    EXPECT_NE(refusal(body).find("file_data"), std::string::npos) << file;
  }
}

TEST(ResponsesRequest, BuiltInToolsAreRefusedByName) {
  for (const char* type : {"web_search", "web_search_preview", "file_search",
                           "computer_use_preview", "code_interpreter", "mcp", "image_generation"}) {
    json body = {{"input", "Hi"}, {"tools", {{{"type", type}}}}};
    EXPECT_EQ(refusal(body), std::string(type) + " tools are not supported for this provider");
  }
}

TEST(ResponsesRequest, UnknownItemsAndPartsAreRefusedByName) {
  EXPECT_NE(refusal(R"({"input":[{"type":"computer_call","id":"c"}]})").find("computer_call"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"input":[{"role":"user","content":[{"type":"input_audio"}]}]})")
                .find("input_audio"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"input":"Hi","tool_choice":{"type":"web_search"}})"), "");
  EXPECT_NE(refusal(R"({"input":"Hi","tool_choice":"sometimes"})"), "");
}

TEST(ResponsesRequest, BodiesWithoutInputOrNotObjectsAreRefused) {
  EXPECT_NE(refusal(json::array()), "");
  EXPECT_NE(refusal(json("text")), "");
  EXPECT_NE(refusal(R"({"model":"m"})").find("input"), std::string::npos);
  EXPECT_NE(refusal(R"({"model":"m","input":null})"), "");
  EXPECT_NE(refusal(R"({"input":[]})"), "");
}

// Hostile shapes give a 400, never an exception.
TEST(ResponsesRequest, WrongTypesGiveA400) {
  for (const char* body : {
           R"({"input":42})",
           R"({"input":"Hi","model":7})",
           R"({"input":[42]})",
           R"({"input":[{"type":7}]})",
           R"({"input":[{"role":"wizard","content":"x"}]})",
           R"({"input":[{"role":"user"}]})",
           R"({"input":[{"role":"user","content":{"a":1}}]})",
           R"({"input":[{"role":"user","content":["x"]}]})",
           R"({"input":[{"role":"user","content":[{"type":"input_text","text":5}]}]})",
           R"({"input":[{"role":"user","content":[{"type":"input_image"}]}]})",
           R"({"input":[{"role":"user","content":[{"type":"input_file"}]}]})",
           R"({"input":[{"role":"system","content":[{"type":"input_image","image_url":"u"}]}]})",
           R"({"input":[{"type":"function_call","name":"f"}]})",
           R"({"input":[{"type":"function_call","call_id":"c","name":"f","arguments":{}}]})",
           R"({"input":[{"type":"function_call_output","call_id":"c"}]})",
           R"({"input":[{"type":"function_call_output","output":"x"}]})",
           R"({"input":"Hi","instructions":["x"]})",
           R"({"input":"Hi","tools":{}})",
           R"({"input":"Hi","tools":[7]})",
           R"({"input":"Hi","tools":[{"type":"function"}]})",
           R"({"input":"Hi","temperature":"hot"})",
           R"({"input":"Hi","max_output_tokens":1.5})",
           R"({"input":"Hi","top_logprobs":"3"})",
           R"({"input":"Hi","user":1})",
           R"({"input":"Hi","stream":"yes"})",
           R"({"input":"Hi","reasoning":"high"})",
           R"({"input":"Hi","reasoning":{"effort":3}})",
           R"({"input":"Hi","text":[]})",
           R"({"input":"Hi","tool_choice":{"type":"function"}})",
       }) {
    EXPECT_NE(refusal(body), "") << body;
  }
}

}  // namespace
}  // namespace portico::apis::responses
