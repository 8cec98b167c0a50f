// The routing plan end to end: fallback, load balancing, conditional routing, retries, per-attempt
// timeouts and the response cache, through the real gateway into fake OpenAI upstreams that
// fail on cue.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]})";
const std::string kStreamBody =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello"}]})";

std::string completion(const std::string& text) {
  return json{{"id", "chatcmpl-" + text},
              {"object", "chat.completion"},
              {"created", 1},
              {"model", "gpt-4o-mini"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", text}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 1}, {"total_tokens", 2}}}}
      .dump();
}

std::string openAiError(const std::string& message) {
  return json{
      {"error",
       {{"message", message}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}}
      .dump();
}

// A fake OpenAI that checks what the real one would and answers from a script: the i-th call
// (0-based) gets script(i).
class ScriptedOpenAi {
 public:
  explicit ScriptedOpenAi(std::function<FakeResponse(std::size_t, const RecordedRequest&)> script)
      : script_(std::move(script)),
        upstream_([this](const RecordedRequest& request) { return answer(request); }) {}

  json target(json extra = json::object()) const {
    json node = {{"provider", "openai"},
                 {"api_key", "sk-test"},
                 {"custom_host", upstream_.baseUrl() + "/v1"}};
    for (auto& [key, value] : extra.items()) node[key] = value;
    return node;
  }
  std::size_t calls() const { return calls_.load(); }
  FakeUpstream& upstream() { return upstream_; }

 private:
  FakeResponse answer(const RecordedRequest& request) {
    const std::size_t i = calls_.fetch_add(1);
    if (request.path() != "/v1/chat/completions" || request.header("authorization").empty()) {
      return FakeResponse::json(404, openAiError("unexpected request " + request.target));
    }
    return script_(i, request);
  }

  std::function<FakeResponse(std::size_t, const RecordedRequest&)> script_;
  std::atomic<std::size_t> calls_{0};
  FakeUpstream upstream_;
};

FakeResponse ok(const std::string& text) { return FakeResponse::json(200, completion(text)); }

FakeResponse status(int code, Headers headers = {}) {
  auto response = FakeResponse::json(code, openAiError("status " + std::to_string(code)));
  response.headers = std::move(headers);
  return response;
}

FakeResponse sseAnswer(const std::string& text) {
  json chunk = {
      {"id", "c1"},
      {"object", "chat.completion.chunk"},
      {"created", 1},
      {"model", "gpt-4o-mini"},
      {"choices", {{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}}}};
  return FakeResponse::sse({"data: " + chunk.dump() + "\n\n", "data: [DONE]\n\n"});
}

ServerOptions fastRetries() {
  ServerOptions options = TestGateway::defaultOptions();
  options.retry_delay_scale = 0.001;  // 1 s of backoff becomes 1 ms
  return options;
}

HttpResponse post(unsigned short port,
                  const json& config,
                  const std::string& body = kChatBody,
                  Headers extra = {}) {
  Headers headers = {{"content-type", "application/json"}, {"x-portkey-config", config.dump()}};
  for (auto& header : extra) headers.push_back(header);
  return postJson(port, "/v1/chat/completions", headers, body);
}

std::string contentOf(const HttpResponse& response) {
  auto body = json::parse(response.body, nullptr, false);
  if (body.is_discarded()) return "<not json: " + response.body + ">";
  return body["choices"][0]["message"].value("content", "");
}

json fallback(std::vector<json> targets, json strategy_extra = json::object()) {
  json strategy = {{"mode", "fallback"}};
  for (auto& [key, value] : strategy_extra.items()) strategy[key] = value;
  return {{"strategy", strategy}, {"targets", targets}};
}

// ---------------------------------------------------------------------------------- fallback

TEST(RoutingIntegration, FallbackMovesOnWhenTheFirstTargetFails) {
  ScriptedOpenAi first([](std::size_t, const RecordedRequest&) { return status(503); });
  ScriptedOpenAi second([](std::size_t, const RecordedRequest&) { return ok("from second"); });
  TestGateway gateway;

  auto response = post(gateway.port(), fallback({first.target(), second.target()}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(contentOf(response), "from second");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(response.header("x-portkey-provider"), "openai");
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "0");
  EXPECT_EQ(first.calls(), 1u);
  EXPECT_EQ(second.calls(), 1u);
}

TEST(RoutingIntegration, FallbackOnStatusCodesRestrictsWhenToMoveOn) {
  ScriptedOpenAi first(
      [](std::size_t i, const RecordedRequest&) { return i == 0 ? status(500) : status(429); });
  ScriptedOpenAi second([](std::size_t, const RecordedRequest&) { return ok("second"); });
  TestGateway gateway;
  const json config = fallback({first.target(), second.target()}, {{"on_status_codes", {429}}});

  auto not_listed = post(gateway.port(), config);
  EXPECT_EQ(not_listed.status, 500);
  EXPECT_EQ(not_listed.header("x-portkey-last-used-option-index"), "config.targets[0]");
  EXPECT_EQ(second.calls(), 0u);

  auto listed = post(gateway.port(), config);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(second.calls(), 1u);
}

TEST(RoutingIntegration, WhenEveryTargetFailsTheLastAnswerIsReturned) {
  ScriptedOpenAi first([](std::size_t, const RecordedRequest&) { return status(500); });
  ScriptedOpenAi second([](std::size_t, const RecordedRequest&) { return status(401); });
  TestGateway gateway;

  auto response = post(gateway.port(), fallback({first.target(), second.target()}));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(json::parse(response.body)["error"]["message"], "openai error: status 401");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1]");
}

TEST(RoutingIntegration, RetriesRunInsideALeafBeforeTheFallback) {
  ScriptedOpenAi first([](std::size_t, const RecordedRequest&) { return status(503); });
  ScriptedOpenAi second([](std::size_t, const RecordedRequest&) { return ok("rescued"); });
  TestGateway gateway(fastRetries());
  json config = fallback({first.target({{"retry", {{"attempts", 2}}}}), second.target()});

  auto response = post(gateway.port(), config);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(contentOf(response), "rescued");
  EXPECT_EQ(first.calls(), 3u);  // the first try and two retries
  EXPECT_EQ(second.calls(), 1u);
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "0");
}

TEST(RoutingIntegration, NestedStrategiesReportTheDottedIndex) {
  ScriptedOpenAi broken([](std::size_t, const RecordedRequest&) { return status(500); });
  ScriptedOpenAi good([](std::size_t, const RecordedRequest&) { return ok("deep"); });
  TestGateway gateway;
  json inner = fallback({broken.target(), good.target()});
  inner["weight"] = 1;
  json config = {{"strategy", {{"mode", "loadbalance"}}},
                 {"targets",
                  {json{{"weight", 0},
                        {"provider", "openai"},
                        {"api_key", "x"},
                        {"custom_host", broken.upstream().baseUrl() + "/v1"}},
                   inner}}};

  auto response = post(gateway.port(), config);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(contentOf(response), "deep");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1].targets[1]");
}

// ------------------------------------------------------------------------ streams, timeouts

TEST(RoutingIntegration, StreamFallsBackWhenTheFirstTargetNeverAnswers) {
  ScriptedOpenAi dropped([](std::size_t, const RecordedRequest&) {
    FakeResponse response;
    response.close_without_response = true;
    return response;
  });
  ScriptedOpenAi failing([](std::size_t, const RecordedRequest&) { return status(500); });
  ScriptedOpenAi streaming([](std::size_t, const RecordedRequest&) { return sseAnswer("hi"); });
  TestGateway gateway;

  StreamingResponse stream(
      gateway.port(), "/v1/chat/completions",
      {{"content-type", "application/json"},
       {"x-portkey-config",
        fallback({dropped.target(), failing.target(), streaming.target()}).dump()}},
      kStreamBody);
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("x-portkey-last-used-option-index"), "config.targets[2]");
  auto events = sseData(stream.readAll());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "hi");
  EXPECT_EQ(events[1], "[DONE]");
  EXPECT_EQ(dropped.calls(), 1u);
  EXPECT_EQ(failing.calls(), 1u);
}

