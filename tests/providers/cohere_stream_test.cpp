// cohere: Cohere v2 chat SSE -> chat.completion.chunk SSE, fed in every split; no sockets.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cohere/cohere_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readCohereSse(const std::string& name) {
  return portico::testing::readTestData("cohere", name);
}

struct StreamCase {
  bool strict = true;
  bool include_usage = false;

  std::unique_ptr<StreamTransformer> make() const {
    json body = {{"model", "command-a-03-2025"}, {"stream", true}};
    if (include_usage) {
      body["stream_options"] = {{"include_usage", true}};
    }
    ClientRequest request;
    request.body = &body;
    request.stream = true;
    request.now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
    Target target;
    target.provider = "cohere";
    target.strict_open_ai_compliance = strict;
    return makeCohereChatStream(request, target);  // keeps nothing of the request
  }

  // Feeds `input` in the given pieces, then finish(complete).
  std::string run(const std::vector<std::string_view>& pieces, bool complete = true) const {
    return runWith(*make(), pieces, complete);
  }

  static std::string runWith(StreamTransformer& transformer,
                             const std::vector<std::string_view>& pieces,
                             bool complete = true) {
    std::string out;
    for (auto piece : pieces) {
      transformer.feed(piece, out);
    }
    transformer.finish(complete, out);
    return out;
  }
  std::string whole(std::string_view input, bool complete = true) const {
    return run({input}, complete);
  }
};

// The "data:" payloads of an SSE body, each followed by a blank line.
std::vector<std::string> payloads(const std::string& sse) {
  return portico::testing::strictSsePayloads(sse);
}

std::vector<json> chunksOf(const std::string& sse) {
  std::vector<json> out;
  for (const auto& payload : payloads(sse)) {
    out.push_back(payload == "[DONE]" ? json("[DONE]") : json::parse(payload));
  }
  return out;
}

