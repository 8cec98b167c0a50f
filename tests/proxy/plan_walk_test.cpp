// proxy::walkPlan over ConfigNode trees built in code: fallback, loadbalance, single, and the
// retries inside a leaf, against one FakeUpstream that answers per target (x-fake-tag).

#include "proxy/plan_walk.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "proxy/stage_harness.hpp"
#include "support/fake_upstream.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const json kChat = {{"model", "gpt-test"},
                    {"messages", {{{"role", "user"}, {"content", "Hello"}}}}};

std::string answerOf(const std::string& tag) {
  return json{{"id", "chatcmpl-" + tag},
              {"object", "chat.completion"},
              {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 2}}}}
      .dump();
}

// Answers each target by its tag: a list of statuses played in order (the last one repeats).
class Script {
 public:
  explicit Script(std::map<std::string, std::vector<int>> statuses)
      : statuses_(std::move(statuses)) {}

  FakeResponse operator()(const RecordedRequest& request) {
    const std::string tag = request.header("x-fake-tag");
    std::lock_guard lock(mutex_);
    auto it = statuses_.find(tag);
    if (it == statuses_.end()) {
      return FakeResponse::json(418, R"({"error":"unknown tag"})");
    }
    const std::size_t n = played_[tag]++;
    const int status = it->second[std::min(n, it->second.size() - 1)];
    if (status >= 200 && status < 300) {
      return FakeResponse::json(status, answerOf(tag));
    }
    return FakeResponse::json(status, json{{"error", {{"message", tag + " failed"}}}}.dump());
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<int>> statuses_;
  std::map<std::string, std::size_t> played_;
};

struct PlanFixture {
  explicit PlanFixture(std::map<std::string, std::vector<int>> statuses)
      : script(std::move(statuses)),
        upstream([this](const RecordedRequest& request) { return script(request); }) {
    h.fake->upstream_port = upstream.port();
    h.options.retry_delay_scale = 1e-6;
  }

  proxy::Attempt walk(const ConfigNode& root) {
    auto state = h.state(request);
    return h.run(proxy::walkPlan(state, root, routing::Inherited{}, "config"));
  }

  std::vector<std::string> tagsSent() const {
    std::vector<std::string> tags;
    for (const auto& sent : upstream.requests()) {
      tags.push_back(sent.header("x-fake-tag"));
    }
    return tags;
  }