TEST(RoutingIntegration, StreamFallsBackWhenTheFirstTargetTimesOut) {
  ScriptedOpenAi slow([](std::size_t, const RecordedRequest&) {
    auto response = sseAnswer("late");
    response.delay_before_headers = 1500ms;
    return response;
  });
  ScriptedOpenAi streaming([](std::size_t, const RecordedRequest&) { return sseAnswer("fast"); });
  TestGateway gateway;
  json config = fallback({slow.target({{"request_timeout", 100}}), streaming.target()});

  StreamingResponse stream(
      gateway.port(), "/v1/chat/completions",
      {{"content-type", "application/json"}, {"x-portkey-config", config.dump()}}, kStreamBody);
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("x-portkey-last-used-option-index"), "config.targets[1]");
  auto events = sseData(stream.readAll());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], "fast");
}

TEST(RoutingIntegration, TimedOutAttemptFallsBack) {
  ScriptedOpenAi slow([](std::size_t, const RecordedRequest&) {
    auto response = ok("late");
    response.delay_before_headers = 1500ms;
    return response;
  });
  ScriptedOpenAi fast([](std::size_t, const RecordedRequest&) { return ok("fast"); });
  TestGateway gateway;

  // Alone, the slow target answers 408 with Portkey's message.
  auto alone = post(gateway.port(), slow.target({{"request_timeout", 100}}));
  EXPECT_EQ(alone.status, 408);
  EXPECT_EQ(json::parse(alone.body)["error"]["message"],
            "Request exceeded the timeout sent in the request: 100ms");

  auto response =
      post(gateway.port(), fallback({slow.target({{"request_timeout", 100}}), fast.target()}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(contentOf(response), "fast");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config.targets[1]");
}

// --------------------------------------------------------------------------- load balancing

TEST(RoutingIntegration, LoadBalanceFollowsTheWeights) {
  std::atomic<int> hits[3] = {0, 0, 0};
  ScriptedOpenAi a([&](std::size_t, const RecordedRequest&) {
    ++hits[0];
    return ok("a");
  });
  ScriptedOpenAi b([&](std::size_t, const RecordedRequest&) {
    ++hits[1];
    return ok("b");
  });
  ScriptedOpenAi c([&](std::size_t, const RecordedRequest&) {
    ++hits[2];
    return ok("c");
  });
  TestGateway gateway;
  json config = {
      {"strategy", {{"mode", "loadbalance"}}},
      {"targets",
       {a.target({{"weight", 0.7}}), b.target({{"weight", 0.3}}), c.target({{"weight", 0}})}}};

  constexpr int kRuns = 200;
  for (int i = 0; i < kRuns; ++i) {
    auto response = post(gateway.port(), config);
    ASSERT_EQ(response.status, 200) << response.body;
  }
  // 140 +- 30 is more than 4.5 standard deviations (sqrt(200 * 0.7 * 0.3) = 6.5).
  EXPECT_NEAR(hits[0].load(), 140, 30);
  EXPECT_NEAR(hits[1].load(), 60, 30);
  EXPECT_EQ(hits[2].load(), 0);
  EXPECT_EQ(hits[0] + hits[1], kRuns);
}

TEST(RoutingIntegration, LoadBalanceWithOnlyZeroWeightsIsAClean400) {
  ScriptedOpenAi a([](std::size_t, const RecordedRequest&) { return ok("a"); });
  TestGateway gateway;
  json config = {{"strategy", {{"mode", "loadbalance"}}},
                 {"targets", {a.target({{"weight", 0}}), a.target({{"weight", 0}})}}};
  auto response = post(gateway.port(), config);
  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(json::parse(response.body).contains("message"));
  EXPECT_EQ(a.calls(), 0u);
}

// ---------------------------------------------------------------------- conditional routing

TEST(RoutingIntegration, ConditionsRouteOnNestedMetadataAndParams) {
  ScriptedOpenAi pro([](std::size_t, const RecordedRequest&) { return ok("pro"); });
  ScriptedOpenAi mini([](std::size_t, const RecordedRequest&) { return ok("mini"); });
  ScriptedOpenAi basic([](std::size_t, const RecordedRequest&) { return ok("basic"); });
  TestGateway gateway;
  json config = {
      {"strategy",
       {{"mode", "conditional"},
        {"conditions",
         {{{"query", {{"metadata.org.plan.tier", {{"$eq", "pro"}}}}}, {"then", "pro-target"}},
          {{"query",
            {{"$or",
              {{{"params.model", {{"$regex", "^gpt-4o-mini"}}}}, {{"metadata.user", "vip"}}}}}},
           {"then", "mini-target"}}}},
        {"default", "basic-target"}}},
      {"targets",
       {pro.target({{"name", "pro-target"}}), mini.target({{"name", "mini-target"}}),
        basic.target({{"name", "basic-target"}})}}};

  auto nested = post(gateway.port(), config, kChatBody,
                     {{"x-portkey-metadata", R"({"org":{"plan":{"tier":"pro"}}})"}});
  EXPECT_EQ(contentOf(nested), "pro");
  EXPECT_EQ(nested.header("x-portkey-last-used-option-index"), "config.targets[0]");

  auto by_model = post(gateway.port(), config);
  EXPECT_EQ(contentOf(by_model), "mini");
  EXPECT_EQ(by_model.header("x-portkey-last-used-option-index"), "config.targets[1]");

  auto by_default = post(gateway.port(), config,
                         R"({"model":"gpt-4.1","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(contentOf(by_default), "basic");
  EXPECT_EQ(by_default.header("x-portkey-last-used-option-index"), "config.targets[2]");
}

TEST(RoutingIntegration, ConditionalRouterErrorsAre400sThatStopTheFallback) {
  ScriptedOpenAi a([](std::size_t, const RecordedRequest&) { return ok("a"); });
  TestGateway gateway;
  json bad_name = {{"strategy",
                    {{"mode", "conditional"},
                     {"conditions", {{{"query", {{"metadata.tier", "pro"}}}, {"then", "nope"}}}}}},
                   {"targets", {a.target({{"name", "a"}})}}};
  // Inside a fallback, the router error must not fall through to the next target.
  auto response = post(gateway.port(), fallback({bad_name, a.target()}), kChatBody,
                       {{"x-portkey-metadata", R"({"tier":"pro"})"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["message"],
            "Invalid target name found in the query router: nope");
  EXPECT_EQ(a.calls(), 0u);

  auto unresolved = post(gateway.port(), bad_name);
  EXPECT_EQ(unresolved.status, 400);
  EXPECT_EQ(json::parse(unresolved.body)["message"],
            "Query router did not resolve to any valid target");

  json bad_op = bad_name;
  bad_op["strategy"]["conditions"][0]["query"] = {{"metadata.tier", {{"$foo", 1}}}};
  auto op = post(gateway.port(), bad_op);
  EXPECT_EQ(op.status, 400);
  EXPECT_EQ(json::parse(op.body)["message"], "Unsupported operator used in the query router: $foo");

  json bad_regex = bad_name;
  bad_regex["strategy"]["conditions"][0]["query"] = {{"params.model", {{"$regex", "(["}}}};
  auto regex = post(gateway.port(), bad_regex);
  EXPECT_EQ(regex.status, 400);
  EXPECT_EQ(a.calls(), 0u);
}

// ---------------------------------------------------------------------------------- retries

TEST(RoutingIntegration, RetriesUntilSuccessAndReportsTheCount) {
  ScriptedOpenAi flaky(
      [](std::size_t i, const RecordedRequest&) { return i < 2 ? status(503) : ok("third time"); });
  TestGateway gateway(fastRetries());
  auto response = post(gateway.port(), flaky.target({{"retry", {{"attempts", 3}}}}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(contentOf(response), "third time");
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "2");
  EXPECT_EQ(flaky.calls(), 3u);
}

TEST(RoutingIntegration, ExhaustedRetriesReportMinusOne) {
  ScriptedOpenAi broken([](std::size_t, const RecordedRequest&) { return status(500); });
  TestGateway gateway(fastRetries());
  auto response = post(gateway.port(), broken.target({{"retry", {{"attempts", 2}}}}));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "-1");
  EXPECT_EQ(broken.calls(), 3u);
}

TEST(RoutingIntegration, UnlistedStatusIsNotRetried) {
  ScriptedOpenAi bad([](std::size_t, const RecordedRequest&) { return status(400); });
  TestGateway gateway(fastRetries());
  auto response = post(gateway.port(), bad.target({{"retry", {{"attempts", 3}}}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "0");
  EXPECT_EQ(bad.calls(), 1u);
}

TEST(RoutingIntegration, TimeoutsAreRetriedOnlyWhenListed) {
  ScriptedOpenAi slow([](std::size_t, const RecordedRequest&) {
    auto response = ok("late");
    response.delay_before_headers = 1000ms;
    return response;
  });
  TestGateway gateway(fastRetries());
  auto unlisted =
      post(gateway.port(), slow.target({{"request_timeout", 50}, {"retry", {{"attempts", 1}}}}));
  EXPECT_EQ(unlisted.status, 408);
  EXPECT_EQ(slow.calls(), 1u);

  auto listed =
      post(gateway.port(), slow.target({{"request_timeout", 50},
                                        {"retry", {{"attempts", 1}, {"on_status_codes", {408}}}}}));
  EXPECT_EQ(listed.status, 408);
  EXPECT_EQ(listed.header("x-portkey-retry-attempt-count"), "-1");
  EXPECT_EQ(slow.calls(), 3u);
}

TEST(RoutingIntegration, NetworkErrorsAreRetried) {
  ScriptedOpenAi dropping([](std::size_t i, const RecordedRequest&) {
    FakeResponse response = ok("back");
    response.close_without_response = i == 0;
    return response;
  });
  TestGateway gateway(fastRetries());
  auto response = post(gateway.port(),
                       dropping.target({{"retry", {{"attempts", 2}, {"on_status_codes", {429}}}}}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "1");
  EXPECT_EQ(dropping.calls(), 2u);
}

TEST(RoutingIntegration, UnreachableUpstreamExhaustsRetriesWith502) {
  // The gateway binds first, so it cannot take over the port the dead upstream leaves.
  TestGateway gateway(fastRetries());
  std::string dead_url;
  {
    FakeUpstream gone([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
    dead_url = gone.baseUrl();
  }
  json target = {{"provider", "openai"},
                 {"api_key", "sk"},
                 {"custom_host", dead_url + "/v1"},
                 {"retry", {{"attempts", 2}}}};
  auto response = post(gateway.port(), target);
  EXPECT_EQ(response.status, 502);
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "-1");
  EXPECT_TRUE(json::parse(response.body, nullptr, false).is_object());
}

TEST(RoutingIntegration, RetryAfterIsHonouredWhenAsked) {
  ScriptedOpenAi limited([](std::size_t i, const RecordedRequest&) {
    return i == 0 ? status(429, {{"retry-after", "1"}}) : ok("after the wait");
  });
  TestGateway gateway(fastRetries());
  auto response =
      post(gateway.port(),
           limited.target({{"retry", {{"attempts", 2}, {"use_retry_after_header", true}}}}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "1");
  EXPECT_EQ(limited.calls(), 2u);
}

TEST(RoutingIntegration, RetryAfterPastTheBudgetAnswersAtOnceWithMinusOne) {
  ScriptedOpenAi limited([](std::size_t, const RecordedRequest&) {
    return status(429, {{"retry-after", "120"}});
  });
  TestGateway gateway;  // real delays: the answer must not wait at all
  const auto started = std::chrono::steady_clock::now();
  auto response =
      post(gateway.port(),
           limited.target({{"retry", {{"attempts", 3}, {"use_retry_after_header", true}}}}));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "-1");
  EXPECT_EQ(response.header("retry-after"), "120");
  EXPECT_EQ(limited.calls(), 1u);
  // Generous: a retry would have waited at least 60 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

// ------------------------------------------------------------------------------------ cache

class RoutingCache : public ::testing::Test {
 protected:
  RoutingCache()
      : upstream_([this](std::size_t, const RecordedRequest& request) {
          if (fail_.load()) return status(500);
          auto body = json::parse(request.body);
          return ok("answer " + std::to_string(counter_.fetch_add(1)) + " to " +
                    body["messages"][0]["content"].get<std::string>());
        }),
        gateway_(options()) {}

  ServerOptions options() {
    ServerOptions options = TestGateway::defaultOptions();
    options.cache_clock = [this] { return std::chrono::steady_clock::now() + skew_.load(); };
    return options;
  }

  json config(json cache = {{"mode", "simple"}}, std::string key = "sk-test") {
    json target = upstream_.target({{"cache", cache}});
    target["api_key"] = key;
    return target;
  }

  std::atomic<int> counter_{0};
  std::atomic<bool> fail_{false};
  std::atomic<std::chrono::steady_clock::duration> skew_{std::chrono::steady_clock::duration(0)};
  ScriptedOpenAi upstream_;
  TestGateway gateway_;
};

TEST_F(RoutingCache, MissThenHit) {
  auto first = post(gateway_.port(), config());
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-portkey-cache-status"), "MISS");
  auto second = post(gateway_.port(), config());
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("x-portkey-provider"), "openai");
  EXPECT_EQ(second.header("x-portkey-last-used-option-index"), "config");
  EXPECT_EQ(upstream_.calls(), 1u);

  // The same body with its keys in another order is the same request.
  auto reordered =
      post(gateway_.port(), config(),
           R"({"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini"})");
  EXPECT_EQ(reordered.header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(upstream_.calls(), 1u);
}

TEST_F(RoutingCache, CredentialsAndBodiesSeparateEntries) {
  post(gateway_.port(), config());
  auto other_key = post(gateway_.port(), config({{"mode", "simple"}}, "sk-other"));
  EXPECT_EQ(other_key.header("x-portkey-cache-status"), "MISS");
  auto other_body = post(gateway_.port(), config(),
                         R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Bye"}]})");
  EXPECT_EQ(other_body.header("x-portkey-cache-status"), "MISS");
  EXPECT_EQ(upstream_.calls(), 3u);
}

TEST_F(RoutingCache, ForceRefreshSkipsTheReadButStores) {
  auto first = post(gateway_.port(), config());
  auto refreshed =
      post(gateway_.port(), config(), kChatBody, {{"x-portkey-cache-force-refresh", "true"}});
  EXPECT_EQ(refreshed.header("x-portkey-cache-status"), "REFRESH");
  EXPECT_NE(refreshed.body, first.body);
  EXPECT_EQ(upstream_.calls(), 2u);
  auto after = post(gateway_.port(), config());
  EXPECT_EQ(after.header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(after.body, refreshed.body);
}

TEST_F(RoutingCache, EntriesExpireAfterMaxAgeSeconds) {
  json cache = {{"mode", "simple"}, {"max_age", 1}};
  post(gateway_.port(), config(cache));
  EXPECT_EQ(post(gateway_.port(), config(cache)).header("x-portkey-cache-status"), "HIT");
  skew_.store(std::chrono::milliseconds(1100));
  EXPECT_EQ(post(gateway_.port(), config(cache)).header("x-portkey-cache-status"), "MISS");
  EXPECT_EQ(upstream_.calls(), 2u);
}

TEST_F(RoutingCache, ErrorsAreNeverStored) {
  fail_.store(true);
  EXPECT_EQ(post(gateway_.port(), config()).status, 500);
  fail_.store(false);
  auto second = post(gateway_.port(), config());
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("x-portkey-cache-status"), "MISS");
}

TEST_F(RoutingCache, WithoutACacheConfigTheStatusIsDisabled) {
  auto response = post(gateway_.port(), upstream_.target());
  EXPECT_EQ(response.header("x-portkey-cache-status"), "DISABLED");
}

TEST_F(RoutingCache, InheritedFromTheParentNode) {
  json config = {{"cache", {{"mode", "simple"}}},
                 {"strategy", {{"mode", "single"}}},
                 {"targets", {upstream_.target()}}};
  EXPECT_EQ(post(gateway_.port(), config).header("x-portkey-cache-status"), "MISS");
  auto hit = post(gateway_.port(), config);
  EXPECT_EQ(hit.header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(hit.header("x-portkey-last-used-option-index"), "config.targets[0]");
}

TEST_F(RoutingCache, StreamedRequestIsServedFromAStoredAnswerAsSse) {
  auto stored = post(gateway_.port(), config());
  ASSERT_EQ(stored.status, 200);
  StreamingResponse stream(
      gateway_.port(), "/v1/chat/completions",
      {{"content-type", "application/json"}, {"x-portkey-config", config().dump()}}, kStreamBody);
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("x-portkey-cache-status"), "HIT");
  EXPECT_NE(stream.header("content-type").find("text/event-stream"), std::string::npos);
  auto events = sseData(stream.readAll());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["content"], contentOf(stored));
  EXPECT_EQ(json::parse(events[1])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(events[1])["usage"]["total_tokens"], 2);
  EXPECT_EQ(events[2], "[DONE]");
  EXPECT_EQ(upstream_.calls(), 1u);
}

}  // namespace
}  // namespace portico::testing
