// cohere: OpenAI request -> Cohere v2 request (chat and embed), URL and auth; no sockets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cohere/cohere_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

json readCohereJson(const std::string& name) {
  return json::parse(portico::testing::readTestData("cohere", name));
}

struct CohereCall {
  HeaderList headers;
  json body;
  std::string raw;
  ClientRequest request;

  CohereCall(Endpoint endpoint, json b) : body(std::move(b)) {
    raw = body.dump();
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kEmbeddings ? "/embeddings" : "/chat/completions";
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = body.value("stream", false);
  }
};

Target cohereTarget() {
  Target target;
  target.provider = "cohere";
  target.api_key = "co-key";
  return target;
}

TEST(CohereRequest, ChatBodyMatchesFixture) {
  auto mapped = toCohereChatBody(readCohereJson("chat_request.json"));
  ASSERT_TRUE(mapped.has_value()) << mapped.error().body.dump();
  EXPECT_EQ(*mapped, readCohereJson("chat_request_expected.json")) << mapped->dump(2);
}

TEST(CohereRequest, ChatGoesToV2ChatWithBearer) {
  CohereAdapter adapter;
  CohereCall call(Endpoint::kChatCompletions, readCohereJson("chat_request.json"));
  auto out = adapter.buildRequest(call.request, cohereTarget());
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->method, "POST");
  EXPECT_EQ(out->host, "api.cohere.com");
  EXPECT_EQ(out->target, "/v2/chat");
  EXPECT_EQ(findHeader(out->headers, "authorization").value_or(""), "Bearer co-key");
  EXPECT_EQ(findHeader(out->headers, "content-type").value_or(""), "application/json");
  EXPECT_EQ(json::parse(out->body), readCohereJson("chat_request_expected.json"));
}

TEST(CohereRequest, CustomHostReplacesBase) {
  CohereAdapter adapter;
  CohereCall call(Endpoint::kChatCompletions, {{"model", "m"}, {"messages", json::array()}});
  Target target = cohereTarget();
  target.custom_host = "http://127.0.0.1:8080";
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->host, "127.0.0.1");
  EXPECT_EQ(out->target, "/v2/chat");
}

TEST(CohereRequest, ToolChoiceAndStopVariants) {
  json base = {
      {"model", "m"},
      {"messages", json::array({{{"role", "user"}, {"content", "x"}}})},
      {"tools", json::array({{{"type", "function"},
                              {"function", {{"name", "a"}, {"parameters", json::object()}}}},
                             {{"type", "function"}, {"function", {{"name", "b"}}}}})}};
  json body = base;
  body["tool_choice"] = "none";
  body["stop"] = json::array({"x", "y"});
  auto out = toCohereChatBody(body);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)["tool_choice"], "NONE");
  EXPECT_EQ((*out)["stop_sequences"], json::array({"x", "y"}));
  EXPECT_EQ((*out)["tools"].size(), 2u);

  body = base;
  body["tool_choice"] = "auto";
  body["max_tokens"] = 5;
  body["max_completion_tokens"] = 9;  // max_tokens wins when both are sent
  out = toCohereChatBody(body);
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->contains("tool_choice"));
  EXPECT_EQ((*out)["max_tokens"], 5);

  // A named tool: only that tool is offered, and a call is required.
  body = base;
  body["tool_choice"] = {{"type", "function"}, {"function", {{"name", "b"}}}};
  out = toCohereChatBody(body);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)["tool_choice"], "REQUIRED");
  ASSERT_EQ((*out)["tools"].size(), 1u);
  EXPECT_EQ((*out)["tools"][0]["function"]["name"], "b");

  body = base;
  body["response_format"] = {{"type", "json_object"}};
  out = toCohereChatBody(body);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)["response_format"], json({{"type", "json_object"}}));
  body["response_format"] = {{"type", "text"}};
  out = toCohereChatBody(body);
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->contains("response_format"));
}

TEST(CohereRequest, ModelIsNeverInvented) {
  auto out = toCohereChatBody({{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}});
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->contains("model"));
}

