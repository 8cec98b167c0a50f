// Bedrock token usage for the gateway's observers: Converse answers, converse-stream (from the
// metadata event, whether or not the client asked for include_usage) and embeddings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bedrock/bedrock_adapter.hpp"
#include "portico/aws_eventstream_parser.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

constexpr const char* kModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("bedrock", name);
}

std::string eventFrame(const std::string& type, const json& payload) {
  return stream::encodeEventStreamMessage(
      {{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}},
      payload.dump());
}

std::string fixtureBytes() {
  std::string bytes;
  for (const auto& e : json::parse(readFixture("stream_events.json"))) {
    bytes += eventFrame(e["event"], e["payload"]);
  }
  return bytes;
}

Usage counts(std::int64_t prompt, std::int64_t completion, std::int64_t cached) {
  Usage usage;
  usage.prompt_tokens = prompt;
  usage.completion_tokens = completion;
  usage.cached_tokens = cached;
  return usage;
}

struct Chat {
  json body;
  ClientRequest request;
  explicit Chat(json b, Endpoint endpoint = Endpoint::kChatCompletions) : body(std::move(b)) {
    request.endpoint = endpoint;
    request.body = &body;
    request.stream = body.value("stream", false);
  }
};

TEST(BedrockUsage, ConverseAnswerReportsPromptCompletionAndCacheReads) {
  BedrockAdapter adapter;
  Chat chat({{"model", kModel}, {"messages", json::array()}});
  auto mapped = adapter.mapResponse(
      chat.request, Target{},
      UpstreamReply{200, "application/json", readFixture("converse_response.json"), {}});
  ASSERT_EQ(mapped.status, 200);
  // inputTokens 30 + cacheReadInputTokens 6 + cacheWriteInputTokens 4, as the client sees it.
  ASSERT_TRUE(mapped.usage.has_value());
  EXPECT_EQ(*mapped.usage, counts(40, 12, 6));
  EXPECT_EQ(json::parse(mapped.body)["usage"]["prompt_tokens"], 40);
}

TEST(BedrockUsage, ConverseUsageWithoutCacheReadsAndWithoutUsage) {
  EXPECT_EQ(bedrock::converseUsage(
                json::parse(R"({"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}})")),
            counts(3, 2, 0));
  EXPECT_FALSE(bedrock::converseUsage(json::parse(R"({"output":{}})")).has_value());
  EXPECT_FALSE(bedrock::converseUsage(json::parse(R"({"usage":"none"})")).has_value());
}

TEST(BedrockUsage, ErrorsAndPassthroughCarryNoUsage) {
  BedrockAdapter adapter;
  Chat chat({{"model", kModel}, {"messages", json::array()}});
  auto error = adapter.mapResponse(
      chat.request, Target{},
      UpstreamReply{429, "application/json", readFixture("throttling_error.json"), {}});
  EXPECT_EQ(error.status, 429);
  EXPECT_FALSE(error.usage.has_value());
  auto invalid =
      adapter.mapResponse(chat.request, Target{}, UpstreamReply{200, "application/json", "{}", {}});
  EXPECT_EQ(invalid.status, 502);
  EXPECT_FALSE(invalid.usage.has_value());

  ClientRequest passthrough;
  passthrough.endpoint = Endpoint::kPassthrough;
  auto relayed = adapter.mapResponse(
      passthrough, Target{},
      UpstreamReply{200, "application/json", readFixture("converse_response.json"), {}});
  EXPECT_EQ(relayed.body, readFixture("converse_response.json"));
  EXPECT_FALSE(relayed.usage.has_value());
}

TEST(BedrockUsage, StreamReportsTheMetadataUsageWithAndWithoutIncludeUsage) {
  BedrockAdapter adapter;
  for (bool include_usage : {true, false}) {
    Chat chat({{"model", kModel},
               {"stream", true},
               {"stream_options", {{"include_usage", include_usage}}}});
    auto t = adapter.makeStreamTransformer(chat.request, Target{});
    ASSERT_NE(t, nullptr);
    const std::string bytes = fixtureBytes();
    // The metadata event is last: nothing is known before it.
    const auto metadata = bytes.rfind(
        eventFrame("metadata", json::parse(readFixture("stream_events.json")).back()["payload"]));
    ASSERT_NE(metadata, std::string::npos);
    std::string out;
    t->feed(std::string_view(bytes).substr(0, metadata), out);
    EXPECT_FALSE(t->usage().has_value()) << include_usage;
    t->feed(std::string_view(bytes).substr(metadata), out);
    ASSERT_TRUE(t->usage().has_value()) << include_usage;
    EXPECT_EQ(*t->usage(), counts(25, 18, 0)) << include_usage;
    EXPECT_TRUE(out.ends_with("data: [DONE]\n\n"));
  }
}

TEST(BedrockUsage, StreamCacheReadsAndAStreamThatNeverReportsUsage) {
  auto t = bedrock::makeChatStream(ClientRequest{}, true, "chatcmpl-x");
  std::string out;
  t->feed(eventFrame("messageStart", {{"role", "assistant"}}) +
              eventFrame("messageStop", {{"stopReason", "end_turn"}}),
          out);
  t->finish(true, out);
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n"));
  EXPECT_FALSE(t->usage().has_value());

  auto cached = bedrock::makeChatStream(ClientRequest{}, true, "chatcmpl-y");
  cached->feed(
      eventFrame("messageStop", {{"stopReason", "end_turn"}}) +
          eventFrame("metadata",
                     {{"usage",
                       {{"inputTokens", 5}, {"cacheReadInputTokens", 100}, {"outputTokens", 7}}}}),
      out);
  EXPECT_EQ(cached->usage(), counts(105, 7, 100));
}

TEST(BedrockUsage, EmbeddingsReportTitansTokenCountAndNothingForCohere) {
  BedrockAdapter adapter;
  Chat titan({{"model", "amazon.titan-embed-text-v2:0"}, {"input", "x"}}, Endpoint::kEmbeddings);
  auto mapped = adapter.mapResponse(
      titan.request, Target{},
      UpstreamReply{200, "application/json", readFixture("titan_embed_response.json"), {}});
  ASSERT_EQ(mapped.status, 200);
  ASSERT_TRUE(mapped.usage.has_value());
  EXPECT_EQ(mapped.usage->prompt_tokens, 7);
  EXPECT_FALSE(mapped.usage->completion_tokens.has_value());

  Chat cohere({{"model", "cohere.embed-english-v3"}, {"input", {"a", "b"}}}, Endpoint::kEmbeddings);
  auto batch = adapter.mapResponse(
      cohere.request, Target{},
      UpstreamReply{200, "application/json", readFixture("cohere_embed_response.json"), {}});
  ASSERT_EQ(batch.status, 200);
  EXPECT_FALSE(batch.usage.has_value());
}

}  // namespace
}  // namespace portico::providers
