// Scale-out end to end: a real PostgreSQL and a real redis-server (Debian's packages, started
// by the test on loopback ports in temp dirs), three portico processes on that store and that
// Redis, and a fake OpenAI-compatible upstream. Keys made or disabled through one instance's
// admin API reach the others within a second; limits, budgets and the cache hold across the
// three; a Redis outage follows --redis-failure-mode and ends when Redis returns.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/temp_path.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kMasterKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
constexpr const char* kAdminToken = "scale-out-admin";
constexpr const char* kSecret = "sk-shared-upstream-9090";
constexpr int kPromptTokens = 40;
constexpr int kCompletionTokens = 60;

const Headers kAdmin = {{"authorization", std::string("Bearer ") + kAdminToken},
                        {"content-type", "application/json"}};

std::string chatBody(const std::string& content = "Hi") {
  return json{{"model", "gpt-4o-mini"},
              {"max_tokens", 100},
              {"messages", json::array({{{"role", "user"}, {"content", content}}})}}
      .dump();
}

FakeResponse chatAnswer() {
  return FakeResponse::json(
      200,
      json{{"id", "c1"},
           {"object", "chat.completion"},
           {"model", "gpt-4o-mini"},
           {"choices", json::array({{{"index", 0},
                                     {"message", {{"role", "assistant"}, {"content", "ok"}}},
                                     {"finish_reason", "stop"}}})},
           {"usage", {{"prompt_tokens", kPromptTokens}, {"completion_tokens", kCompletionTokens}}}}
          .dump());
}

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) {
      GTEST_SKIP() << "redis-server is not installed (.ci/setup installs it)";
    }
    postgres_ = std::make_unique<PostgresServer>();
    if (!postgres_->available()) {
      GTEST_SKIP() << postgres_->skipReason();
    }
    redis_ = std::make_unique<RedisServer>();
    upstream_ = std::make_unique<FakeUpstream>([this](const RecordedRequest& request) {
      if (request.header("authorization") != std::string("Bearer ") + kSecret) {
        return FakeResponse::json(401, R"({"error":{"message":"bad key"}})");
      }
      ++upstream_calls_;
      return chatAnswer();
    });
    ::setenv("PORTICO_MASTER_KEY", kMasterKey, 1);
    ::setenv("PORTICO_ADMIN_TOKEN", kAdminToken, 1);
    for (int i = 0; i < 3; ++i) {
      dirs_.push_back(uniqueTempPath("portico_scale_out"));
      gateways_.push_back(std::make_unique<GatewayProcess>(std::vector<std::string>{
          "--store", postgres_->url(), "--redis", redis_->url(), "--data-dir",
          dirs_.back().string(), "--trusted-custom-hosts", "127.0.0.1", "--threads", "2",
          "--no-access-log", "--redis-timeout-ms", "300"}));
    }
  }

  void TearDown() override {
    gateways_.clear();
    ::unsetenv("PORTICO_MASTER_KEY");
    ::unsetenv("PORTICO_ADMIN_TOKEN");
    for (const auto& dir : dirs_) {
      std::filesystem::remove_all(dir);
    }
  }

  GatewayProcess& gateway(std::size_t i) { return *gateways_.at(i % gateways_.size()); }

  // Creates a key through instance `via`; returns {"key", "id"}.
  json createKey(std::size_t via, json spec) {
    spec["provider"] = "openai";
    spec["api_key"] = kSecret;
    spec["custom_host"] = upstream_->baseUrl() + "/v1";
    auto created = httpRequest(gateway(via).port(), "POST", "/admin/v1/keys", kAdmin, spec.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return json::parse(created.body, nullptr, false);
  }

  HttpResponse chat(std::size_t via, const std::string& key, const Headers& extra = {}) {
    Headers headers = {{"content-type", "application/json"}, {"x-portkey-virtual-key", key}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return httpRequest(gateway(via).port(), "POST", "/v1/chat/completions", headers, chatBody());
  }

  // How long until `ok` holds for instance `via`, polled every 20 ms for at most 5 s.
  template <class Predicate>
  std::chrono::milliseconds timeUntil(Predicate ok) {
    const auto start = Clock::now();
    while (!ok() && Clock::now() - start < std::chrono::seconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  }

  // `clients` threads each sending `calls` chat requests with `key`, spread over the three
  // instances; how many answers had each status.
  std::map<int, int> concurrentCalls(const std::string& key, int clients, int calls) {
    std::mutex mutex;
    std::map<int, int> statuses;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; i < calls; ++i) {
          const int status = chat(static_cast<std::size_t>(c + i), key).status;
          std::lock_guard lock(mutex);
          ++statuses[status];
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    return statuses;
  }

  std::unique_ptr<PostgresServer> postgres_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::atomic<int> upstream_calls_{0};
  std::vector<std::filesystem::path> dirs_;
  std::vector<std::unique_ptr<GatewayProcess>> gateways_;
};

TEST_F(ScaleOut, AKeyMadeOrDisabledOnOneInstanceReachesTheOthersWithinASecond) {
  const json made = createKey(0, {{"name", "shared-team"}});
  const std::string key = made.value("key", "");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(chat(0, key).status, 200);  // the instance that made it knows it at once
  for (std::size_t other : {1u, 2u}) {
    const auto waited = timeUntil([&] { return chat(other, key).status == 200; });
    EXPECT_LT(waited.count(), 1000) << "instance " << other;
    EXPECT_EQ(chat(other, key).status, 200);
  }
  auto disabled = httpRequest(gateway(1).port(), "PATCH", "/admin/v1/keys/" + made.value("id", ""),
                              kAdmin, R"({"enabled":false})");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  for (std::size_t other : {0u, 2u}) {
    const auto waited = timeUntil([&] { return chat(other, key).status == 401; });
    EXPECT_LT(waited.count(), 1000) << "instance " << other;
  }
  EXPECT_EQ(chat(1, key).status, 401);
  for (auto& process : gateways_) {
    EXPECT_EQ(process->output().find(kSecret), std::string::npos);
    EXPECT_EQ(process->terminate(), 0);  // drains and stops, its Redis connection closed
  }
}

TEST_F(ScaleOut, SixtyRequestsPerMinuteHoldForTheKeyNotPerInstance) {
  const std::string key = createKey(0, {{"name", "rpm-60"}, {"rpm", 60}}).value("key", "");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_LT(timeUntil([&] {
                return chat(i, key, {{"x-probe", "1"}}).status != 401;
              }).count(),
              1000);
  }
  // The probes above counted: two requests of the minute are gone.
  auto statuses = concurrentCalls(key, 6, 15);
  EXPECT_EQ(statuses[200] + 2, 60);  // of 90 sent within the minute, across three instances
  EXPECT_EQ(statuses[429], 90 - statuses[200]);
  auto refused = chat(2, key);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("x-ratelimit-limit-requests"), "60");
  EXPECT_FALSE(refused.header("retry-after").empty());
}

