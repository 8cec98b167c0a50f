#include "vertex_ai/vertex_adapter.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("google", name);
}

struct RequestHolder {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;

  RequestHolder(Endpoint endpoint, json b) : body(std::move(b)), raw(body.dump()) {
    request.endpoint = endpoint;
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = body.value("stream", false);
  }
};

Target vertexTarget(std::string region = "us-central1") {
  Target target;
  target.provider = "vertex-ai";
  target.api_key = "ya29.token";
  target.options = {{"vertex_project_id", "my-project"}, {"vertex_region", region}};
  return target;
}

json chatBody(std::string model) {
  return {{"model", std::move(model)}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
}

TEST(VertexAdapterTest, GeminiUrlAndBearer) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("gemini-1.5-pro"));
  auto built = adapter.buildRequest(holder.request, vertexTarget("europe-west4"));
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->host, "europe-west4-aiplatform.googleapis.com");
  EXPECT_EQ(built->target,
            "/v1/projects/my-project/locations/europe-west4/publishers/google/models/"
            "gemini-1.5-pro:generateContent");
  EXPECT_EQ(findHeader(built->headers, "authorization").value_or(""), "Bearer ya29.token");
  json body = json::parse(built->body);
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(body["contents"][0]["parts"][0]["text"], "hi");

  holder.body["stream"] = true;
  holder.request.stream = true;
  built = adapter.buildRequest(holder.request, vertexTarget("global"));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->host, "aiplatform.googleapis.com");
  EXPECT_EQ(built->target,
            "/v1/projects/my-project/locations/global/publishers/google/models/"
            "gemini-1.5-pro:streamGenerateContent?alt=sse");
}

TEST(VertexAdapterTest, CustomHostKeepsProjectPath) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("google.gemini-2.0-flash"));
  Target target = vertexTarget();
  target.custom_host = "http://127.0.0.1:8080";
  auto built = adapter.buildRequest(holder.request, target);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->scheme, "http");
  EXPECT_EQ(built->target,
            "/v1/projects/my-project/locations/us-central1/publishers/google/models/"
            "gemini-2.0-flash:generateContent");
}

TEST(VertexAdapterTest, ProjectRegionAndAuthErrors) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("gemini-1.5-pro"));
  Target no_project = vertexTarget();
  no_project.options.erase("vertex_project_id");
  EXPECT_EQ(adapter.buildRequest(holder.request, no_project).error().status, 400);

  Target bad_region = vertexTarget("us-central1/../../x");
  EXPECT_EQ(adapter.buildRequest(holder.request, bad_region).error().status, 400);

  Target no_key = vertexTarget();
  no_key.api_key.clear();
  EXPECT_EQ(adapter.buildRequest(holder.request, no_key).error().status, 401);

  // A service account is exchanged for a token first; an unusable key is a clear 400 there.
  no_key.options["vertex_service_account_json"] = R"({"client_email":"a@b","private_key":"x"})";
  auto exchange = adapter.tokenExchange(no_key, std::chrono::system_clock::now());
  ASSERT_FALSE(exchange.has_value());
  EXPECT_EQ(exchange.error().status, 400);
  EXPECT_EQ(exchange.error().body.dump().find("\"x\""), std::string::npos);
  EXPECT_FALSE(adapter.tokenCacheKey(vertexTarget()).has_value());
}

TEST(VertexAdapterTest, ClaudeGoesToAnthropicPublisher) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions,
                       chatBody("anthropic.claude-3-5-sonnet@20240620"));
  holder.body["max_tokens"] = 100;
  auto built = adapter.buildRequest(holder.request, vertexTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->target,
            "/v1/projects/my-project/locations/us-central1/publishers/anthropic/models/"
            "claude-3-5-sonnet@20240620:rawPredict");
  json body = json::parse(built->body);
  EXPECT_FALSE(body.contains("model"));
  EXPECT_EQ(body["anthropic_version"], "vertex-2023-10-16");
  EXPECT_EQ(body["max_tokens"], 100);
  EXPECT_EQ(body["messages"][0]["role"], "user");

  RequestHolder streamed(Endpoint::kChatCompletions, chatBody("claude-3-haiku@20240307"));
  streamed.body["stream"] = true;
  streamed.request.stream = true;
  built = adapter.buildRequest(streamed.request, vertexTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_TRUE(
      built->target.ends_with("/publishers/anthropic/models/"
                              "claude-3-haiku@20240307:streamRawPredict"));
}

