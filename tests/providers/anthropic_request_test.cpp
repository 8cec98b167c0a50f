#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
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

std::string header(const UpstreamRequest& r, std::string_view name) {
  return std::string(findHeader(r.headers, name).value_or("<absent>"));
}

// Owns what a ClientRequest points at.
struct Call {
  HeaderList headers;
  std::string raw;
  json body;
  ClientRequest request;

  explicit Call(std::string raw_body,
                Endpoint endpoint = Endpoint::kChatCompletions,
                HeaderList client_headers = {})
      : headers(std::move(client_headers)), raw(std::move(raw_body)) {
    body = json::parse(raw, nullptr, false);
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kMessages ? "/messages" : "/chat/completions";
    request.headers = &headers;
    request.raw_body = raw;
    request.body = body.is_discarded() ? nullptr : &body;
  }
};

Target anthropicTarget() {
  Target t;
  t.provider = "anthropic";
  t.api_key = "sk-ant-test";
  return t;
}

json chatBody(const json& openai, const Target& target = anthropicTarget()) {
  auto out = anthropicChatBody(openai, target);
  EXPECT_TRUE(out.has_value());
  return out.has_value() ? out.value() : json();
}

const json kWeatherTool = {
    {"type", "function"},
    {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}};

TEST(AnthropicRequest, FullFixtureMapsToMessagesBody) {
  Call call(readFixture("chat_request_full.json"));
  AnthropicAdapter adapter;
  auto built = adapter.buildRequest(call.request, anthropicTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->method, "POST");
  EXPECT_EQ(built->scheme, "https");
  EXPECT_EQ(built->host, "api.anthropic.com");
  EXPECT_EQ(built->port, "443");
  EXPECT_EQ(built->target, "/v1/messages");
  EXPECT_EQ(header(*built, "x-api-key"), "sk-ant-test");
  EXPECT_EQ(header(*built, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*built, "anthropic-beta"), "<absent>");
  EXPECT_EQ(header(*built, "content-type"), "application/json");
  EXPECT_EQ(header(*built, "authorization"), "<absent>");
  const json expected = json::parse(readFixture("chat_request_full.expected.json"));
  EXPECT_EQ(json::parse(built->body), expected) << json::parse(built->body).dump(2);
}

TEST(AnthropicRequest, CustomHostReplacesBase) {
  Call call(R"({"model":"claude-3-5-haiku-20241022","messages":[{"role":"user","content":"hi"}]})");
  Target target = anthropicTarget();
  target.custom_host = "http://127.0.0.1:9999/v1";
  auto built = AnthropicAdapter().buildRequest(call.request, target);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->scheme, "http");
  EXPECT_EQ(built->host, "127.0.0.1");
  EXPECT_EQ(built->port, "9999");
  EXPECT_EQ(built->target, "/v1/messages");
}

TEST(AnthropicRequest, VersionAndBetaFromOptionsThenClientHeaders) {
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  {
    Call call(body, Endpoint::kChatCompletions,
              {{"anthropic-version", "2024-01-01"}, {"anthropic-beta", "client-beta"}});
    auto built = AnthropicAdapter().buildRequest(call.request, anthropicTarget());
    ASSERT_TRUE(built.has_value());
    EXPECT_EQ(header(*built, "anthropic-version"), "2024-01-01");
    EXPECT_EQ(header(*built, "anthropic-beta"), "client-beta");
  }
  {
    Call call(body, Endpoint::kChatCompletions, {{"anthropic-version", "2024-01-01"}});
    Target target = anthropicTarget();
    target.options = {{"anthropic_version", "2099-09-09"},
                      {"anthropic_beta", "prompt-caching-2024-07-31"}};
    auto built = AnthropicAdapter().buildRequest(call.request, target);
    ASSERT_TRUE(built.has_value());
    EXPECT_EQ(header(*built, "anthropic-version"), "2099-09-09");
    EXPECT_EQ(header(*built, "anthropic-beta"), "prompt-caching-2024-07-31");
  }
}

