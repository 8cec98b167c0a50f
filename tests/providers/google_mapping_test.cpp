#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "google/gemini_mapping.hpp"
#include "google/google_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("google", name);
}

json fixtureJson(const std::string& name) { return json::parse(readFixture(name)); }

// Owns what a ClientRequest points at.
struct RequestHolder {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;

  RequestHolder(Endpoint endpoint, json b) : body(std::move(b)), raw(body.dump()) {
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kEmbeddings ? "/embeddings" : "/chat/completions";
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = body.value("stream", false);
  }
};

Target googleTarget(std::string key = "AIza-test-key") {
  Target target;
  target.provider = "google";
  target.api_key = std::move(key);
  return target;
}

TEST(GoogleMappingTest, ChatRequestMatchesFixture) {
  auto mapped = gemini::chatRequestBody(fixtureJson("chat_request_openai.json"));
  ASSERT_TRUE(mapped.has_value()) << mapped.error().body.dump();
  EXPECT_EQ(*mapped, fixtureJson("chat_request_gemini.json")) << mapped->dump(2);
  EXPECT_FALSE(mapped->contains("model"));
}

TEST(GoogleMappingTest, ToolChoiceModesAndStopArray) {
  json body = {{"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"stop", {"a", "b"}},
               {"max_tokens", 5},
               {"response_format", {{"type", "json_object"}}}};
  for (auto [choice, mode] : {std::pair{"auto", "AUTO"}, {"required", "ANY"}, {"none", "NONE"}}) {
    body["tool_choice"] = choice;
    auto mapped = gemini::chatRequestBody(body);
    ASSERT_TRUE(mapped.has_value());
    EXPECT_EQ((*mapped)["toolConfig"]["functionCallingConfig"]["mode"], mode);
    EXPECT_EQ((*mapped)["generationConfig"]["stopSequences"], json({"a", "b"}));
    EXPECT_EQ((*mapped)["generationConfig"]["maxOutputTokens"], 5);
    EXPECT_EQ((*mapped)["generationConfig"]["responseMimeType"], "application/json");
    EXPECT_FALSE((*mapped)["generationConfig"].contains("responseSchema"));
  }
}

TEST(GoogleMappingTest, RejectsMalformedMessages) {
  EXPECT_FALSE(gemini::chatRequestBody(json{{"messages", "nope"}}).has_value());
  EXPECT_FALSE(gemini::chatRequestBody(json{{"messages", {{{"role", "wizard"}, {"content", "x"}}}}})
                   .has_value());
  // A tool answer that matches no earlier call cannot be named.
  auto orphan = gemini::chatRequestBody(
      json{{"messages", {{{"role", "tool"}, {"tool_call_id", "x"}, {"content", "1"}}}}});
  ASSERT_FALSE(orphan.has_value());
  EXPECT_EQ(orphan.error().status, 400);
  auto bad_args = gemini::chatRequestBody(json::parse(R"({"messages":[{"role":"assistant",
    "tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]})"));
  EXPECT_FALSE(bad_args.has_value());
  auto bad_url = gemini::chatRequestBody(json::parse(
      R"({"messages":[{"role":"user","content":[{"type":"image_url",
        "image_url":{"url":"data:image/png,notbase64"}}]}]})"));
  EXPECT_FALSE(bad_url.has_value());
}

TEST(GoogleMappingTest, FinishReasons) {
  EXPECT_EQ(gemini::finishReason("STOP", false), "stop");
  EXPECT_EQ(gemini::finishReason("STOP", true), "tool_calls");
  EXPECT_EQ(gemini::finishReason("MAX_TOKENS", true), "length");
  for (auto reason :
       {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}) {
    EXPECT_EQ(gemini::finishReason(reason, false), "content_filter") << reason;
  }
  EXPECT_EQ(gemini::finishReason("OTHER", false), "stop");
  EXPECT_EQ(gemini::finishReason("MALFORMED_FUNCTION_CALL", false), "stop");
}

