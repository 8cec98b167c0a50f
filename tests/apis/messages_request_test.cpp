#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "apis/messages_api.hpp"

namespace portico::apis::messages {
namespace {

using nlohmann::json;

// A minimal valid Messages body with `extra` merged in.
json body(json extra = json::object()) {
  json out = {{"model", "claude-sonnet-4-5"},
              {"max_tokens", 256},
              {"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}};
  out.update(extra);
  return out;
}

json chat(const json& messages_body) {
  auto mapped = toChatRequest(messages_body);
  EXPECT_TRUE(mapped.has_value()) << (mapped ? "" : mapped.error().body.dump());
  return mapped ? *mapped : json();
}

// The 400's message for a body that must be refused.
std::string refusal(const json& messages_body) {
  auto mapped = toChatRequest(messages_body);
  if (mapped) {
    ADD_FAILURE() << "accepted: " << mapped->dump();
    return "";
  }
  EXPECT_EQ(mapped.error().status, 400);
  return mapped.error().body["error"]["message"].get<std::string>();
}

json userBlocks(json blocks) {
  return body({{"messages", json::array({{{"role", "user"}, {"content", std::move(blocks)}}})}});
}

TEST(MessagesRequest, CopiesParameters) {
  const json out = chat(body({{"temperature", 0.5},
                              {"top_p", 0.9},
                              {"top_k", 40},
                              {"stop_sequences", {"END", "STOP"}},
                              {"metadata", {{"user_id", "u-1"}}}}));
  EXPECT_EQ(out["model"], "claude-sonnet-4-5");
  EXPECT_EQ(out["max_tokens"], 256);
  EXPECT_EQ(out["temperature"], 0.5);
  EXPECT_EQ(out["top_p"], 0.9);
  EXPECT_FALSE(out.contains("top_k"));  // no chat equivalent
  EXPECT_EQ(out["stop"], json({"END", "STOP"}));
  EXPECT_EQ(out["user"], "u-1");
  EXPECT_FALSE(out.contains("stream"));
  EXPECT_EQ(out["messages"], json::array({{{"role", "user"}, {"content", "Hi"}}}));
}

TEST(MessagesRequest, StreamAsksForUsage) {
  const json out = chat(body({{"stream", true}}));
  EXPECT_EQ(out["stream"], true);
  EXPECT_EQ(out["stream_options"], json({{"include_usage", true}}));
  const json off = chat(body({{"stream", false}}));
  EXPECT_EQ(off["stream"], false);
  EXPECT_FALSE(off.contains("stream_options"));
}

TEST(MessagesRequest, MaxTokensIsRequired) {
  json missing = body();
  missing.erase("max_tokens");
  EXPECT_EQ(refusal(missing), "max_tokens: Field required");
  EXPECT_EQ(refusal(body({{"max_tokens", "256"}})), "max_tokens: Input should be a valid integer");
  EXPECT_EQ(refusal(body({{"max_tokens", 0}})),
            "max_tokens: Input should be greater than or equal to 1");
}

TEST(MessagesRequest, RefusesWrongParameterTypes) {
  EXPECT_EQ(refusal(body({{"model", 5}})), "model: Input should be a valid string");
  EXPECT_EQ(refusal(body({{"stream", "yes"}})), "stream: Input should be a valid boolean");
  EXPECT_EQ(refusal(body({{"temperature", "hot"}})), "temperature: Input should be a valid number");
  EXPECT_EQ(refusal(body({{"top_p", json::array()}})), "top_p: Input should be a valid number");
  EXPECT_EQ(refusal(body({{"stop_sequences", "END"}})),
            "stop_sequences: Input should be a valid list");
  EXPECT_EQ(refusal(body({{"stop_sequences", {"END", 3}}})),
            "stop_sequences: Input should be a list of strings");
}

TEST(MessagesRequest, IgnoresOddMetadata) {
  EXPECT_FALSE(chat(body({{"metadata", "x"}})).contains("user"));
  EXPECT_FALSE(chat(body({{"metadata", {{"user_id", 7}}}})).contains("user"));
}

TEST(MessagesRequest, RefusesBodiesThatAreNotMessagesRequests) {
  EXPECT_EQ(refusal(json::array()), "The request body must be a JSON object");
  EXPECT_EQ(refusal(json("text")), "The request body must be a JSON object");
  json missing = body();
  missing.erase("messages");
  EXPECT_EQ(refusal(missing), "messages: Field required");
  EXPECT_EQ(refusal(body({{"messages", "Hi"}})), "messages: Input should be a valid list");
}

TEST(MessagesRequest, SystemStringBecomesFirstMessage) {
  const json out = chat(body({{"system", "Be brief."}}));
  ASSERT_EQ(out["messages"].size(), 2u);
  EXPECT_EQ(out["messages"][0], json({{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(out["messages"][1]["role"], "user");
}

TEST(MessagesRequest, SystemBlocksAreJoined) {
  const json out = chat(
      body({{"system",
             {{{"type", "text"}, {"text", "One."}},
              {{"type", "text"}, {"text", "Two."}, {"cache_control", {{"type", "ephemeral"}}}}}}}));
  EXPECT_EQ(out["messages"][0], json({{"role", "system"}, {"content", "One.\n\nTwo."}}));
}

TEST(MessagesRequest, RefusesBadSystem) {
  EXPECT_EQ(refusal(body({{"system", 3}})), "system: Input should be a valid string or list");
  EXPECT_EQ(refusal(body({{"system", {{{"type", "image"}}}}})),
            "system.0: system blocks must be text blocks");
  EXPECT_EQ(refusal(body({{"system", {{{"type", "text"}, {"text", 1}}}}})),
            "system.0.text: Input should be a valid string");
}

TEST(MessagesRequest, UserTextBlockBecomesString) {
  const json out = chat(userBlocks({{{"type", "text"}, {"text", "Hello"}}}));
  EXPECT_EQ(out["messages"], json::array({{{"role", "user"}, {"content", "Hello"}}}));
}

TEST(MessagesRequest, SeveralUserTextBlocksStayParts) {
  const json out =
      chat(userBlocks({{{"type", "text"}, {"text", "A"}}, {{"type", "text"}, {"text", "B"}}}));
  EXPECT_EQ(out["messages"][0]["content"],
            json::array({{{"type", "text"}, {"text", "A"}}, {{"type", "text"}, {"text", "B"}}}));
}

TEST(MessagesRequest, ImagesBecomeImageUrlParts) {
  const json out = chat(userBlocks(
      {{{"type", "text"}, {"text", "What is it?"}},
       {{"type", "image"},
        {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "iVBORw0"}}}},
       {{"type", "image"}, {"source", {{"type", "url"}, {"url", "https://x.test/a.jpg"}}}}}));
  const json& content = out["messages"][0]["content"];
  ASSERT_EQ(content.size(), 3u);
  EXPECT_EQ(content[0], json({{"type", "text"}, {"text", "What is it?"}}));
  EXPECT_EQ(content[1], json({{"type", "image_url"},
                              {"image_url", {{"url", "data:image/png;base64,iVBORw0"}}}}));
  EXPECT_EQ(content[2],
            json({{"type", "image_url"}, {"image_url", {{"url", "https://x.test/a.jpg"}}}}));
}

TEST(MessagesRequest, RefusesBadImageSources) {
  EXPECT_EQ(refusal(userBlocks({{{"type", "image"}}})),
            "messages.0.content.0.source: image sources must be base64 (media_type, data) or url");
  EXPECT_NE(refusal(userBlocks({{{"type", "image"},
                                 {"source", {{"type", "file"}, {"file_id", "file_1"}}}}}))
                .find("image sources must be"),
            std::string::npos);
  EXPECT_NE(
      refusal(userBlocks({{{"type", "image"}, {"source", {{"type", "base64"}, {"data", "x"}}}}}))
          .find("image sources must be"),
      std::string::npos);
}

TEST(MessagesRequest, DocumentsBecomeFilesOrText) {
  const json out = chat(userBlocks(
      {{{"type", "document"},
        {"title", "report.pdf"},
        {"source", {{"type", "base64"}, {"media_type", "application/pdf"}, {"data", "JVBERi0"}}}},
       {{"type", "document"},
        {"source", {{"type", "text"}, {"media_type", "text/plain"}, {"data", "plain words"}}}}}));
  const json& content = out["messages"][0]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(
      content[0],
      json({{"type", "file"},
            {"file",
             {{"file_data", "data:application/pdf;base64,JVBERi0"}, {"filename", "report.pdf"}}}}));
  EXPECT_EQ(content[1], json({{"type", "text"}, {"text", "plain words"}}));
}

TEST(MessagesRequest, RefusesDocumentUrls) {
  EXPECT_EQ(refusal(userBlocks({{{"type", "document"},
                                 {"source", {{"type", "url"}, {"url", "https://x.test/a.pdf"}}}}})),
            "messages.0.content.0.source: document sources must be base64 or text for this "
            "provider");
}

TEST(MessagesRequest, ToolResultsComeBeforeTheUserContent) {
  const json request =
      body({{"messages",
             {{{"role", "user"}, {"content", "Weather in Paris?"}},
              {{"role", "assistant"},
               {"content",
                {{{"type", "text"}, {"text", "Let me check."}},
                 {{"type", "tool_use"},
                  {"id", "toolu_1"},
                  {"name", "get_weather"},
                  {"input", {{"city", "Paris"}}}}}}},
              {{"role", "user"},
               {"content",
                {{{"type", "text"}, {"text", "Here you go"}},
                 {{"type", "tool_result"},
                  {"tool_use_id", "toolu_1"},
                  {"content",
                   {{{"type", "text"}, {"text", "18C"}}, {{"type", "text"}, {"text", "sunny"}}}},
                  {"is_error", false}}}}}}}});
  const json messages = chat(request)["messages"];
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(
      messages[1],
      json({{"role", "assistant"},
            {"content", "Let me check."},
            {"tool_calls",
             {{{"id", "toolu_1"},
               {"type", "function"},
               {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Paris"})"}}}}}}}));
  EXPECT_EQ(messages[2],
            json({{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "18C\n\nsunny"}}));
  EXPECT_EQ(messages[3], json({{"role", "user"}, {"content", "Here you go"}}));
}

TEST(MessagesRequest, OnlyToolResultsMakeOnlyToolMessages) {
  const json out =
      chat(userBlocks({{{"type", "tool_result"}, {"tool_use_id", "a"}, {"content", "one"}},
                       {{"type", "tool_result"},
                        {"tool_use_id", "b"},
                        {"content", "failed: timeout"},
                        {"is_error", true}},
                       {{"type", "tool_result"}, {"tool_use_id", "c"}}}));
  EXPECT_EQ(out["messages"],
            json::array({{{"role", "tool"}, {"tool_call_id", "a"}, {"content", "one"}},
                         {{"role", "tool"}, {"tool_call_id", "b"}, {"content", "failed: timeout"}},
                         {{"role", "tool"}, {"tool_call_id", "c"}, {"content", ""}}}));
}

TEST(MessagesRequest, ToolResultImagesFollowInAUserMessage) {
  const json out = chat(userBlocks(
      {{{"type", "tool_result"},
        {"tool_use_id", "a"},
        {"content",
         {{{"type", "text"}, {"text", "screenshot"}},
          {{"type", "image"},
           {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "QUJD"}}}}}}}}));
  ASSERT_EQ(out["messages"].size(), 2u);
  EXPECT_EQ(out["messages"][0]["content"], "screenshot");
  EXPECT_EQ(
      out["messages"][1],
      json({{"role", "user"},
            {"content",
             {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,QUJD"}}}}}}}));
}

TEST(MessagesRequest, RefusesBadToolResults) {
  EXPECT_EQ(refusal(userBlocks({{{"type", "tool_result"}, {"content", "x"}}})),
            "messages.0.content.0.tool_use_id: Input should be a valid string");
  EXPECT_EQ(refusal(userBlocks({{{"type", "tool_result"}, {"tool_use_id", "a"}, {"content", 3}}})),
            "messages.0.content.0.content: Input should be a valid string or list");
  EXPECT_EQ(
      refusal(userBlocks(
          {{{"type", "tool_result"}, {"tool_use_id", "a"}, {"content", {{{"type", "video"}}}}}})),
      "messages.0.content.0.content.0: content blocks of type 'video' are not supported");
}

TEST(MessagesRequest, AssistantThinkingIsDropped) {
  const json request = body({{"messages",
                              {{{"role", "user"}, {"content", "Q"}},
                               {{"role", "assistant"},
                                {"content",
                                 {{{"type", "thinking"}, {"thinking", "hmm"}, {"signature", "sig"}},
                                  {{"type", "redacted_thinking"}, {"data", "xyz"}},
                                  {{"type", "text"}, {"text", "A1"}},
                                  {{"type", "text"}, {"text", "A2"}}}}}}}});
  EXPECT_EQ(chat(request)["messages"][1], json({{"role", "assistant"}, {"content", "A1\n\nA2"}}));
}

TEST(MessagesRequest, AssistantToolUseOnlyHasNullContent) {
  const json request = body(
      {{"messages",
        {{{"role", "user"}, {"content", "Q"}},
         {{"role", "assistant"},
          {"content", {{{"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", {}}}}}}}}});
  const json assistant = chat(request)["messages"][1];
  EXPECT_TRUE(assistant["content"].is_null());
  EXPECT_EQ(assistant["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(MessagesRequest, AssistantStringContent) {
  const json request = body({{"messages",
                              {{{"role", "user"}, {"content", "Q"}},
                               {{"role", "assistant"}, {"content", "The answer is"}}}}});
  EXPECT_EQ(chat(request)["messages"][1],
            json({{"role", "assistant"}, {"content", "The answer is"}}));
}

TEST(MessagesRequest, RefusesUnknownBlocksAndRoles) {
  EXPECT_EQ(refusal(userBlocks({{{"type", "search_result"}}})),
            "messages.0.content.0: content blocks of type 'search_result' are not supported");
  EXPECT_EQ(refusal(userBlocks({"just a string"})),
            "messages.0.content.0: Input should be a valid dictionary");
  EXPECT_EQ(refusal(userBlocks({{{"type", "text"}, {"text", 5}}})),
            "messages.0.content.0.text: Input should be a valid string");
  EXPECT_EQ(refusal(body({{"messages",
                           {{{"role", "assistant"},
                             {"content", {{{"type", "server_tool_use"}, {"id", "s"}}}}}}}})),
            "messages.0.content.0: content blocks of type 'server_tool_use' are not supported in "
            "assistant messages");
  EXPECT_EQ(
      refusal(body(
          {{"messages",
            {{{"role", "assistant"}, {"content", {{{"type", "tool_use"}, {"name", "f"}}}}}}}})),
      "messages.0.content.0: tool_use blocks need a string id and name");
  EXPECT_EQ(refusal(body({{"messages", {{{"role", "system"}, {"content", "x"}}}}})),
            "messages.0.role: Input should be 'user' or 'assistant'");
  EXPECT_EQ(refusal(body({{"messages", {{{"role", "user"}}}}})),
            "messages.0.content: Input should be a valid string or list");
  EXPECT_EQ(refusal(body({{"messages", {"hello"}}})),
            "messages.0: Input should be a valid dictionary");
}

TEST(MessagesRequest, ToolsBecomeFunctions) {
  const json schema = {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}};
  const json out = chat(body(
      {{"tools",
        {{{"name", "get_weather"}, {"description", "Weather"}, {"input_schema", schema}},
         {{"type", "custom"}, {"name", "noop"}, {"cache_control", {{"type", "ephemeral"}}}}}}}));
  EXPECT_EQ(out["tools"],
            json::array(
                {{{"type", "function"},
                  {"function",
                   {{"name", "get_weather"}, {"description", "Weather"}, {"parameters", schema}}}},
                 {{"type", "function"},
                  {"function",
                   {{"name", "noop"},
                    {"parameters", {{"type", "object"}, {"properties", json::object()}}}}}}}));
}

TEST(MessagesRequest, RefusesServerTools) {
  for (const char* type :
       {"web_search_20250305", "bash_20250124", "text_editor_20250429", "computer_20250124"}) {
    EXPECT_EQ(refusal(body({{"tools", {{{"type", type}, {"name", "x"}}}}})),
              std::string(type) + " tools are not supported for this provider");
  }
  EXPECT_EQ(refusal(body({{"tools", {{{"description", "no name"}}}}})),
            "tools.0.name: Input should be a valid string");
  EXPECT_EQ(refusal(body({{"tools", {{{"name", "f"}, {"input_schema", "x"}}}}})),
            "tools.0.input_schema: Input should be a valid dictionary");
  EXPECT_EQ(refusal(body({{"tools", "f"}})), "tools: Input should be a valid list");
}

TEST(MessagesRequest, ToolChoice) {
  const json tools = {{{"name", "f"}, {"input_schema", {{"type", "object"}}}}};
  EXPECT_EQ(chat(body({{"tools", tools}, {"tool_choice", {{"type", "auto"}}}}))["tool_choice"],
            "auto");
  EXPECT_EQ(chat(body({{"tools", tools}, {"tool_choice", {{"type", "any"}}}}))["tool_choice"],
            "required");
  EXPECT_EQ(chat(body({{"tools", tools}, {"tool_choice", {{"type", "none"}}}}))["tool_choice"],
            "none");
  EXPECT_EQ(chat(body({{"tools", tools},
                       {"tool_choice", {{"type", "tool"}, {"name", "f"}}}}))["tool_choice"],
            json({{"type", "function"}, {"function", {{"name", "f"}}}}));
  const json serial =
      chat(body({{"tools", tools},
                 {"tool_choice", {{"type", "auto"}, {"disable_parallel_tool_use", true}}}}));
  EXPECT_EQ(serial["parallel_tool_calls"], false);
  EXPECT_FALSE(chat(body({{"tools", tools}, {"tool_choice", {{"type", "auto"}}}}))
                   .contains("parallel_tool_calls"));
  // Chat providers refuse tool_choice without tools.
  EXPECT_FALSE(chat(body({{"tool_choice", {{"type", "auto"}}}})).contains("tool_choice"));
}

TEST(MessagesRequest, RefusesBadToolChoice) {
  EXPECT_EQ(refusal(body({{"tool_choice", "auto"}})),
            "tool_choice: Input should be a valid dictionary");
  EXPECT_EQ(refusal(body({{"tool_choice", {{"type", "tool"}}}})),
            "tool_choice.name: Field required");
  EXPECT_EQ(refusal(body({{"tool_choice", {{"type", "sometimes"}}}})),
            "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
}

TEST(MessagesRequest, ThinkingBudgetBecomesReasoningEffort) {
  auto effort = [](int budget) {
    return chat(
        body({{"thinking", {{"type", "enabled"}, {"budget_tokens", budget}}}}))["reasoning_effort"];
  };
  EXPECT_EQ(effort(1024), "low");
  EXPECT_EQ(effort(4095), "low");
  EXPECT_EQ(effort(4096), "medium");
  EXPECT_EQ(effort(16383), "medium");
  EXPECT_EQ(effort(16384), "high");
  EXPECT_EQ(effort(64000), "high");
  EXPECT_FALSE(chat(body({{"thinking", {{"type", "disabled"}}}})).contains("reasoning_effort"));
}

TEST(MessagesRequest, RefusesBadThinking) {
  EXPECT_EQ(refusal(body({{"thinking", {{"type", "enabled"}}}})),
            "thinking.enabled.budget_tokens: Field required");
  EXPECT_EQ(refusal(body({{"thinking", {{"type", "maybe"}}}})),
            "thinking.type: Input should be 'enabled' or 'disabled'");
  EXPECT_EQ(refusal(body({{"thinking", true}})),
            "thinking.type: Input should be 'enabled' or 'disabled'");
}

TEST(MessagesRequest, HostileShapesNeverThrow) {
  const json shapes[] = {nullptr, 1, "x", json::array(), json::object(), {{"a", 1}}};
  const char* keys[] = {"model",       "max_tokens",     "messages",   "system",
                        "tools",       "stream",         "thinking",   "metadata",
                        "tool_choice", "stop_sequences", "temperature"};
  for (const char* key : keys) {
    for (const auto& shape : shapes) {
      json request = body();
      request[key] = shape;
      EXPECT_NO_THROW((void)toChatRequest(request)) << key << "=" << shape.dump();
      json message = body();
      message["messages"][0][key] = shape;
      message["messages"][0]["content"] = json::array({{{"type", "text"}, {key, shape}}});
      EXPECT_NO_THROW((void)toChatRequest(message)) << key << "=" << shape.dump();
    }
  }
}

}  // namespace
}  // namespace portico::apis::messages
