// Token usage reported to the gateway by the vertex-ai adapter, for Gemini and Claude models,
// answered and streamed, and for embeddings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/test_data.hpp"
#include "vertex_ai/vertex_adapter.hpp"

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

Target vertexTarget() {
  Target target;
  target.provider = "vertex-ai";
  target.api_key = "ya29.token";
  target.options = {{"vertex_project_id", "my-project"}, {"vertex_region", "us-central1"}};
  return target;
}

json chatBody(std::string model, bool stream = false) {
  return {{"model", std::move(model)},
          {"messages", {{{"role", "user"}, {"content", "hi"}}}},
          {"stream", stream}};
}

std::string streamed(StreamTransformer& transformer, const std::string& input) {
  std::string out;
  for (char c : input) {
    transformer.feed(std::string_view(&c, 1), out);
  }
  transformer.finish(true, out);
  return out;
}

TEST(VertexUsageTest, GeminiAnswerAndStream) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("gemini-2.5-pro"));
  auto mapped = adapter.mapResponse(holder.request, vertexTarget(),
                                    {200, "application/json", readFixture("response_text.json")});
  ASSERT_EQ(mapped.status, 200);
  ASSERT_TRUE(mapped.usage);
  EXPECT_EQ(*mapped.usage, (Usage{.prompt_tokens = 12,
                                  .completion_tokens = 14,
                                  .cached_tokens = 3,
                                  .reasoning_tokens = 10}));

  RequestHolder stream(Endpoint::kChatCompletions, chatBody("google.gemini-2.5-pro", true));
  auto transformer = adapter.makeStreamTransformer(stream.request, vertexTarget());
  ASSERT_TRUE(transformer);
  std::string out = streamed(*transformer, readFixture("stream_text.sse"));
  EXPECT_NE(out.find("\"provider\":\"vertex-ai\""), std::string::npos);
  ASSERT_TRUE(transformer->usage());
  EXPECT_EQ(transformer->usage()->prompt_tokens, 5);
  EXPECT_EQ(transformer->usage()->completion_tokens, 3);
}

TEST(VertexUsageTest, ClaudeAnswer) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("anthropic.claude-3-5-haiku@20241022"));
  auto mapped = adapter.mapResponse(
      holder.request, vertexTarget(),
      {200, "application/json",
       R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku",
           "content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn",
           "usage":{"input_tokens":3,"output_tokens":2,"cache_read_input_tokens":4}})"});
  ASSERT_EQ(mapped.status, 200) << mapped.body;
  ASSERT_TRUE(mapped.usage);
  EXPECT_EQ(mapped.usage->prompt_tokens, 7);  // input + cache reads, as the client's usage says
  EXPECT_EQ(mapped.usage->completion_tokens, 2);
  EXPECT_EQ(mapped.usage->cached_tokens, 4);
  EXPECT_EQ(json::parse(mapped.body)["provider"], "vertex-ai");

  auto error = adapter.mapResponse(
      holder.request, vertexTarget(),
      {529, "application/json",
       R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"});
  EXPECT_EQ(error.status, 529);
  EXPECT_FALSE(error.usage);
}

TEST(VertexUsageTest, ClaudeStream) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kChatCompletions, chatBody("claude-3-haiku@20240307", true));
  auto transformer = adapter.makeStreamTransformer(holder.request, vertexTarget());
  ASSERT_TRUE(transformer);
  std::string out = streamed(
      *transformer,
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"model\":\"claude-3-haiku\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n")) << out;
  ASSERT_TRUE(transformer->usage()) << out;
  EXPECT_EQ(transformer->usage()->prompt_tokens, 3);
  EXPECT_EQ(transformer->usage()->completion_tokens, 5);
}

TEST(VertexUsageTest, EmbeddingsSumTheTokenCounts) {
  VertexAdapter adapter;
  RequestHolder holder(Endpoint::kEmbeddings,
                       {{"model", "text-embedding-005"}, {"input", {"a", "b"}}});
  auto mapped = adapter.mapResponse(holder.request, vertexTarget(),
                                    {200, "application/json", readFixture("vertex_embed.json")});
  ASSERT_EQ(mapped.status, 200);
  ASSERT_TRUE(mapped.usage);
  EXPECT_EQ(*mapped.usage, (Usage{.prompt_tokens = 10}));

  auto uncounted = adapter.mapResponse(
      holder.request, vertexTarget(),
      {200, "application/json", R"({"predictions":[{"embeddings":{"values":[0.5]}}]})"});
  ASSERT_EQ(uncounted.status, 200);
  EXPECT_FALSE(uncounted.usage);
  EXPECT_EQ(json::parse(uncounted.body)["usage"]["prompt_tokens"], 0);
}

}  // namespace
}  // namespace portico::providers