TEST(GoogleMappingTest, TextResponse) {
  auto mapped = gemini::chatResponse({"google", "gemini-2.0-flash", 1700000000},
                                     readFixture("response_text.json"));
  ASSERT_EQ(mapped.status, 200);
  json out = json::parse(mapped.body);
  EXPECT_TRUE(out["id"].get<std::string>().starts_with("portico-"));
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["created"], 1700000000);
  EXPECT_EQ(out["model"], "gemini-2.0-flash-001");
  EXPECT_EQ(out["provider"], "google");
  ASSERT_EQ(out["choices"].size(), 1u);
  EXPECT_EQ(out["choices"][0]["index"], 0);
  EXPECT_EQ(out["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hello, world!");
  EXPECT_FALSE(out["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"]["prompt_tokens"], 12);
  EXPECT_EQ(out["usage"]["completion_tokens"], 14);
  EXPECT_EQ(out["usage"]["total_tokens"], 26);
  EXPECT_EQ(out["usage"]["completion_tokens_details"]["reasoning_tokens"], 10);
  EXPECT_EQ(out["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
}

TEST(GoogleMappingTest, ToolCallResponse) {
  auto mapped = gemini::chatResponse({"google", "gemini-2.0-flash", 1},
                                     readFixture("response_tool_call.json"));
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["model"], "gemini-2.0-flash");  // no modelVersion: the request's model
  const json& message = out["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());  // the thought part is not answer text
  ASSERT_EQ(message["tool_calls"].size(), 2u);
  EXPECT_EQ(message["tool_calls"][0]["type"], "function");
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(message["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            json({{"city", "Paris"}, {"unit", "c"}}));
  EXPECT_EQ(message["tool_calls"][1]["function"]["arguments"], "{}");
  EXPECT_NE(message["tool_calls"][0]["id"], message["tool_calls"][1]["id"]);
  EXPECT_EQ(out["choices"][0]["finish_reason"], "tool_calls");
}

TEST(GoogleMappingTest, BlockedPromptIsContentFilter) {
  auto mapped =
      gemini::chatResponse({"google", "gemini-2.0-flash", 1}, readFixture("response_blocked.json"));
  ASSERT_EQ(mapped.status, 200);
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["choices"][0]["finish_reason"], "content_filter");
  EXPECT_TRUE(out["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(out["usage"]["prompt_tokens"], 9);
}

TEST(GoogleMappingTest, GarbageSuccessBodyIsAnError) {
  auto mapped = gemini::chatResponse({"google", "m", 1}, "<html>oops</html>");
  EXPECT_EQ(mapped.status, 502);
  EXPECT_NE(mapped.body.find("Invalid response received from google"), std::string::npos);
  EXPECT_EQ(gemini::chatResponse({"google", "m", 1}, "{}").status, 502);
}

TEST(GoogleMappingTest, ErrorKeepsStatusTypeAndCode) {
  auto mapped =
      gemini::errorResponse("google", {429, "application/json", readFixture("error_429.json")});
  EXPECT_EQ(mapped.status, 429);
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["error"]["message"],
            "google error: Resource has been exhausted (e.g. check quota).");
  EXPECT_EQ(out["error"]["type"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(out["error"]["code"], "429");  // a string, as OpenAI's codes are
  EXPECT_TRUE(out["error"]["param"].is_null());
  EXPECT_EQ(out["provider"], "google");

  // Array-wrapped and non-JSON bodies.
  auto wrapped = gemini::errorResponse(
      "google", {400, "application/json", "[" + readFixture("error_429.json") + "]"});
  EXPECT_EQ(json::parse(wrapped.body)["error"]["type"], "RESOURCE_EXHAUSTED");
  auto text = gemini::errorResponse("google", {502, "text/html", "Bad gateway"});
  EXPECT_EQ(text.status, 502);
  EXPECT_NE(text.body.find("Bad gateway"), std::string::npos);
}

TEST(GoogleAdapterTest, ChatRequestUrlAndKeyHeader) {
  GoogleAdapter adapter;
  RequestHolder holder(
      Endpoint::kChatCompletions,
      {{"model", "gemini-2.0-flash"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  auto built = adapter.buildRequest(holder.request, googleTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->scheme, "https");
  EXPECT_EQ(built->host, "generativelanguage.googleapis.com");
  EXPECT_EQ(built->target, "/v1beta/models/gemini-2.0-flash:generateContent");
  EXPECT_EQ(findHeader(built->headers, "x-goog-api-key").value_or(""), "AIza-test-key");
  EXPECT_EQ(built->target.find("key="), std::string::npos);
  EXPECT_FALSE(json::parse(built->body).contains("model"));

  holder.body["stream"] = true;
  holder.request.stream = true;
  auto streamed = adapter.buildRequest(holder.request, googleTarget());
  ASSERT_TRUE(streamed.has_value());
  EXPECT_EQ(streamed->target, "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
}

TEST(GoogleAdapterTest, CustomHostAndMissingKeyOrModel) {
  GoogleAdapter adapter;
  RequestHolder holder(
      Endpoint::kChatCompletions,
      {{"model", "models/gemini-pro"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  Target target = googleTarget();
  target.custom_host = "http://127.0.0.1:9999/proxy";
  auto built = adapter.buildRequest(holder.request, target);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->host, "127.0.0.1");
  EXPECT_EQ(built->port, "9999");
  EXPECT_EQ(built->target, "/proxy/v1beta/models/gemini-pro:generateContent");

  EXPECT_EQ(adapter.buildRequest(holder.request, googleTarget("")).error().status, 401);
  holder.body.erase("model");
  EXPECT_EQ(adapter.buildRequest(holder.request, googleTarget()).error().status, 400);
  EXPECT_FALSE(adapter.supports(Endpoint::kCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kEmbeddings));
}

TEST(GoogleAdapterTest, EmbeddingsSingleAndBatch) {
  GoogleAdapter adapter;
  RequestHolder single(Endpoint::kEmbeddings,
                       {{"model", "text-embedding-004"}, {"input", "hello"}, {"dimensions", 3}});
  auto built = adapter.buildRequest(single.request, googleTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target, "/v1beta/models/text-embedding-004:embedContent");
  EXPECT_EQ(json::parse(built->body),
            json::parse(R"({"content":{"parts":[{"text":"hello"}]},"outputDimensionality":3})"));
  auto mapped = adapter.mapResponse(single.request, googleTarget(),
                                    {200, "application/json", readFixture("embed_single.json")});
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["object"], "list");
  EXPECT_EQ(out["model"], "text-embedding-004");
  EXPECT_EQ(out["data"][0]["object"], "embedding");
  EXPECT_EQ(out["data"][0]["index"], 0);
  EXPECT_EQ(out["data"][0]["embedding"], json({0.5, -1.25, 2.0}));
  EXPECT_EQ(out["usage"], json({{"prompt_tokens", 0}, {"total_tokens", 0}}));

  RequestHolder batch(Endpoint::kEmbeddings,
                      {{"model", "text-embedding-004"}, {"input", {"a", "b"}}});
  built = adapter.buildRequest(batch.request, googleTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target, "/v1beta/models/text-embedding-004:batchEmbedContents");
  EXPECT_EQ(json::parse(built->body), json::parse(R"({"requests":[
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}},
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]}}]})"));
  mapped = adapter.mapResponse(batch.request, googleTarget(),
                               {200, "application/json", readFixture("embed_batch.json")});
  out = json::parse(mapped.body);
  ASSERT_EQ(out["data"].size(), 2u);
  EXPECT_EQ(out["data"][1]["index"], 1);
  EXPECT_EQ(out["data"][1]["embedding"], json({0.3, 0.4}));

  RequestHolder tokens(Endpoint::kEmbeddings, {{"model", "m"}, {"input", {{1, 2}}}});
  EXPECT_EQ(adapter.buildRequest(tokens.request, googleTarget()).error().status, 400);
}

TEST(GoogleAdapterTest, EmbeddingsBase64Encoding) {
  GoogleAdapter adapter;
  RequestHolder holder(Endpoint::kEmbeddings,
                       {{"model", "m"}, {"input", "x"}, {"encoding_format", "base64"}});
  auto mapped = adapter.mapResponse(holder.request, googleTarget(),
                                    {200, "application/json", readFixture("embed_single.json")});
  // 0.5, -1.25, 2.0 as little-endian float32.
  EXPECT_EQ(json::parse(mapped.body)["data"][0]["embedding"], "AAAAPwAAoL8AAABA");
}

TEST(GoogleAdapterTest, PassthroughKeepsPathAndAddsKeyHeader) {
  GoogleAdapter adapter;
  HeaderList headers = {{"authorization", "Bearer AIza-test-key"}, {"x-custom", "1"}};
  ClientRequest request;
  request.endpoint = Endpoint::kPassthrough;
  request.method = "GET";
  request.path = "/v1beta/models";
  request.query = "pageSize=5";
  request.headers = &headers;
  auto built = adapter.buildRequest(request, googleTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->method, "GET");
  EXPECT_EQ(built->target, "/v1beta/models?pageSize=5");
  EXPECT_EQ(findHeader(built->headers, "x-goog-api-key").value_or(""), "AIza-test-key");
  EXPECT_FALSE(findHeader(built->headers, "authorization").has_value());
  EXPECT_EQ(findHeader(built->headers, "x-custom").value_or(""), "1");
}

TEST(GoogleMappingTest, CleanSchemaDropsUnsupportedKeys) {
  json schema = json::parse(R"({"$schema":"x","type":"object","additionalProperties":false,
    "properties":{"a":{"type":["integer","string"],"const":1},
    "b":{"anyOf":[{"type":"string","$ref":"#/x"}]}}})");
  EXPECT_EQ(gemini::cleanSchema(schema), json::parse(R"({"type":"object","properties":{
    "a":{"anyOf":[{"type":"integer"},{"type":"string"}]},"b":{"anyOf":[{"type":"string"}]}}})"));
}

}  // namespace
}  // namespace portico::providers