TEST(VertexAdapterTest, ClaudeResponseSaysVertex) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("claude-3-haiku@20240307"));
  auto mapped = adapter.mapResponse(
      holder.request, vertexTarget(),
      {200, "application/json",
       R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-3-haiku-20240307",
           "content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn",
           "usage":{"input_tokens":3,"output_tokens":2}})"});
  ASSERT_EQ(mapped.status, 200) << mapped.body;
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["provider"], "vertex-ai");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hi!");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
}

TEST(VertexAdapterTest, ClaudeStreamSaysVertex) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("claude-3-haiku@20240307"));
  holder.body["stream"] = true;
  holder.request.stream = true;
  auto transformer = adapter.makeStreamTransformer(holder.request, vertexTarget());
  ASSERT_TRUE(transformer);
  std::string input =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"model\":\"claude-3-haiku\",\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  std::string out;
  for (char c : input) {
    transformer->feed(std::string_view(&c, 1), out);
  }
  transformer->finish(true, out);
  EXPECT_EQ(out.find("\"provider\":\"anthropic\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"provider\":\"vertex-ai\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"content\":\"Hi\""), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n")) << out;
}

TEST(VertexAdapterTest, ClaudeStreamErrorsSayVertex) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("claude-3-haiku@20240307"));
  holder.body["stream"] = true;
  holder.request.stream = true;
  auto transformer = adapter.makeStreamTransformer(holder.request, vertexTarget());
  ASSERT_TRUE(transformer);
  std::string out;
  transformer->feed(
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n",
      out);
  transformer->finish(true, out);
  EXPECT_EQ(out.find("anthropic"), std::string::npos) << out;
  EXPECT_NE(out.find("\"message\":\"vertex-ai error: Overloaded\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"provider\":\"vertex-ai\""), std::string::npos) << out;
}

TEST(VertexAdapterTest, GeminiResponseAndError) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("gemini-1.5-pro"));
  auto mapped = adapter.mapResponse(holder.request, vertexTarget(),
                                    {200, "application/json", readFixture("response_text.json")});
  json out = json::parse(mapped.body);
  EXPECT_EQ(out["provider"], "vertex-ai");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hello, world!");

  auto error = adapter.mapResponse(
      holder.request, vertexTarget(),
      {403, "application/json",
       R"({"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}})"});
  EXPECT_EQ(error.status, 403);
  json body = json::parse(error.body);
  EXPECT_EQ(body["error"]["message"], "vertex-ai error: Permission denied");
  EXPECT_EQ(body["error"]["type"], "PERMISSION_DENIED");
  EXPECT_EQ(body["error"]["code"], "403");
}

TEST(VertexAdapterTest, Embeddings) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kEmbeddings,
                       {{"model", "text-embedding-005"}, {"input", {"a", "b"}}, {"dimensions", 2}});
  auto built = adapter.buildRequest(holder.request, vertexTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target,
            "/v1/projects/my-project/locations/us-central1/publishers/google/models/"
            "text-embedding-005:predict");
  EXPECT_EQ(json::parse(built->body), json::parse(R"({"instances":[{"content":"a"},{"content":"b"}],
                            "parameters":{"outputDimensionality":2}})"));
  auto mapped = adapter.mapResponse(holder.request, vertexTarget(),
                                    {200, "application/json", readFixture("vertex_embed.json")});
  json out = json::parse(mapped.body);
  ASSERT_EQ(out["data"].size(), 2u);
  EXPECT_EQ(out["data"][1]["embedding"], json({0.3, 0.4}));
  EXPECT_EQ(out["usage"]["prompt_tokens"], 10);
  EXPECT_EQ(out["model"], "text-embedding-005");
}

TEST(VertexAdapterTest, ModelParsing) {
  EXPECT_TRUE(parseVertexModel("anthropic.claude-3-opus@20240229").anthropic);
  EXPECT_EQ(parseVertexModel("anthropic.claude-3-opus@20240229").name, "claude-3-opus@20240229");
  EXPECT_TRUE(parseVertexModel("claude-sonnet-4@20250514").anthropic);
  EXPECT_FALSE(parseVertexModel("gemini-2.5-pro").anthropic);
  EXPECT_EQ(parseVertexModel("google.gemini-2.5-pro").name, "gemini-2.5-pro");
  EXPECT_EQ(vertexBaseUrl("global"), "https://aiplatform.googleapis.com");
  EXPECT_EQ(vertexBaseUrl("us-east5"), "https://us-east5-aiplatform.googleapis.com");
}

}  // namespace
}  // namespace portico::providers