  StageHarness h;
  TestRequest request{kChat};
  Script script;
  FakeUpstream upstream;
};

ConfigNode leaf(const std::string& tag, std::string provider = "fake") {
  ConfigNode node;
  node.provider = std::move(provider);
  node.api_key = "sk-" + tag;
  node.provider_options = {{"tag", tag}};
  return node;
}

ConfigNode strategy(std::string mode, std::vector<ConfigNode> targets) {
  ConfigNode node;
  node.mode = std::move(mode);
  node.targets = std::move(targets);
  return node;
}

std::string messageOf(const proxy::Attempt& attempt) {
  return json::parse(attempt.reply.body).value("message", "");
}

TEST(PlanWalkStage, FallbackMovesToTheNextTargetAfterA5xx) {
  PlanFixture f({{"a", {503}}, {"b", {200}}});
  const auto attempt = f.walk(strategy("fallback", {leaf("a"), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(attempt.reply.body, answerOf("b"));
  EXPECT_EQ(attempt.option_index, "config.targets[1]");
  EXPECT_EQ(attempt.retry_count, 0);
  EXPECT_EQ(attempt.reply.model, "gpt-test");
  EXPECT_EQ(f.tagsSent(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.upstream.requests()[1].header("authorization"), "Bearer sk-b");
  EXPECT_EQ(f.h.observer.lines,
            (std::vector<std::string>{"attemptStarted fake gpt-test config.targets[0] retry=0",
                                      "upstreamAnswered 503", "attemptEnded 503",
                                      "attemptStarted fake gpt-test config.targets[1] retry=0",
                                      "upstreamAnswered 200", "attemptEnded 200"}));
}

TEST(PlanWalkStage, FallbackReturnsTheLastFailureWhenEveryTargetFails) {
  PlanFixture f({{"a", {503}}, {"b", {500}}});
  const auto attempt = f.walk(strategy("fallback", {leaf("a"), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 500);
  EXPECT_EQ(attempt.option_index, "config.targets[1]");
  EXPECT_EQ(f.tagsSent(), (std::vector<std::string>{"a", "b"}));
}

TEST(PlanWalkStage, FallbackOnlyMovesOnForItsStatusCodes) {
  PlanFixture f({{"a", {503}}, {"b", {200}}});
  ConfigNode root = strategy("fallback", {leaf("a"), leaf("b")});
  root.strategy_on_status_codes = {429};
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 503);
  EXPECT_EQ(attempt.option_index, "config.targets[0]");
  EXPECT_EQ(f.tagsSent(), std::vector<std::string>{"a"});
}

TEST(PlanWalkStage, FallbackStopsOnAGatewayException) {
  PlanFixture f({{"b", {200}}});
  const auto attempt = f.walk(strategy("fallback", {leaf("a", "fake-unsupported"), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 500);
  EXPECT_TRUE(attempt.gateway_exception);
  EXPECT_EQ(messageOf(attempt), "chatComplete is not supported by fake-unsupported");
  EXPECT_EQ(attempt.reply.headers, (HeaderList{{"x-portkey-gateway-exception", "true"}}));
  EXPECT_EQ(attempt.option_index, "config.targets[0]");
  EXPECT_EQ(f.upstream.requestCount(), 0u);
  EXPECT_EQ(f.h.fake_unsupported->counts.open, 0);
}

TEST(PlanWalkStage, UnknownProviderIsA500NamingIt) {
  PlanFixture f({});
  const auto attempt = f.walk(leaf("a", "nope"));

  EXPECT_EQ(attempt.reply.status, 500);
  EXPECT_EQ(messageOf(attempt), "Provider nope not found");
  EXPECT_EQ(attempt.option_index, "config");
  EXPECT_EQ(f.upstream.requestCount(), 0u);
}

// An unknown provider is the gateway's error, like an unsupported endpoint: it ends the chain.
TEST(PlanWalkStage, FallbackStopsOnAnUnknownProvider) {
  PlanFixture f({{"b", {200}}});
  const auto attempt = f.walk(strategy("fallback", {leaf("a", "nope"), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 500);
  EXPECT_TRUE(attempt.gateway_exception);
  EXPECT_EQ(attempt.option_index, "config.targets[0]");
  EXPECT_EQ(f.upstream.requestCount(), 0u);
}

TEST(PlanWalkStage, LoadbalanceWithEveryWeightZeroIsA400) {
  PlanFixture f({{"a", {200}}, {"b", {200}}});
  ConfigNode a = leaf("a");
  ConfigNode b = leaf("b");
  a.weight = 0;
  b.weight = 0;
  const auto attempt = f.walk(strategy("loadbalance", {a, b}));

  EXPECT_EQ(attempt.reply.status, 400);
  EXPECT_EQ(messageOf(attempt),
            "Invalid config passed: every loadbalance target has weight 0, so none can be chosen");
  EXPECT_EQ(attempt.option_index, "config");
  EXPECT_EQ(f.upstream.requestCount(), 0u);
}

// A router error ends the request with its 400, whatever the enclosing strategy.
TEST(PlanWalkStage, LoadbalanceErrorEndsAnEnclosingFallback) {
  PlanFixture f({{"a", {200}}, {"b", {200}}});
  ConfigNode a = leaf("a");
  a.weight = 0;
  const auto attempt = f.walk(strategy("fallback", {strategy("loadbalance", {a}), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 400);
  EXPECT_EQ(attempt.option_index, "config.targets[0]");
  EXPECT_EQ(f.upstream.requestCount(), 0u);
}

TEST(PlanWalkStage, LoadbalancePicksTheOnlyWeightedTarget) {
  PlanFixture f({{"a", {200}}, {"b", {200}}});
  ConfigNode a = leaf("a");
  a.weight = 0;
  for (int i = 0; i < 5; ++i) {
    const auto attempt = f.walk(strategy("loadbalance", {a, leaf("b")}));
    EXPECT_EQ(attempt.reply.status, 200);
    EXPECT_EQ(attempt.option_index, "config.targets[1]");
  }
  EXPECT_EQ(f.tagsSent(), std::vector<std::string>(5, "b"));
}

TEST(PlanWalkStage, SingleUsesTheFirstTargetOnly) {
  PlanFixture f({{"a", {503}}, {"b", {200}}});
  const auto attempt = f.walk(strategy("single", {leaf("a"), leaf("b")}));

  EXPECT_EQ(attempt.reply.status, 503);
  EXPECT_EQ(attempt.option_index, "config.targets[0]");
  EXPECT_EQ(f.tagsSent(), std::vector<std::string>{"a"});
}

TEST(PlanWalkStage, InnerNodeWithoutTargetsIsA400) {
  PlanFixture f({});
  ConfigNode root;
  root.mode = "fallback";
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 400);
  EXPECT_EQ(messageOf(attempt), "Invalid config passed: no targets");
  EXPECT_EQ(attempt.option_index, "config");
}

TEST(PlanWalkStage, RetriesInsideALeafAreCounted) {
  PlanFixture f({{"a", {503, 503, 200}}});
  ConfigNode root = leaf("a");
  root.retry = RetrySettings{3, {}, false};
  root.override_params = {{"model", "m-config"}};
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(attempt.retry_count, 2);
  EXPECT_EQ(attempt.option_index, "config");
  EXPECT_EQ(attempt.reply.model, "m-config");
  ASSERT_EQ(f.upstream.requestCount(), 3u);
  for (const auto& sent : f.upstream.requests()) {
    EXPECT_EQ(json::parse(sent.body)["model"], "m-config");  // merged once, sent every try
  }
  EXPECT_EQ(f.h.fake->counts.open, 3);
  EXPECT_EQ(
      f.h.observer.lines,
      (std::vector<std::string>{
          "attemptStarted fake m-config config retry=0", "upstreamAnswered 503", "attemptEnded 503",
          "retrying after 0", "attemptStarted fake m-config config retry=1", "upstreamAnswered 503",
          "attemptEnded 503", "retrying after 1", "attemptStarted fake m-config config retry=2",
          "upstreamAnswered 200", "attemptEnded 200"}));
}

TEST(PlanWalkStage, ExhaustedRetriesReportMinusOne) {
  PlanFixture f({{"a", {503}}});
  ConfigNode root = leaf("a");
  root.retry = RetrySettings{1, {}, false};
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 503);
  EXPECT_EQ(attempt.retry_count, -1);
  EXPECT_EQ(f.upstream.requestCount(), 2u);
}

TEST(PlanWalkStage, UnlistedStatusIsNotRetried) {
  PlanFixture f({{"a", {400, 200}}});
  ConfigNode root = leaf("a");
  root.retry = RetrySettings{3, {}, false};
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 400);
  EXPECT_EQ(attempt.retry_count, 0);
  EXPECT_EQ(f.upstream.requestCount(), 1u);
}

TEST(PlanWalkStage, NetworkErrorsAreRetried) {
  PlanFixture f({});
  ConfigNode root = leaf("a");
  root.provider_options["port"] = std::to_string(closedPort());
  root.retry = RetrySettings{2, {418}, false};  // the status list does not matter
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 502);
  EXPECT_EQ(attempt.retry_count, -1);
  EXPECT_EQ(f.h.fake->counts.open, 3);
}

TEST(PlanWalkStage, RetrySettingsAreInheritedByTheLeavesOfAFallback) {
  PlanFixture f({{"a", {503}}, {"b", {200}}});
  ConfigNode root = strategy("fallback", {leaf("a"), leaf("b")});
  root.retry = RetrySettings{1, {}, false};
  const auto attempt = f.walk(root);

  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(attempt.option_index, "config.targets[1]");
  EXPECT_EQ(attempt.retry_count, 0);
  EXPECT_EQ(f.tagsSent(), (std::vector<std::string>{"a", "a", "b"}));
}

}  // namespace
}  // namespace portico::testing