TEST_F(ScaleOut, ABudgetHoldsAcrossInstancesUnderConcurrentLoad) {
  constexpr int kBudgetTokens = 1000;
  const std::string key = createKey(0, {{"name", "budgeted"},
                                        {"budget", {{"tokens", kBudgetTokens}, {"period", "day"}}}})
                              .value("key", "");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_LT(timeUntil([&] { return chat(i, key).status != 401; }).count(), 1000);
  }
  auto statuses = concurrentCalls(key, 6, 5);
  const int ok = statuses[200] + 2;  // with the probes
  // Each answer used 100 tokens; admitted calls never spend past the budget together.
  EXPECT_LE(ok * (kPromptTokens + kCompletionTokens), kBudgetTokens);
  EXPECT_GE(ok, 5);  // reservations are estimates, settled down to what was used
  EXPECT_EQ(statuses[200] + statuses[402], 30);
  EXPECT_EQ(chat(0, key).status, 402);
}

TEST_F(ScaleOut, AnAnswerCachedThroughOneInstanceIsAHitOnAnother) {
  const std::string key = createKey(0, {{"name", "cached"}}).value("key", "");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_LT(timeUntil([&] { return chat(i, key).status == 200; }).count(), 1000);
  }
  const Headers cache = {{"x-portkey-config", R"({"cache":{"mode":"simple"}})"}};
  auto first = chat(0, key, cache);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.header("x-portkey-cache-status"), "MISS");
  HttpResponse second;
  timeUntil([&] {
    second = chat(1, key, cache);
    return second.header("x-portkey-cache-status") == "HIT";
  });
  EXPECT_EQ(second.header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(json::parse(second.body)["choices"][0]["message"]["content"], "ok");
  // The third instance finds it too, and the upstream answered only the misses.
  const int calls = upstream_calls_.load();
  EXPECT_EQ(chat(2, key, cache).header("x-portkey-cache-status"), "HIT");
  EXPECT_EQ(upstream_calls_.load(), calls);
}

