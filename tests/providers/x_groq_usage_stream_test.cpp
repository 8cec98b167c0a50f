#include "openai_compatible/x_groq_usage_stream.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

// What Groq streams: content chunks, then a finishing chunk whose usage sits in x_groq.
const std::string kGroqStream =
    "data: {\"id\":\"g1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"g1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"llama\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"r\","
    "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}}\n\n"
    "data: [DONE]\n\n";

std::vector<json> run(bool include_usage, std::size_t piece) {
  auto transformer = makeXGroqUsageTransformer("groq", include_usage);
  std::string out;
  for (const auto& part : testing::splitIntoPieces(kGroqStream, piece)) {
    transformer->feed(part, out);
  }
  transformer->finish(true, out);
  std::vector<json> chunks;
  for (const auto& data : testing::strictSsePayloads(out)) {
    chunks.push_back(data == "[DONE]" ? json(data) : json::parse(data));
  }
  return chunks;
}

TEST(XGroqUsageStream, UsageMovesToTheFinishingChunkOnce) {
  for (std::size_t piece : {1u, 7u, 1000u}) {
    auto chunks = run(false, piece);
    ASSERT_EQ(chunks.size(), 3u) << piece;
    EXPECT_FALSE(chunks[0].contains("usage"));
    EXPECT_EQ(chunks[1]["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(chunks[1]["usage"]["total_tokens"], 5);
    EXPECT_EQ(chunks[2], "[DONE]");
  }
}

TEST(XGroqUsageStream, IncludeUsageGetsOneFinalChunkWithoutChoices) {
  auto chunks = run(true, 11);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_FALSE(chunks[1].contains("usage"));
  EXPECT_EQ(chunks[2]["choices"], json::array());
  EXPECT_EQ(chunks[2]["usage"]["prompt_tokens"], 3);
  EXPECT_EQ(chunks[2]["id"], "g1");
  EXPECT_FALSE(chunks[2].contains("x_groq"));
  EXPECT_EQ(chunks[3], "[DONE]");
}

TEST(XGroqUsageStream, ReportsTheUsageWhateverTheClientAsked) {
  for (bool include_usage : {false, true}) {
    auto transformer = makeXGroqUsageTransformer("groq", include_usage);
    std::string out;
    transformer->feed(kGroqStream, out);
    transformer->finish(true, out);
    EXPECT_EQ(transformer->usage(), (Usage{.prompt_tokens = 3, .completion_tokens = 2}))
        << include_usage;
  }
  auto none = makeXGroqUsageTransformer("groq", false);
  std::string out;
  none->feed(kGroqStream.substr(0, kGroqStream.find("x_groq")), out);
  EXPECT_FALSE(none->usage().has_value());
}

TEST(XGroqUsageStream, ABrokenStreamEndsWithAnErrorEventAndNoDone) {
  auto transformer = makeXGroqUsageTransformer("groq", false);
  std::string out;
  transformer->feed(kGroqStream.substr(0, 60), out);
  transformer->finish(false, out);
  EXPECT_NE(out.find("event: error\ndata: {\"error\""), std::string::npos) << out;
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace portico::providers