TEST(AnthropicRequest, MissingKeyIs401AndNeverBearerUndefined) {
  Call call(R"({"model":"m","messages":[]})");
  Target target = anthropicTarget();
  target.api_key.clear();
  auto built = AnthropicAdapter().buildRequest(call.request, target);
  ASSERT_FALSE(built.has_value());
  EXPECT_EQ(built.error().status, 401);
}

TEST(AnthropicRequest, MaxTokensMappingAndDefault) {
  const json messages = json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(chatBody({{"messages", messages}, {"max_tokens", 100}})["max_tokens"], 100);
  EXPECT_EQ(chatBody({{"messages", messages}, {"max_completion_tokens", 200}})["max_tokens"], 200);
  EXPECT_EQ(chatBody({{"messages", messages}, {"max_tokens", nullptr}})["max_tokens"],
            kDefaultMaxTokens);
  EXPECT_EQ(chatBody({{"messages", messages}})["max_tokens"], 4096);

  Target header_form = anthropicTarget();
  header_form.options = {{"default_max_tokens", "1000"}};
  EXPECT_EQ(chatBody({{"messages", messages}}, header_form)["max_tokens"], 1000);
  EXPECT_EQ(chatBody({{"messages", messages}, {"max_tokens", 7}}, header_form)["max_tokens"], 7);

  Target config_form = anthropicTarget();
  config_form.options = {{"default_max_tokens", 2048}};
  EXPECT_EQ(chatBody({{"messages", messages}}, config_form)["max_tokens"], 2048);

  for (json bad : {json("abc"), json("-5"), json(0), json("12x")}) {
    Target invalid = anthropicTarget();
    invalid.options = {{"default_max_tokens", bad}};
    auto out = anthropicChatBody({{"messages", messages}}, invalid);
    ASSERT_FALSE(out.has_value()) << bad;
    EXPECT_EQ(out.error().status, 400);
  }
}

TEST(AnthropicRequest, ToolChoiceVariants) {
  const json base = {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
                     {"tools", json::array({kWeatherTool})}};
  auto with = [&](json extra) {
    json body = base;
    body.update(extra);
    return chatBody(body);
  };
  EXPECT_EQ(with({{"tool_choice", "auto"}})["tool_choice"], json({{"type", "auto"}}));
  EXPECT_EQ(with({{"tool_choice", "required"}})["tool_choice"], json({{"type", "any"}}));
  EXPECT_EQ(with({{"tool_choice", "none"}})["tool_choice"], json({{"type", "none"}}));
  EXPECT_EQ(
      with({{"tool_choice",
             {{"type", "function"}, {"function", {{"name", "get_weather"}}}}}})["tool_choice"],
      json({{"type", "tool"}, {"name", "get_weather"}}));
  EXPECT_FALSE(with(json::object())["tool_choice"].is_object());
  EXPECT_EQ(with({{"parallel_tool_calls", false}})["tool_choice"],
            json({{"type", "auto"}, {"disable_parallel_tool_use", true}}));
  EXPECT_EQ(
      with({{"parallel_tool_calls", false},
            {"tool_choice", {{"type", "function"}, {"function", {{"name", "x"}}}}}})["tool_choice"],
      json({{"type", "tool"}, {"name", "x"}, {"disable_parallel_tool_use", true}}));
  EXPECT_EQ(with({{"parallel_tool_calls", false}, {"tool_choice", "none"}})["tool_choice"],
            json({{"type", "none"}}));
  EXPECT_FALSE(with({{"parallel_tool_calls", true}}).contains("tool_choice"));

  // Anthropic rejects tool_choice without tools: both are left out.
  json no_tools = chatBody({{"messages", base["messages"]}, {"tool_choice", "required"}});
  EXPECT_FALSE(no_tools.contains("tool_choice"));
  EXPECT_FALSE(no_tools.contains("tools"));
}

