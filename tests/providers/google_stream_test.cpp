#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "google/google_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("google", name);
}

// Splits the client SSE into its data payloads.
std::vector<std::string> dataPayloads(const std::string& sse) {
  return portico::testing::strictSsePayloads(sse);
}

// Runs a transformer over `input` cut into the given pieces.
std::string run(const std::string& input,
                const std::vector<std::size_t>& cuts,
                bool include_usage = false,
                bool complete = true) {
  json body = {{"model", "gemini-2.0-flash"}, {"stream", true}};
  if (include_usage) {
    body["stream_options"] = {{"include_usage", true}};
  }
  ClientRequest request;
  request.endpoint = Endpoint::kChatCompletions;
  request.body = &body;
  request.stream = true;
  request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  Target target;
  target.provider = "google";
  target.api_key = "AIza-test-key";
  // Through the adapter's call, which names the stream.
  auto transformer = GoogleAdapter().makeStreamTransformer(request, target);
  std::string out;
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    transformer->feed(std::string_view(input).substr(start, cut - start), out);
    start = cut;
  }
  transformer->feed(std::string_view(input).substr(start), out);
  transformer->finish(complete, out);
  return out;
}

// The chunks without their random id, for comparing runs.
std::vector<json> normalised(const std::string& sse) {
  std::vector<json> out;
  for (const auto& payload : dataPayloads(sse)) {
    if (payload == "[DONE]") {
      out.push_back("[DONE]");
      continue;
    }
    json chunk = json::parse(payload);
    chunk.erase("id");
    if (chunk.contains("choices")) {
      for (auto& choice : chunk["choices"]) {
        if (choice["delta"].contains("tool_calls")) {
          for (auto& call : choice["delta"]["tool_calls"]) {
            call.erase("id");
          }
        }
      }
    }
    out.push_back(std::move(chunk));
  }
  return out;
}

