// proxy::resolveCredentials, called directly: keys that pass untouched, tokens fetched from a
// loopback token endpoint and cached per worker, token endpoint failures, virtual keys.

#include "proxy/credentials.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proxy/stage_harness.hpp"
#include "support/fake_upstream.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

FakeResponse tokenAnswer(const std::string& token, int expires_in = 3600) {
  return FakeResponse::json(200, json{{"access_token", token}, {"expires_in", expires_in}}.dump());
}

Target serviceAccountTarget(const std::string& account = "sa-1") {
  Target target = StageHarness::target(0, "");
  target.options["service_account"] = account;
  return target;
}

// Both steps, as callLeaf runs them: the virtual key, then tokens.
Expected<bool> resolve(StageHarness& h, Target& target) {
  auto grant = proxy::resolveVirtualKey(h.worker, target);
  if (!grant) {
    return grant.error();
  }
  return h.run(proxy::resolveCredentials(h.worker, *h.fake, target, nullptr));
}

std::string messageOf(const GatewayError& error) { return error.body.value("message", ""); }

TEST(CredentialsStage, ApiKeyPassesUntouchedAndNoTokenIsFetched) {
  StageHarness h;
  FakeUpstream tokens([](const RecordedRequest&) { return tokenAnswer("tok-never"); });
  h.fake->token_port = tokens.port();
  Target target = serviceAccountTarget();
  target.api_key = "sk-given";

  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(target.api_key, "sk-given");
  EXPECT_EQ(h.fake->counts.token_cache_key, 0);
  EXPECT_EQ(h.fake->counts.token_exchange, 0);
  EXPECT_EQ(tokens.requestCount(), 0u);
}

TEST(CredentialsStage, ProviderWithoutTokenNeedsNothing) {
  StageHarness h;
  Target target = StageHarness::target(0, "");

  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(target.api_key, "");
  EXPECT_EQ(h.fake->counts.token_cache_key, 1);
  EXPECT_EQ(h.fake->counts.token_exchange, 0);
}

TEST(CredentialsStage, TokenIsFetchedOnceThenServedFromTheWorkersCache) {
  StageHarness h;
  FakeUpstream tokens([](const RecordedRequest&) { return tokenAnswer("tok-1"); });
  h.fake->token_port = tokens.port();

  Target first = serviceAccountTarget();
  auto ready = resolve(h, first);
  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(first.api_key, "tok-1");
  EXPECT_EQ(h.fake->counts.token_exchange, 1);
  EXPECT_EQ(h.fake->counts.parse_token_reply, 1);
  ASSERT_EQ(tokens.requestCount(), 1u);
  const auto sent = *tokens.lastRequest();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/token");
  EXPECT_EQ(sent.body, "account=sa-1");
  EXPECT_EQ(h.worker.tokens.find("fake-sa:sa-1", std::chrono::steady_clock::now()),
            std::optional<std::string>("tok-1"));

  // A second leaf with the same credential: the cache answers before anything is signed.
  Target second = serviceAccountTarget();
  ready = resolve(h, second);
  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(second.api_key, "tok-1");
  EXPECT_EQ(h.fake->counts.token_cache_key, 2);
  EXPECT_EQ(h.fake->counts.token_exchange, 1);
  EXPECT_EQ(tokens.requestCount(), 1u);

  // Another credential is another cache entry.
  Target other = serviceAccountTarget("sa-2");
  ready = resolve(h, other);
  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(h.fake->counts.token_exchange, 2);
  ASSERT_EQ(tokens.requestCount(), 2u);
  EXPECT_EQ(tokens.lastRequest()->body, "account=sa-2");
}

TEST(CredentialsStage, TokenThatExpiresWithinTheRefreshMarginIsNotKept) {
  StageHarness h;
  FakeUpstream tokens([](const RecordedRequest&) { return tokenAnswer("tok-short", 30); });
  h.fake->token_port = tokens.port();

  for (int i = 0; i < 2; ++i) {
    Target target = serviceAccountTarget();
    auto ready = resolve(h, target);
    ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
    EXPECT_EQ(target.api_key, "tok-short");
  }
  EXPECT_EQ(h.fake->counts.token_exchange, 2);
  EXPECT_EQ(tokens.requestCount(), 2u);
}

TEST(CredentialsStage, TokenEndpointErrorGivesTheAdaptersErrorAndCachesNothing) {
  StageHarness h;
  FakeUpstream tokens(
      [](const RecordedRequest&) { return FakeResponse::json(500, R"({"error":"internal"})"); });
  h.fake->token_port = tokens.port();

  Target target = serviceAccountTarget();
  auto ready = resolve(h, target);
  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 401);
  EXPECT_EQ(messageOf(ready.error()), "fake: token endpoint answered 500");
  EXPECT_EQ(target.api_key, "");
  EXPECT_EQ(h.fake->counts.parse_token_reply, 1);

  // Nothing was cached: the next leaf asks again.
  Target again = serviceAccountTarget();
  ready = resolve(h, again);
  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(h.fake->counts.token_exchange, 2);
  EXPECT_EQ(tokens.requestCount(), 2u);
}

