// Anthropic's Messages API on Claude through Vertex AI: rawPredict / streamRawPredict with the
// client's body (model out, Vertex's anthropic_version in), answers and SSE passed on with their
// usage, Vertex's errors in Anthropic's shape.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vertex_ai/vertex_adapter.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

constexpr const char* kModel = "claude-3-5-sonnet-v2@20241022";
constexpr const char* kPath =
    "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/"
    "claude-3-5-sonnet-v2@20241022";

struct Request {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;
  explicit Request(json b, HeaderList h = {}) : body(std::move(b)), headers(std::move(h)) {
    raw = body.dump();
    request.endpoint = Endpoint::kMessages;
    request.path = "/messages";
    request.body = &body;
    request.raw_body = raw;
    request.headers = &headers;
    request.stream = body.value("stream", false);
  }
};

Target vertexTarget(json extra = json::object()) {
  Target target;
  target.provider = "vertex-ai";
  target.api_key = "ya29.token";
  target.options = {{"vertex_project_id", "my-project"}, {"vertex_region", "us-east5"}};
  for (auto& [key, value] : extra.items()) target.options[key] = value;
  return target;
}

json messagesBody(std::string model = kModel) {
  return {{"model", std::move(model)},
          {"max_tokens", 256},
          {"system",
           {{{"type", "text"}, {"text", "Be brief."}, {"cache_control", {{"type", "ephemeral"}}}}}},
          {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
}

std::string header(const UpstreamRequest& r, std::string_view name) {
  return std::string(findHeader(r.headers, name).value_or("<missing>"));
}

TEST(VertexMessages, NativeForClaudeModelsOnly) {
  VertexAdapter adapter;
  EXPECT_TRUE(adapter.supports(Endpoint::kMessages));
  EXPECT_FALSE(adapter.supports(Endpoint::kResponses));
  EXPECT_TRUE(adapter.servesNatively(Endpoint::kMessages, kModel));
  EXPECT_TRUE(adapter.servesNatively(Endpoint::kMessages, "anthropic.claude-3-haiku@20240307"));
  EXPECT_FALSE(adapter.servesNatively(Endpoint::kMessages, "gemini-2.0-flash"));
  EXPECT_FALSE(adapter.servesNatively(Endpoint::kMessages, "google.gemini-1.5-pro"));
  EXPECT_TRUE(adapter.servesNatively(Endpoint::kChatCompletions, "gemini-2.0-flash"));
}

TEST(VertexMessages, RawPredictWithTheClientsBody) {
  VertexAdapter adapter;
  Request r(messagesBody(), {{"anthropic-beta", "prompt-caching-2024-07-31"}});
  auto built = adapter.buildRequest(r.request, vertexTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->method, "POST");
  EXPECT_EQ(built->host, "us-east5-aiplatform.googleapis.com");
  EXPECT_EQ(built->target, std::string(kPath) + ":rawPredict");
  EXPECT_EQ(header(*built, "authorization"), "Bearer ya29.token");
  EXPECT_EQ(header(*built, "content-type"), "application/json");
  EXPECT_EQ(header(*built, "anthropic-beta"), "prompt-caching-2024-07-31");
  json sent = json::parse(built->body);
  EXPECT_FALSE(sent.contains("model"));
  EXPECT_EQ(sent["anthropic_version"], "vertex-2023-10-16");
  json expected = messagesBody();
  expected.erase("model");
  sent.erase("anthropic_version");
  EXPECT_EQ(sent, expected);

  // The "anthropic." prefix is Portkey's, not Vertex's.
  Request prefixed(messagesBody("anthropic.claude-3-5-sonnet-v2@20241022"));
  built = adapter.buildRequest(prefixed.request, vertexTarget({{"anthropic_beta", "b1"}}));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->target, std::string(kPath) + ":rawPredict");
  EXPECT_EQ(header(*built, "anthropic-beta"), "b1");
}

TEST(VertexMessages, StreamRawPredictKeepsStream) {
  VertexAdapter adapter;
  json body = messagesBody();
  body["stream"] = true;
  Request r(body);
  auto built = adapter.buildRequest(r.request, vertexTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->target, std::string(kPath) + ":streamRawPredict");
  json sent = json::parse(built->body);
  EXPECT_EQ(sent["stream"], true);
  EXPECT_FALSE(sent.contains("model"));
  EXPECT_EQ(header(*built, "anthropic-beta"), "<missing>");
}

TEST(VertexMessages, GeminiIsNotServedNatively) {
  VertexAdapter adapter;
  Request r(messagesBody("gemini-2.0-flash"));
  auto built = adapter.buildRequest(r.request, vertexTarget());
  ASSERT_FALSE(built.has_value());
}

TEST(VertexMessages, AnswerPassesThroughWithItsUsage) {
  VertexAdapter adapter;
  Request r(messagesBody());
  const std::string answer =
      R"({"id":"msg_vrtx_01","type":"message","role":"assistant","model":"claude-3-5-sonnet-v2-20241022",)"
      R"("content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,)"
      R"("usage":{"input_tokens":8,"cache_read_input_tokens":4,"output_tokens":3}})";
  auto mapped = adapter.mapResponse(r.request, vertexTarget(),
                                    UpstreamReply{200, "application/json", answer, {}});
  EXPECT_EQ(mapped.status, 200);
  EXPECT_EQ(mapped.body, answer);
  ASSERT_TRUE(mapped.usage.has_value());
  EXPECT_EQ(mapped.usage->prompt_tokens, 12);
  EXPECT_EQ(mapped.usage->completion_tokens, 3);
  EXPECT_EQ(mapped.usage->cached_tokens, 4);
}