TEST(GoogleStreamTest, TextStreamChunks) {
  std::string sse = run(readFixture("stream_text.sse"), {});
  auto payloads = dataPayloads(sse);
  ASSERT_EQ(payloads.size(), 5u) << sse;
  std::string id = json::parse(payloads[0])["id"];
  EXPECT_TRUE(id.starts_with("portico-"));
  std::string text;
  for (std::size_t i = 0; i < 4; ++i) {
    json chunk = json::parse(payloads[i]);
    EXPECT_EQ(chunk["id"], id);  // one id for the whole stream
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["model"], "gemini-2.0-flash-001");
    EXPECT_EQ(chunk["provider"], "google");
    EXPECT_EQ(chunk["created"], 1700000000);
    EXPECT_EQ(chunk["choices"][0]["index"], 0);
    if (chunk["choices"][0]["delta"].contains("content")) {
      text += chunk["choices"][0]["delta"]["content"].get<std::string>();
    }
  }
  EXPECT_EQ(json::parse(payloads[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_FALSE(json::parse(payloads[1])["choices"][0]["delta"].contains("role"));
  EXPECT_EQ(text, "Hello, world!");
  json last = json::parse(payloads[3]);
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(last["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(last["usage"]["completion_tokens"], 3);
  EXPECT_EQ(last["usage"]["total_tokens"], 8);
  EXPECT_EQ(payloads[4], "[DONE]");
}

TEST(GoogleStreamTest, IncludeUsageAddsUsageChunkWithEmptyChoices) {
  auto payloads = dataPayloads(run(readFixture("stream_text.sse"), {}, true));
  ASSERT_EQ(payloads.size(), 6u);
  json finish = json::parse(payloads[3]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(finish.contains("usage"));
  json usage = json::parse(payloads[4]);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["total_tokens"], 8);
  EXPECT_EQ(payloads[5], "[DONE]");
}

TEST(GoogleStreamTest, ToolCallStream) {
  auto payloads = dataPayloads(run(readFixture("stream_tool_call.sse"), {}));
  ASSERT_EQ(payloads.size(), 4u);
  json first = json::parse(payloads[0]);
  const json& delta = first["choices"][0]["delta"];
  EXPECT_EQ(delta["role"], "assistant");
  EXPECT_TRUE(delta["content"].is_null());
  ASSERT_EQ(delta["tool_calls"].size(), 1u);
  EXPECT_EQ(delta["tool_calls"][0]["index"], 0);
  EXPECT_TRUE(delta["tool_calls"][0]["id"].get<std::string>().starts_with("portico-"));
  EXPECT_EQ(delta["tool_calls"][0]["type"], "function");
  EXPECT_EQ(delta["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(delta["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  json second = json::parse(payloads[1]);
  EXPECT_EQ(second["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
  EXPECT_EQ(second["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "get_time");
  json finish = json::parse(payloads[2]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(finish["usage"]["total_tokens"], 30);
  EXPECT_EQ(payloads[3], "[DONE]");
}

TEST(GoogleStreamTest, EverySplitGivesTheSameChunks) {
  for (const char* name : {"stream_text.sse", "stream_tool_call.sse", "stream_error.sse"}) {
    std::string input = readFixture(name);
    auto expected = normalised(run(input, {}));
    for (std::size_t at = 0; at <= input.size(); ++at) {
      ASSERT_EQ(normalised(run(input, {at})), expected) << name << " split at " << at;
    }
    std::vector<std::size_t> bytes;
    for (std::size_t at = 1; at < input.size(); ++at) {
      bytes.push_back(at);
    }
    EXPECT_EQ(normalised(run(input, bytes)), expected) << name << " byte by byte";
  }
}

TEST(GoogleStreamTest, RandomPiecesGiveTheSameChunks) {
  std::mt19937 rng(42);
  std::string input = readFixture("stream_text.sse");
  auto expected = normalised(run(input, {}));
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (true) {
      at += 1 + rng() % 17;
      if (at >= input.size()) {
        break;
      }
      cuts.push_back(at);
    }
    ASSERT_EQ(normalised(run(input, cuts)), expected) << "round " << round;
  }
}

TEST(GoogleStreamTest, MidStreamErrorBecomesErrorEventAndStops) {
  auto payloads = dataPayloads(run(readFixture("stream_error.sse"), {}));
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(json::parse(payloads[0])["choices"][0]["delta"]["content"], "Partial");
  json error = json::parse(payloads[1]);
  EXPECT_EQ(error["error"]["message"],
            "google error: The model is overloaded. Please try again later.");
  EXPECT_EQ(error["error"]["type"], "UNAVAILABLE");
  EXPECT_EQ(error["error"]["code"], "503");
  EXPECT_EQ(error["provider"], "google");
}

TEST(GoogleStreamTest, BrokenUpstreamGivesErrorEventWithoutDone) {
  std::string input = readFixture("stream_text.sse");
  std::string cut = input.substr(0, input.find("data:", 10));  // only the first event
  auto payloads = dataPayloads(run(cut, {}, false, false));
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_TRUE(json::parse(payloads[1]).contains("error"));
  for (const auto& p : payloads) {
    EXPECT_NE(p, "[DONE]");
  }
}

TEST(GoogleStreamTest, GarbageEventIsAnErrorNotACrash) {
  auto payloads = dataPayloads(run("data: {not json\n\n", {}));
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_TRUE(json::parse(payloads[0]).contains("error"));
  auto empty = dataPayloads(run("", {}));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(json::parse(empty[0]).contains("error"));
}

TEST(GoogleStreamTest, BlockedPromptInStream) {
  auto payloads =
      dataPayloads(run("data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{"
                       "\"promptTokenCount\":4,\"totalTokenCount\":4}}\r\n\r\n",
                       {}));
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_EQ(json::parse(payloads[0])["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(json::parse(payloads[1])["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(payloads[2], "[DONE]");
}

}  // namespace
}  // namespace portico::providers