TEST(CredentialsStage, UnreachableTokenEndpointIsA502) {
  StageHarness h;
  h.fake->token_port = closedPort();

  Target target = serviceAccountTarget();
  auto ready = resolve(h, target);
  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 502);
  const std::string message = ready.error().body["error"]["message"].get<std::string>();
  EXPECT_TRUE(message.starts_with("fake error: could not reach the provider: token endpoint: "))
      << message;
  EXPECT_EQ(h.fake->counts.parse_token_reply, 0);
  EXPECT_EQ(target.api_key, "");
}

TEST(CredentialsStage, TokenEndpointRefusedByTheCustomHostGuardIsA400) {
  StageHarness h;
  FakeUpstream tokens([](const RecordedRequest&) { return tokenAnswer("tok-1"); });
  h.fake->token_port = tokens.port();
  h.custom_hosts_valid = false;

  Target target = serviceAccountTarget();
  auto ready = resolve(h, target);
  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 400);
  EXPECT_EQ(messageOf(ready.error()),
            "fake: the token endpoint http://127.0.0.1:" + std::to_string(tokens.port()) +
                " is refused by the custom-host guard");
  EXPECT_EQ(tokens.requestCount(), 0u);
}

TEST(CredentialsStage, VirtualKeyWithoutAResolverIsRefused) {
  StageHarness h;
  Target target = StageHarness::target(0, "");
  target.options["virtual_key"] = "vk-1";

  auto ready = resolve(h, target);
  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 400);
  EXPECT_EQ(messageOf(ready.error()),
            "Virtual keys are not configured on this gateway: pass the provider key with "
            "x-portkey-api-key or api_key");
  EXPECT_FALSE(ready.error().gateway_exception);
  EXPECT_EQ(h.fake->counts.token_cache_key, 0);
}

class TestKeyStore : public proxy::VirtualKeyResolver {
 public:
  Expected<std::unique_ptr<proxy::KeyGrant>> resolve(std::string_view virtual_key,
                                                     Target& target) const override {
    seen.emplace_back(virtual_key);
    if (virtual_key == "vk-unknown") {
      return errors::failure(404, "no such virtual key");
    }
    target.api_key = "sk-from-" + std::string(virtual_key);
    target.options["region"] = "eu";
    return std::unique_ptr<proxy::KeyGrant>();
  }
  bool required() const override { return required_keys; }
  mutable std::vector<std::string> seen;
  bool required_keys = false;
};

TEST(CredentialsStage, VirtualKeyResolverFillsTheKey) {
  StageHarness h;
  TestKeyStore store;
  h.worker.virtual_keys = &store;
  FakeUpstream tokens([](const RecordedRequest&) { return tokenAnswer("tok-never"); });
  h.fake->token_port = tokens.port();

  // The target would need a token, but the resolved key makes it unnecessary.
  Target target = serviceAccountTarget();
  target.options["virtual_key"] = "vk-1";
  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_value()) << ready.error().body.dump();
  EXPECT_EQ(store.seen, std::vector<std::string>{"vk-1"});
  EXPECT_EQ(target.api_key, "sk-from-vk-1");
  EXPECT_EQ(target.options["region"], "eu");
  EXPECT_EQ(h.fake->counts.token_cache_key, 0);
  EXPECT_EQ(tokens.requestCount(), 0u);
}

TEST(CredentialsStage, VirtualKeyResolverErrorEndsTheStage) {
  StageHarness h;
  TestKeyStore store;
  h.worker.virtual_keys = &store;

  Target target = StageHarness::target(0, "");
  target.options["virtual_key"] = "vk-unknown";
  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 404);
  EXPECT_EQ(messageOf(ready.error()), "no such virtual key");
  EXPECT_EQ(target.api_key, "");
}

TEST(CredentialsStage, NoVirtualKeyNeverAsksTheResolver) {
  StageHarness h;
  TestKeyStore store;
  h.worker.virtual_keys = &store;

  Target target = StageHarness::target(0, "sk-given");
  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_value());
  EXPECT_TRUE(store.seen.empty());
  EXPECT_EQ(target.api_key, "sk-given");
}

TEST(CredentialsStage, ARequiredVirtualKeyRefusesALeafWithout) {
  StageHarness h;
  TestKeyStore store;
  store.required_keys = true;
  h.worker.virtual_keys = &store;

  Target target = StageHarness::target(0, "sk-raw");
  auto ready = resolve(h, target);

  ASSERT_TRUE(ready.has_error());
  EXPECT_EQ(ready.error().status, 401);
  EXPECT_TRUE(store.seen.empty());
}

}  // namespace
}  // namespace portico::testing
