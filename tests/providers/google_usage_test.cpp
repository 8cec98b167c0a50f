// Token usage reported to the gateway (MappedResponse::usage, StreamTransformer::usage()) by
// the google adapter, answered and streamed.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
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

Target googleTarget() {
  Target target;
  target.provider = "google";
  target.api_key = "AIza-test-key";
  return target;
}

json chatBody(bool stream = false, bool include_usage = false) {
  json body = {{"model", "gemini-2.0-flash"},
               {"messages", {{{"role", "user"}, {"content", "hi"}}}},
               {"stream", stream}};
  if (include_usage) {
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

std::optional<Usage> streamUsage(bool include_usage, const std::string& input, bool* done) {
  RequestHolder holder(Endpoint::kChatCompletions, chatBody(true, include_usage));
  auto transformer = GoogleAdapter().makeStreamTransformer(holder.request, googleTarget());
  EXPECT_TRUE(transformer);
  if (!transformer) {
    return std::nullopt;
  }
  std::string out;
  transformer->feed(input, out);
  transformer->finish(true, out);
  *done = out.ends_with("data: [DONE]\n\n");
  return transformer->usage();
}

TEST(GoogleUsageTest, CountsFromUsageMetadata) {
  auto usage = gemini::usageCounts(json::parse(
      R"({"promptTokenCount":12,"candidatesTokenCount":4,"totalTokenCount":26,
          "thoughtsTokenCount":10,"cachedContentTokenCount":3})"));
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->prompt_tokens, 12);
  EXPECT_EQ(usage->completion_tokens, 14);  // reasoning counts as completion, as OpenAI's does
  EXPECT_EQ(usage->cached_tokens, 3);
  EXPECT_EQ(usage->reasoning_tokens, 10);

  auto plain = gemini::usageCounts(json{{"promptTokenCount", 5}, {"candidatesTokenCount", 3}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, (Usage{.prompt_tokens = 5, .completion_tokens = 3}));  // nothing invented

  EXPECT_FALSE(gemini::usageCounts(json::object()));
  EXPECT_FALSE(gemini::usageCounts(json("not an object")));
  EXPECT_FALSE(gemini::usageCounts(json{{"promptTokenCount", "12"}}));
}

TEST(GoogleUsageTest, ChatAnswerReportsUsage) {
  RequestHolder holder(Endpoint::kChatCompletions, chatBody());
  auto mapped = GoogleAdapter().mapResponse(
      holder.request, googleTarget(), {200, "application/json", readFixture("response_text.json")});
  ASSERT_EQ(mapped.status, 200);
  ASSERT_TRUE(mapped.usage);
  EXPECT_EQ(*mapped.usage, (Usage{.prompt_tokens = 12,
                                  .completion_tokens = 14,
                                  .cached_tokens = 3,
                                  .reasoning_tokens = 10}));
  // The counts the gateway sees are the ones the client reads.
  EXPECT_EQ(usageFromOpenAi(json::parse(mapped.body)["usage"])->completion_tokens, 14);

  auto tools = GoogleAdapter().mapResponse(
      holder.request, googleTarget(),
      {200, "application/json", readFixture("response_tool_call.json")});
  ASSERT_TRUE(tools.usage);
  EXPECT_EQ(*tools.usage, (Usage{.prompt_tokens = 30, .completion_tokens = 8}));

  auto blocked =
      GoogleAdapter().mapResponse(holder.request, googleTarget(),
                                  {200, "application/json", readFixture("response_blocked.json")});
  ASSERT_TRUE(blocked.usage);
  EXPECT_EQ(*blocked.usage, (Usage{.prompt_tokens = 9}));
}

TEST(GoogleUsageTest, NoUsageWithoutMetadataOrOnErrors) {
  RequestHolder holder(Endpoint::kChatCompletions, chatBody());
  auto bare = GoogleAdapter().mapResponse(
      holder.request, googleTarget(),
      {200, "application/json", R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})"});
  ASSERT_EQ(bare.status, 200);
  EXPECT_FALSE(bare.usage);
  EXPECT_EQ(json::parse(bare.body)["usage"]["total_tokens"], 0);  // the client still gets zeros

  auto error = GoogleAdapter().mapResponse(
      holder.request, googleTarget(), {429, "application/json", readFixture("error_429.json")});
  EXPECT_EQ(error.status, 429);
  EXPECT_FALSE(error.usage);
  auto garbage =
      GoogleAdapter().mapResponse(holder.request, googleTarget(), {200, "text/html", "<html>"});
  EXPECT_EQ(garbage.status, 502);
  EXPECT_FALSE(garbage.usage);
}

TEST(GoogleUsageTest, EmbeddingsReportNoCounts) {
  RequestHolder holder(Endpoint::kEmbeddings, {{"model", "text-embedding-004"}, {"input", "x"}});
  auto mapped = GoogleAdapter().mapResponse(
      holder.request, googleTarget(), {200, "application/json", readFixture("embed_single.json")});
  ASSERT_EQ(mapped.status, 200);
  EXPECT_FALSE(mapped.usage);  // Gemini's embedContent gives no token counts
}

TEST(GoogleUsageTest, StreamReportsTheLastUsageWhateverTheClientAsked) {
  for (bool include_usage : {false, true}) {
    bool done = false;
    auto usage = streamUsage(include_usage, readFixture("stream_text.sse"), &done);
    EXPECT_TRUE(done);
    ASSERT_TRUE(usage) << include_usage;
    EXPECT_EQ(usage->prompt_tokens, 5);
    EXPECT_EQ(usage->completion_tokens, 3);
  }
  bool done = false;
  auto thoughts = streamUsage(
      false,
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"finishReason\":"
      "\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":2,\"candidatesTokenCount\":3,"
      "\"thoughtsTokenCount\":4,\"cachedContentTokenCount\":1}}\n\n",
      &done);
  ASSERT_TRUE(thoughts);
  EXPECT_EQ(
      *thoughts,
      (Usage{
          .prompt_tokens = 2, .completion_tokens = 7, .cached_tokens = 1, .reasoning_tokens = 4}));
}

TEST(GoogleUsageTest, StreamWithoutUsageReportsNone) {
  bool done = false;
  auto usage = streamUsage(
      true,
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"finishReason\":"
      "\"STOP\"}]}\n\n",
      &done);
  EXPECT_TRUE(done);
  EXPECT_FALSE(usage);

  RequestHolder holder(Endpoint::kChatCompletions, chatBody(true));
  auto transformer = GoogleAdapter().makeStreamTransformer(holder.request, googleTarget());
  ASSERT_TRUE(transformer);
  EXPECT_FALSE(transformer->usage());  // nothing before the upstream reports it
}

}  // namespace
}  // namespace portico::providers