TEST(AnthropicRequest, StopUserMetadataAndPassedParams) {
  json out = chatBody({{"model", "claude-x"},
                       {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
                       {"stop", json::array({"a", "b"})},
                       {"user", "u1"},
                       {"metadata", {{"trace", "t"}}},
                       {"top_k", 5},
                       {"stream", true},
                       {"stream_options", {{"include_usage", true}}},
                       {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
                       {"presence_penalty", 1},
                       {"logit_bias", json::object()}});
  EXPECT_EQ(out["model"], "claude-x");
  EXPECT_EQ(out["stop_sequences"], json::array({"a", "b"}));
  EXPECT_EQ(out["metadata"], json({{"trace", "t"}, {"user_id", "u1"}}));
  EXPECT_EQ(out["top_k"], 5);
  EXPECT_EQ(out["stream"], true);
  EXPECT_EQ(out["thinking"]["budget_tokens"], 1024);
  EXPECT_FALSE(out.contains("stream_options"));
  EXPECT_FALSE(out.contains("presence_penalty"));
  EXPECT_FALSE(out.contains("logit_bias"));
  EXPECT_FALSE(out.contains("system"));  // omitted when there is none
}

TEST(AnthropicRequest, NoModelIsNeverInvented) {
  json out = chatBody({{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
  EXPECT_FALSE(out.contains("model"));
}

TEST(AnthropicRequest, DocumentsAndCacheControl) {
  json out = chatBody(
      {{"messages",
        json::array(
            {{{"role", "system"},
              {"content", json::array({{{"type", "text"},
                                        {"text", "long prompt"},
                                        {"cache_control", {{"type", "ephemeral"}}}}})}},
             {{"role", "user"},
              {"content",
               json::array(
                   {{{"type", "image_url"}, {"image_url", "data:application/pdf;base64,JVBERi0="}},
                    {{"type", "file"},
                     {"file",
                      {{"file_data", "data:application/pdf;base64,QUJD"}, {"filename", "a.pdf"}}}},
                    {{"type", "input_audio"}, {"input_audio", {{"data", "x"}}}}})}}})}});
  EXPECT_EQ(out["system"][0]["cache_control"], json({{"type", "ephemeral"}}));
  const json& content = out["messages"][0]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[0]["type"], "document");
  EXPECT_EQ(content[0]["source"]["media_type"], "application/pdf");
  EXPECT_EQ(content[1]["source"]["data"], "QUJD");
}

TEST(AnthropicRequest, AssistantTextAndToolCallsShareOneTurn) {
  json out = chatBody(
      {{"messages",
        json::array({{{"role", "user"}, {"content", "hi"}},
                     {{"role", "assistant"},
                      {"content", "Let me check."},
                      {"tool_calls",
                       json::array({{{"id", "t1"},
                                     {"type", "function"},
                                     {"function", {{"name", "f"}, {"arguments", "[1,2]"}}}}})}},
                     {{"role", "tool"}, {"tool_call_id", "t1"}, {"content", "ok"}},
                     {{"role", "user"}, {"content", "and?"}}})}});
  ASSERT_EQ(out["messages"].size(), 3u);
  const json& assistant = out["messages"][1]["content"];
  EXPECT_EQ(assistant[0], json({{"type", "text"}, {"text", "Let me check."}}));
  EXPECT_EQ(assistant[1]["input"], json::object());  // a non-object argument is sent as {}
  const json& user = out["messages"][2]["content"];
  EXPECT_EQ(user[0]["type"], "tool_result");
  EXPECT_EQ(user[1], json({{"type", "text"}, {"text", "and?"}}));
}

TEST(AnthropicRequest, BadShapesDoNotThrow) {
  json weird = {{"messages", json::array({1,
                                          "x",
                                          {{"role", "assistant"}, {"tool_calls", 5}},
                                          {{"role", "user"}, {"content", json::array({1, 2})}},
                                          {{"role", "tool"}, {"content", 3}}})},
                {"tools", json::array({1, {{"type", "function"}}})},
                {"stop", 3}};
  EXPECT_NO_THROW({
    auto out = anthropicChatBody(weird, anthropicTarget());
    EXPECT_TRUE(out.has_value());
  });
  EXPECT_FALSE(anthropicChatBody(json::array(), anthropicTarget()).has_value());
}

TEST(AnthropicRequest, MessagesEndpointRelaysBodyBytes) {
  const std::string raw =
      R"({"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}],)"
      R"("some_new_param":{"a":1},"stream":true})";
  Call call(raw, Endpoint::kMessages, {{"anthropic-beta", "tools-2024-05-16"}});
  call.request.query = "beta=true";
  auto built = AnthropicAdapter().buildRequest(call.request, anthropicTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target, "/v1/messages?beta=true");
  EXPECT_EQ(built->body, raw);
  EXPECT_EQ(header(*built, "x-api-key"), "sk-ant-test");
  EXPECT_EQ(header(*built, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(header(*built, "anthropic-beta"), "tools-2024-05-16");
  // The stream goes back as Anthropic sent it, in any split; its usage is read on the way.
  const std::string sse = readFixture("stream_text_tool.sse");
  for (std::size_t piece : {1u, 9u, 100000u}) {
    auto stream = AnthropicAdapter().makeStreamTransformer(call.request, anthropicTarget());
    ASSERT_NE(stream, nullptr);
    std::string out;
    for (const auto& part : testing::splitIntoPieces(sse, piece)) {
      stream->feed(part, out);
    }
    stream->finish(true, out);
    EXPECT_EQ(out, sse) << piece;
    EXPECT_EQ(stream->usage(),
              (Usage{.prompt_tokens = 572, .completion_tokens = 89, .cached_tokens = 100}));
  }
  auto broken = AnthropicAdapter().makeStreamTransformer(call.request, anthropicTarget());
  std::string out;
  broken->feed(sse.substr(0, sse.find("event: content_block_start") + 10), out);
  broken->finish(false, out);
  EXPECT_EQ(out.find("event: content_block_start"), std::string::npos) << out;
  EXPECT_NE(out.find("event: error\ndata: "), std::string::npos) << out;
  EXPECT_NE(out.find("anthropic error: the upstream stream was interrupted"), std::string::npos);
}

TEST(AnthropicRequest, PassthroughAppendsPath) {
  Call call("", Endpoint::kPassthrough,
            {{"x-foo", "bar"}, {"x-api-key", "client"}, {"x-portkey-provider", "anthropic"}});
  call.request.method = "GET";
  call.request.path = "/models";
  call.request.query = "limit=5";
  auto built = AnthropicAdapter().buildRequest(call.request, anthropicTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->method, "GET");
  EXPECT_EQ(built->target, "/v1/models?limit=5");
  EXPECT_EQ(header(*built, "x-foo"), "bar");
  EXPECT_EQ(header(*built, "x-api-key"), "sk-ant-test");
  EXPECT_EQ(header(*built, "x-portkey-provider"), "<absent>");

  call.request.path = "/v1/messages/count_tokens";
  call.request.query.clear();
  built = AnthropicAdapter().buildRequest(call.request, anthropicTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target, "/v1/messages/count_tokens");
  // Passthrough streams are relayed as they come.
  EXPECT_EQ(AnthropicAdapter().makeStreamTransformer(call.request, anthropicTarget()), nullptr);
}

TEST(AnthropicRequest, Supports) {
  AnthropicAdapter adapter;
  EXPECT_EQ(adapter.id(), "anthropic");
  EXPECT_TRUE(adapter.supports(Endpoint::kChatCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kMessages));
  EXPECT_TRUE(adapter.supports(Endpoint::kPassthrough));
  EXPECT_FALSE(adapter.supports(Endpoint::kCompletions));
  EXPECT_FALSE(adapter.supports(Endpoint::kEmbeddings));
}

}  // namespace
}  // namespace portico::providers
