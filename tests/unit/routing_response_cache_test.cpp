#include <gtest/gtest.h>

#include "routing/response_cache.hpp"

namespace portico::routing {
namespace {

using std::chrono::seconds;

struct FakeClock {
  MemoryResponseCache::Clock::time_point now{};
  std::function<MemoryResponseCache::Clock::time_point()> fn() {
    return [this] { return now; };
  }
};

CachedResponse answer(std::string body) {
  return CachedResponse{200, "application/json", std::move(body), "openai"};
}

TEST(RoutingResponseCache, StoresAndExpires) {
  FakeClock clock;
  MemoryResponseCache cache(1 << 20, clock.fn());
  EXPECT_FALSE(cache.get("k"));
  cache.put("k", answer("{\"a\":1}"), seconds(10));
  auto hit = cache.get("k");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body, "{\"a\":1}");
  EXPECT_EQ(hit->provider, "openai");
  clock.now += seconds(9);
  EXPECT_TRUE(cache.get("k"));
  clock.now += seconds(1);
  EXPECT_FALSE(cache.get("k"));
  EXPECT_EQ(cache.entryCount(), 0u);
  EXPECT_EQ(cache.sizeBytes(), 0u);
}

TEST(RoutingResponseCache, ZeroMaxAgeStoresNothing) {
  MemoryResponseCache cache(1 << 20);
  cache.put("k", answer("x"), seconds(0));
  EXPECT_FALSE(cache.get("k"));
}

TEST(RoutingResponseCache, EvictsLeastRecentlyUsedWithinTheByteBudget) {
  // Room for about three 1000-byte bodies.
  MemoryResponseCache cache(3 * 1400);
  const std::string body(1000, 'x');
  cache.put("a", answer(body), seconds(60));
  cache.put("b", answer(body), seconds(60));
  cache.put("c", answer(body), seconds(60));
  ASSERT_TRUE(cache.get("a"));  // now "b" is the least recently used
  cache.put("d", answer(body), seconds(60));
  EXPECT_TRUE(cache.get("a"));
  EXPECT_FALSE(cache.get("b"));
  EXPECT_TRUE(cache.get("c"));
  EXPECT_TRUE(cache.get("d"));
  EXPECT_LE(cache.sizeBytes(), 3u * 1400u);
}

TEST(RoutingResponseCache, OversizedEntriesAreNotStored) {
  MemoryResponseCache cache(512);
  cache.put("big", answer(std::string(1000, 'x')), seconds(60));
  EXPECT_FALSE(cache.get("big"));
  EXPECT_EQ(cache.sizeBytes(), 0u);
}

TEST(RoutingResponseCache, ReplacingAnEntryKeepsTheAccounting) {
  MemoryResponseCache cache(1 << 20);
  cache.put("k", answer("one"), seconds(60));
  const auto size = cache.sizeBytes();
  cache.put("k", answer("two"), seconds(60));
  EXPECT_EQ(cache.sizeBytes(), size);
  EXPECT_EQ(cache.get("k")->body, "two");
  EXPECT_EQ(cache.entryCount(), 1u);
}

TEST(RoutingResponseCache, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RoutingResponseCache, KeyIsCanonicalAndSeparatesTenants) {
  auto body = nlohmann::json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  auto reordered =
      nlohmann::json::parse(R"({"messages":[{"content":"hi","role":"user"}],"model":"m"})");
  const auto key = responseCacheKey("openai", "sk-1", "/chat/completions", body);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, responseCacheKey("openai", "sk-1", "/chat/completions", reordered));
  EXPECT_NE(key, responseCacheKey("openai", "sk-2", "/chat/completions", body));
  EXPECT_NE(key, responseCacheKey("groq", "sk-1", "/chat/completions", body));
  EXPECT_NE(key, responseCacheKey("openai", "sk-1", "/completions", body));
  body["temperature"] = 0;
  EXPECT_NE(key, responseCacheKey("openai", "sk-1", "/chat/completions", body));
  EXPECT_EQ(key.find("sk-1"), std::string::npos);
}

}  // namespace
}  // namespace portico::routing

namespace portico::routing {
namespace {

TEST(RoutingResponseCache, CachedChatCompletionReplaysAsSse) {
  const std::string completion = R"({"id":"chatcmpl-1","object":"chat.completion","created":7,
    "model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello",
    "tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
    "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":1,
    "total_tokens":4}})";
  const std::string sse = chatCompletionAsSse(completion);
  ASSERT_TRUE(sse.ends_with("data: [DONE]\n\n"));
  std::vector<nlohmann::json> events;
  std::size_t pos = 0;
  while ((pos = sse.find("data: {", pos)) != std::string::npos) {
    auto end = sse.find("\n\n", pos);
    events.push_back(nlohmann::json::parse(sse.substr(pos + 6, end - pos - 6)));
    pos = end;
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(events[0]["id"], "chatcmpl-1");
  EXPECT_EQ(events[0]["model"], "gpt-4o-mini");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["content"], "Hello");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
  EXPECT_TRUE(events[0]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(events[1]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(events[1]["choices"][0]["delta"], nlohmann::json::object());
  EXPECT_EQ(events[1]["usage"]["total_tokens"], 4);
}

TEST(RoutingResponseCache, NonChatBodiesReplayAsAnErrorEvent) {
  const std::string sse = chatCompletionAsSse("{\"data\":[]}");
  EXPECT_NE(sse.find("\"error\""), std::string::npos);
  EXPECT_EQ(sse.find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace portico::routing