TEST(CohereRequest, UnsupportedInputIsA400) {
  CohereAdapter adapter;
  for (json body :
       {json{{"model", "m"}, {"messages", "nope"}},
        json{{"model", "m"}, {"messages", json::array({{{"role", "function"}, {"content", "x"}}})}},
        json{{"model", "m"}, {"messages", json::array({{{"role", 3}, {"content", "x"}}})}},
        json{{"model", "m"},
             {"messages",
              json::array(
                  {{{"role", "user"}, {"content", json::array({{{"type", "input_audio"}}})}}})}}}) {
    CohereCall call(Endpoint::kChatCompletions, body);
    auto out = adapter.buildRequest(call.request, cohereTarget());
    ASSERT_FALSE(out.has_value()) << body.dump();
    EXPECT_EQ(out.error().status, 400) << body.dump();
  }
}

TEST(CohereRequest, MissingKeyIs401) {
  CohereAdapter adapter;
  CohereCall call(Endpoint::kChatCompletions, {{"model", "m"}, {"messages", json::array()}});
  Target target = cohereTarget();
  target.api_key.clear();
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 401);
}

TEST(CohereRequest, EmbeddingsGoToV2Embed) {
  CohereAdapter adapter;
  CohereCall call(Endpoint::kEmbeddings, {{"model", "embed-english-v3.0"},
                                          {"input", json::array({"hello", "goodbye"})},
                                          {"encoding_format", "float"}});
  auto out = adapter.buildRequest(call.request, cohereTarget());
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->target, "/v2/embed");
  EXPECT_EQ(json::parse(out->body), json({{"model", "embed-english-v3.0"},
                                          {"texts", {"hello", "goodbye"}},
                                          {"input_type", "search_document"},
                                          {"embedding_types", {"float"}}}));

  // A single string, the input type from an option, dimensions mapped.
  CohereCall single(Endpoint::kEmbeddings,
                    {{"model", "embed-v4.0"}, {"input", "hi"}, {"dimensions", 256}});
  Target target = cohereTarget();
  target.options["cohere_input_type"] = "search_query";
  out = adapter.buildRequest(single.request, target);
  ASSERT_TRUE(out.has_value());
  json sent = json::parse(out->body);
  EXPECT_EQ(sent["texts"], json::array({"hi"}));
  EXPECT_EQ(sent["input_type"], "search_query");
  EXPECT_EQ(sent["output_dimension"], 256);

  // The body's input_type wins.
  CohereCall typed(Endpoint::kEmbeddings,
                   {{"model", "m"}, {"input", "hi"}, {"input_type", "classification"}});
  out = adapter.buildRequest(typed.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(json::parse(out->body)["input_type"], "classification");

  CohereCall tokens(Endpoint::kEmbeddings, {{"model", "m"}, {"input", json::array({1, 2})}});
  out = adapter.buildRequest(tokens.request, cohereTarget());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 400);
}

TEST(CohereRequest, Supports) {
  CohereAdapter adapter;
  EXPECT_TRUE(adapter.supports(Endpoint::kChatCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kEmbeddings));
  EXPECT_TRUE(adapter.supports(Endpoint::kPassthrough));
  EXPECT_FALSE(adapter.supports(Endpoint::kCompletions));
  EXPECT_FALSE(adapter.supports(Endpoint::kMessages));
}

TEST(CohereRequest, PassthroughKeepsPathQueryAndBody) {
  CohereAdapter adapter;
  HeaderList headers = {{"authorization", "Bearer client"}, {"x-custom", "1"}};
  ClientRequest request;
  request.endpoint = Endpoint::kPassthrough;
  request.path = "/v2/rerank";
  request.query = "a=1";
  request.headers = &headers;
  request.raw_body = R"({"query":"q","documents":["a"],"model":"rerank-v3.5"})";
  auto out = adapter.buildRequest(request, cohereTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target, "/v2/rerank?a=1");
  EXPECT_EQ(out->body, request.raw_body);
  EXPECT_EQ(findHeader(out->headers, "authorization").value_or(""), "Bearer co-key");
  EXPECT_EQ(findHeader(out->headers, "x-custom").value_or(""), "1");
}

}  // namespace
}  // namespace portico::providers