TEST_F(ScaleOut, ARedisOutageFollowsTheFailureModeAndEndsWhenRedisReturns) {
  const std::string rated = createKey(0, {{"name", "rated"}, {"rpm", 1000}}).value("key", "");
  const std::string budgeted =
      createKey(0, {{"name", "budget-key"}, {"budget", {{"tokens", 100000}}}}).value("key", "");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_LT(timeUntil([&] { return chat(i, budgeted).status == 200; }).count(), 1000);
  }
  redis_->stop();
  // The defaults: rate limits fail open, budgets fail closed, on every instance, at once.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(chat(i, rated).status, 200) << i;
    auto closed = chat(i, budgeted);
    EXPECT_EQ(closed.status, 503) << i;
    EXPECT_NE(closed.body.find("limits_unavailable"), std::string::npos);
  }
  auto metrics = httpRequest(gateway(0).port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("portico_redis_up 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("portico_redis_limit_unchecked_total{outcome=\"refused\"}"),
            std::string::npos);
  EXPECT_NE(gateway(0).output().find("redis unreachable"), std::string::npos);
  redis_->start();
  for (std::size_t i = 0; i < 3; ++i) {
    const auto waited = timeUntil([&] { return chat(i, budgeted).status == 200; });
    EXPECT_LT(waited.count(), 2000) << i;
  }
  metrics = httpRequest(gateway(0).port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("portico_redis_up 1"), std::string::npos);
}

TEST_F(ScaleOut, APostgresOutageKeepsKnownKeysServingAndTheAdminApiSays503) {
  const json made = createKey(0, {{"name", "through-outage"}});
  const std::string key = made.value("key", "");
  for (std::size_t i : {1u, 2u}) {
    ASSERT_LT(timeUntil([&] { return chat(i, key).status == 200; }).count(), 1000);
  }
  postgres_->stop();
  // Keys are in memory: every instance keeps serving them.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(chat(i, key).status, 200) << i;
  }
  auto refused = httpRequest(
      gateway(1).port(), "POST", "/admin/v1/keys", kAdmin,
      json{{"name", "during-outage"}, {"provider", "openai"}, {"api_key", kSecret}}.dump());
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body.find(postgres_->url()), std::string::npos);
  postgres_->start();
  // The usage recorded meanwhile reaches the store once it is back (flushed every 2 s).
  int requests = 0;
  timeUntil([&] {
    auto usage = httpRequest(gateway(2).port(), "GET",
                             "/admin/v1/keys/" + made.value("id", "") + "/usage", kAdmin);
    const json body = json::parse(usage.body, nullptr, false);
    requests = 0;
    if (body.is_object() && body.contains("data") && body["data"].is_array()) {
      for (const auto& row : body["data"]) {
        requests += row.value("requests", 0);
      }
    }
    return requests >= 5;
  });
  EXPECT_GE(requests, 5);  // the two probes and the three calls during the outage
}

}  // namespace
}  // namespace portico::testing