TEST(VertexMessages, ErrorsBecomeAnthropicErrors) {
  VertexAdapter adapter;
  Request r(messagesBody());
  auto mapped = adapter.mapResponse(
      r.request, vertexTarget(),
      UpstreamReply{
          429,
          "application/json",
          R"({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}})",
          {}});
  EXPECT_EQ(mapped.status, 429);
  EXPECT_EQ(json::parse(mapped.body),
            json::parse(R"({"type":"error","error":{"type":"rate_limit_error",
                "message":"Quota exceeded"}})"));

  mapped = adapter.mapResponse(
      r.request, vertexTarget(),
      UpstreamReply{
          404,
          "application/json",
          R"([{"error":{"code":404,"message":"Publisher Model not found","status":"NOT_FOUND"}}])",
          {}});
  EXPECT_EQ(json::parse(mapped.body)["error"]["type"], "not_found_error");
  EXPECT_EQ(json::parse(mapped.body)["error"]["message"], "Publisher Model not found");

  // Claude's own errors are Anthropic's already.
  const std::string own =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}})";
  mapped = adapter.mapResponse(r.request, vertexTarget(),
                               UpstreamReply{400, "application/json", own, {}});
  EXPECT_EQ(mapped.status, 400);
  EXPECT_EQ(mapped.body, own);
}

TEST(VertexMessages, StreamIsAnthropicsSseWithUsage) {
  VertexAdapter adapter;
  json body = messagesBody();
  body["stream"] = true;
  Request r(body);
  auto transformer = adapter.makeStreamTransformer(r.request, vertexTarget());
  ASSERT_TRUE(transformer);
  const std::string input =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  std::string out;
  for (char c : input) transformer->feed(std::string_view(&c, 1), out);
  transformer->finish(true, out);
  EXPECT_EQ(out, input);
  ASSERT_TRUE(transformer->usage().has_value());
  EXPECT_EQ(transformer->usage()->prompt_tokens, 3);
  EXPECT_EQ(transformer->usage()->completion_tokens, 5);
}

}  // namespace
}  // namespace portico::providers