void expectEverySplitGivesSame(const StreamCase& c, const std::string& input) {
  const std::string expected = c.whole(input);
  for (std::size_t i = 0; i <= input.size(); ++i) {
    std::string_view all = input;
    ASSERT_EQ(c.run({all.substr(0, i), all.substr(i)}), expected) << "split at " << i;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) {
    bytes.push_back(std::string_view(input).substr(i, 1));
  }
  EXPECT_EQ(c.run(bytes), expected) << "byte by byte";
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string_view> pieces;
    std::size_t pos = 0;
    while (pos < input.size()) {
      std::size_t n = std::uniform_int_distribution<std::size_t>(1, 17)(rng);
      pieces.push_back(std::string_view(input).substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(c.run(pieces), expected) << "random round " << round;
  }
}

std::string toCrlf(const std::string& input) {
  std::string out;
  for (char ch : input) {
    if (ch == '\n') {
      out += "\r\n";
    } else {
      out += ch;
    }
  }
  return out;
}

TEST(CohereStream, TextStream) {
  StreamCase c;
  auto chunks = chunksOf(c.whole(readCohereSse("stream_text.sse")));
  ASSERT_EQ(chunks.size(), 6u);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i]["id"], "29f14a5a-11de-4cae-9800-25e4747408ea");
    EXPECT_EQ(chunks[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(chunks[i]["created"], 1700000000);
    EXPECT_EQ(chunks[i]["model"], "command-a-03-2025");
    EXPECT_EQ(chunks[i]["provider"], "cohere");
    EXPECT_EQ(chunks[i]["choices"][0]["index"], 0);
  }
  EXPECT_EQ(chunks[0]["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(chunks[1]["choices"][0]["delta"], json({{"content", "Hello"}}));
  EXPECT_EQ(chunks[2]["choices"][0]["delta"], json({{"content", ", wörld"}}));
  EXPECT_EQ(chunks[3]["choices"][0]["delta"], json({{"content", "!"}}));
  EXPECT_TRUE(chunks[3]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(chunks[4]["choices"][0]["delta"], json::object());
  EXPECT_EQ(chunks[4]["choices"][0]["finish_reason"], "stop");
  // Without include_usage the usage rides on the finish chunk (as Portkey does).
  EXPECT_EQ(chunks[4]["usage"],
            json({{"prompt_tokens", 69}, {"completion_tokens", 4}, {"total_tokens", 73}}));
  EXPECT_EQ(chunks[5], "[DONE]");
}

TEST(CohereStream, IncludeUsageGivesOpenAiUsageChunk) {
  StreamCase c;
  c.include_usage = true;
  auto chunks = chunksOf(c.whole(readCohereSse("stream_text.sse")));
  ASSERT_EQ(chunks.size(), 7u);
  EXPECT_EQ(chunks[4]["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(chunks[4].contains("usage"));
  EXPECT_EQ(chunks[5]["choices"], json::array());
  EXPECT_EQ(chunks[5]["usage"]["total_tokens"], 73);
  EXPECT_EQ(chunks[6], "[DONE]");
}

TEST(CohereStream, ToolCallStream) {
  StreamCase c;
  auto chunks = chunksOf(c.whole(readCohereSse("stream_tool_calls.sse")));
  // role, start 0, delta 0 x2, start 1, delta 1, finish, [DONE]; the tool plan is dropped.
  ASSERT_EQ(chunks.size(), 8u);
  EXPECT_EQ(chunks[1]["choices"][0]["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"id":"get_weather_nsz5zm3w56q3","type":"function",
                             "function":{"name":"get_weather","arguments":""}}])"));
  EXPECT_EQ(chunks[2]["choices"][0]["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"function":{"arguments":"{\"location\":"}}])"));
  EXPECT_EQ(chunks[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            "\"Madrid\"}");
  EXPECT_EQ(chunks[4]["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
  EXPECT_EQ(chunks[4]["choices"][0]["delta"]["tool_calls"][0]["id"], "get_weather_0rpvpnt2ne2f");
  EXPECT_EQ(chunks[5]["choices"][0]["delta"]["tool_calls"][0],
            json::parse(R"({"index":1,"function":{"arguments":"{\"location\":\"Brasilia\"}"}})"));
  EXPECT_EQ(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(chunks[6]["usage"]["prompt_tokens"], 913);
  EXPECT_EQ(chunks[7], "[DONE]");
}

TEST(CohereStream, NonStrictKeepsToolPlanAndRawFinishReason) {
  StreamCase c;
  c.strict = false;
  auto chunks = chunksOf(c.whole(readCohereSse("stream_tool_calls.sse")));
  ASSERT_EQ(chunks.size(), 9u);
  EXPECT_EQ(chunks[1]["choices"][0]["delta"]["tool_plan"], "I will check");
  EXPECT_EQ(chunks[7]["choices"][0]["finish_reason"], "TOOL_CALL");
}

TEST(CohereStream, EverySplitGivesTheSameOutput) {
  StreamCase c;
  expectEverySplitGivesSame(c, readCohereSse("stream_text.sse"));
  expectEverySplitGivesSame(c, readCohereSse("stream_tool_calls.sse"));
  expectEverySplitGivesSame(c, readCohereSse("stream_error_finish.sse"));
}

TEST(CohereStream, CrlfFramingKeepAlivesAndUnknownEventsAreTolerated) {
  StreamCase c;
  const std::string plain = readCohereSse("stream_text.sse");
  std::string noisy = ": keep-alive\n\n" + plain;
  noisy.insert(noisy.find("event: content-end"),
               "event: citation-start\ndata: {\"type\":\"citation-start\",\"index\":0}\n\n"
               "event: debug\ndata: {\"type\":\"debug\",\"prompt\":\"x\"}\n\n"
               "data: not json\n\n");
  EXPECT_EQ(c.whole(toCrlf(noisy)), c.whole(plain));
  expectEverySplitGivesSame(c, toCrlf(noisy));
}

TEST(CohereStream, FinishReasonErrorBecomesAnErrorEvent) {
  StreamCase c;
  auto out = c.whole(readCohereSse("stream_error_finish.sse"));
  auto chunks = chunksOf(out);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1]["choices"][0]["delta"]["content"], "Par");
  EXPECT_EQ(chunks[2]["provider"], "cohere");
  EXPECT_EQ(chunks[2]["error"]["message"], "cohere error: internal model failure");
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_EQ(out.find("finish_reason\":\"stop"), std::string::npos);
}

TEST(CohereStream, ErrorEventStopsTheStream) {
  StreamCase c;
  std::string input =
      "event: message-start\ndata: {\"id\":\"a\",\"type\":\"message-start\"}\n\n"
      "event: error\ndata: {\"type\":\"error\",\"message\":\"rate limited\"}\n\n"
      "event: content-delta\ndata: {\"type\":\"content-delta\",\"delta\":{\"message\":"
      "{\"content\":{\"text\":\"late\"}}}}\n\n";
  auto chunks = chunksOf(c.whole(input));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1]["error"]["message"], "cohere error: rate limited");
}

TEST(CohereStream, BrokenOrTruncatedUpstreamEndsWithAnError) {
  StreamCase c;
  std::string text = readCohereSse("stream_text.sse");
  std::string cut = text.substr(0, text.find("event: message-end"));
  for (bool complete : {false, true}) {
    auto out = c.whole(cut, complete);
    auto chunks = chunksOf(out);
    ASSERT_EQ(chunks.size(), 5u);
    EXPECT_TRUE(chunks[4].contains("error")) << out;
    EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  }
  // An unterminated final event is still understood at the end.
  std::string unterminated = text.substr(0, text.size() - 2);
  EXPECT_EQ(c.whole(unterminated), c.whole(text));
}

TEST(CohereStream, ReportsUsageWhateverTheClientAsked) {
  for (bool include_usage : {false, true}) {
    StreamCase c;
    c.include_usage = include_usage;
    auto transformer = c.make();
    const std::string text = readCohereSse("stream_text.sse");
    const std::string cut = text.substr(0, text.find("event: message-end"));
    std::string out;
    transformer->feed(cut, out);
    EXPECT_FALSE(transformer->usage().has_value());  // message-end carries it
    transformer->feed(text.substr(cut.size()), out);
    transformer->finish(true, out);
    EXPECT_EQ(transformer->usage(), (Usage{.prompt_tokens = 69, .completion_tokens = 4}))
        << include_usage;
  }
}

TEST(CohereStream, FallbackIdUntilMessageStartNamesOne) {
  StreamCase c;
  auto chunks = chunksOf(
      c.whole("event: content-delta\ndata: {\"type\":\"content-delta\",\"delta\":{\"message\":"
              "{\"content\":{\"text\":\"x\"}}}}\n\n"
              "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":"
              "{\"finish_reason\":\"COMPLETE\"}}\n\n"));
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks[0]["id"], "cohere-1700000000123");
  EXPECT_EQ(chunks.back(), "[DONE]");
}

TEST(CohereStream, AdapterMakesTransformerForChatOnly) {
  CohereAdapter adapter;
  json body = {{"model", "m"}, {"stream", true}};
  HeaderList headers;
  ClientRequest request;
  request.headers = &headers;
  request.body = &body;
  request.stream = true;
  Target target;
  EXPECT_NE(adapter.makeStreamTransformer(request, target), nullptr);
  request.endpoint = Endpoint::kPassthrough;
  EXPECT_EQ(adapter.makeStreamTransformer(request, target), nullptr);
}

}  // namespace
}  // namespace portico::providers
