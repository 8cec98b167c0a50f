// keys::VirtualKeyGate over a real store and index: resolution into the target, refusals
// (unknown, disabled, expired, custom host, model), reservations settled and given back, the
// usage recorded and flushed, and the index reloading what another writer changed.

#include "keys/virtual_key_gate.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "keys/key_index.hpp"
#include "keys/key_service.hpp"
#include "portico/provider_registry.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

// 32 bytes of 0x01, in base64.
constexpr const char* kMasterKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

class VirtualKeyGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::uniqueTempPath("portico_gate");
    std::filesystem::remove_all(dir_);
    registerBuiltinProviders(registry_);
    catalog_ = registry_.settingsCatalog();
    store_ = openSqliteKeyStore(dir_);
    service_ =
        std::make_unique<KeyService>(*store_, *catalog_, registry_.ids(),
                                     MasterKey::fromBase64(kMasterKey), [this] { return now_; });
    index_ = std::make_unique<KeyIndex>(*store_, MasterKey::fromBase64(kMasterKey),
                                        [this] { return now_; });
    gate_ = std::make_unique<VirtualKeyGate>(*index_, prices_, usage_, false);
  }
  void TearDown() override {
    gate_.reset();
    index_.reset();
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string create(KeySpec spec) {
    auto created = service_->create(spec);
    EXPECT_TRUE(created) << (created ? "" : created.error().body.dump());
    index_->reload();
    return created ? created->key : "";
  }

  static KeySpec openai(std::string name) {
    KeySpec spec;
    spec.name = std::move(name);
    spec.provider = "openai";
    spec.api_key = "sk-real-secret";
    return spec;
  }

  std::filesystem::path dir_;
  ProviderRegistry registry_;
  std::shared_ptr<const SettingsCatalog> catalog_;
  std::unique_ptr<KeyStore> store_;
  std::unique_ptr<KeyService> service_;
  std::unique_ptr<KeyIndex> index_;
  PriceTable prices_ = PriceTable::builtIn();
  UsageRecorder usage_;
  std::unique_ptr<VirtualKeyGate> gate_;
  std::int64_t now_ = 1'800'000'000;
};

TEST_F(VirtualKeyGateTest, AKeyFillsProviderCredentialsAndSettings) {
  KeySpec spec;
  spec.name = "azure";
  spec.provider = "azure-openai";
  spec.api_key = "azure-secret";
  spec.fields = nlohmann::json{
      {"resource_name", "res"}, {"deployment_id", "dep"}, {"api_version", "2024-06-01"}};
  const std::string key = create(spec);

  Target target;
  target.options["virtual_key"] = key;
  target.options["aws_secret_access_key"] = "client-secret";  // the client's: dropped
  target.options["openai_organization"] = "org-other";        // another org to bill: dropped
  auto grant = gate_->resolve(key, target);
  ASSERT_TRUE(grant) << grant.error().body.dump();
  EXPECT_EQ(target.provider, "azure-openai");
  EXPECT_EQ(target.api_key, "azure-secret");
  EXPECT_EQ(target.options["resource_name"], "res");
  EXPECT_EQ(target.options["deployment_id"], "dep");
  EXPECT_FALSE(target.options.contains("aws_secret_access_key"));
  EXPECT_FALSE(target.options.contains("virtual_key"));
  EXPECT_FALSE(target.options.contains("openai_organization"));
}

TEST_F(VirtualKeyGateTest, UnknownDisabledAndExpiredKeysAre401) {
  const std::string key = create(openai("a"));
  Target target;
  auto unknown = gate_->resolve("pk-" + std::string(64, '0'), target);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().status, 401);

  KeySpec off;
  off.enabled = false;
  ASSERT_TRUE(service_->update("a", off));
  index_->reload();
  auto disabled = gate_->resolve(key, target);
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().status, 401);

  KeySpec expiring = openai("b");
  expiring.expires_at = now_ + 10;
  const std::string second = create(expiring);
  EXPECT_TRUE(gate_->resolve(second, target));
  now_ += 11;
  auto expired = gate_->resolve(second, target);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().status, 401);
  // Neither message carries the key.
  EXPECT_EQ(expired.error().body.dump().find(second), std::string::npos);
}

TEST_F(VirtualKeyGateTest, AClientCustomHostWithAKeyIsRefusedAndTheKeysOwnIsUsed) {
  KeySpec spec = openai("hosted");
  spec.custom_host = "https://llm.internal.example/v1";
  const std::string key = create(spec);

  Target client_host;
  client_host.custom_host = "https://attacker.example/v1";
  auto refused = gate_->resolve(key, client_host);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 400);
  EXPECT_TRUE(client_host.api_key.empty());

  Target target;
  ASSERT_TRUE(gate_->resolve(key, target));
  EXPECT_EQ(target.custom_host, "https://llm.internal.example/v1");
}

TEST_F(VirtualKeyGateTest, TheModelAllowlistTakesNamesAndPatterns) {
  KeySpec spec = openai("models");
  spec.models = std::vector<std::string>{"gpt-4o-mini", "claude-*"};
  const std::string key = create(spec);
  Target target;
  auto grant = gate_->resolve(key, target);
  ASSERT_TRUE(grant);
  const nlohmann::json body = nlohmann::json::object();
  EXPECT_TRUE((*grant)->admit("gpt-4o-mini", body, 10));
  EXPECT_TRUE((*grant)->admit("claude-sonnet-4", body, 10));
  auto refused = (*grant)->admit("gpt-4o", body, 10);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 403);
  EXPECT_FALSE(modelAllowed({"gpt-4o"}, "gpt-4o-mini"));
  EXPECT_TRUE(modelAllowed({"*"}, "anything"));
  EXPECT_TRUE(modelAllowed({}, "anything"));
}

TEST_F(VirtualKeyGateTest, SettledCallsAreRecordedAndFlushedPerDayAndModel) {
  const std::string key = create(openai("usage"));
  Target target;
  auto grant = gate_->resolve(key, target);
  ASSERT_TRUE(grant);
  const nlohmann::json body = {{"max_tokens", 50}};
  for (int i = 0; i < 3; ++i) {
    auto ticket = (*grant)->admit("gpt-4o", body, 40);
    ASSERT_TRUE(ticket);
    (*ticket)->settle(Usage{100, 20}, "gpt-4o");
  }
  {
    auto unsettled = (*grant)->admit("gpt-4o", body, 40);  // no answer: given back
    ASSERT_TRUE(unsettled);
  }
  EXPECT_EQ(usage_.flush(*store_), 4u);
  const auto id = service_->get("usage")->id;
  const auto rows = store_->usage(id, "", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].requests, 4);
  EXPECT_EQ(rows[0].prompt_tokens, 300);
  EXPECT_EQ(rows[0].completion_tokens, 60);
  EXPECT_NEAR(rows[0].cost_usd, 3 * (100 * 2.5 + 20 * 10) / 1e6, 1e-12);
}

TEST_F(VirtualKeyGateTest, AKeyBudgetSurvivesAReloadAndARestart) {
  KeySpec spec = openai("budget");
  spec.budget = Budget{0.001, std::nullopt, BudgetPeriod::kMonth};  // 1000 micro-dollars
  const std::string key = create(spec);
  Target target;
  auto grant = gate_->resolve(key, target);
  ASSERT_TRUE(grant);
  const nlohmann::json body = {{"max_tokens", 10}};
  auto ticket = (*grant)->admit("gpt-4o", body, 8);
  ASSERT_TRUE(ticket);
  (*ticket)->settle(Usage{200, 100}, "gpt-4o");  // 0.0005 + 0.001: over the budget
  EXPECT_FALSE((*grant)->admit("gpt-4o", body, 8));
  usage_.flush(*store_);

  // A new index (a restart) reads what was spent from the store.
  KeyIndex restarted(*store_, MasterKey::fromBase64(kMasterKey), [this] { return now_; });
  restarted.reload();
  VirtualKeyGate gate(restarted, prices_, usage_, false);
  Target again;
  auto regrant = gate.resolve(key, again);
  ASSERT_TRUE(regrant);
  auto refused = (*regrant)->admit("gpt-4o", body, 8);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 402);
}

TEST_F(VirtualKeyGateTest, AUsdBudgetRefusesModelsWithoutAPrice) {
  KeySpec spec = openai("priced");
  spec.budget = Budget{5.0, std::nullopt, BudgetPeriod::kTotal};
  const std::string key = create(spec);
  Target target;
  auto grant = gate_->resolve(key, target);
  ASSERT_TRUE(grant);
  auto refused = (*grant)->admit("my-own-model", nlohmann::json::object(), 10);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 403);
  EXPECT_TRUE((*grant)->admit("gpt-4o", nlohmann::json::object(), 10));
}

TEST_F(VirtualKeyGateTest, SecretsNeedTheirMasterKey) {
  create(openai("sealed"));
  KeyIndex without(*store_, std::nullopt);
  EXPECT_THROW(without.reload(true), std::runtime_error);
  without.reload();  // not at start-up: the key is left out, the index still loads
  EXPECT_EQ(without.size(), 0u);
  KeyIndex wrong(*store_, MasterKey::fromBase64("AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="));
  try {
    wrong.reload(true);
    ADD_FAILURE() << "a wrong master key opened the secrets";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).find("sk-real-secret"), std::string::npos);
  }
}

TEST_F(VirtualKeyGateTest, TheEstimateUsesMaxTokensElseTheDefault) {
  EXPECT_EQ(VirtualKeyGate::estimate({{"max_tokens", 77}}, 400).completion_tokens, 77);
  EXPECT_EQ(VirtualKeyGate::estimate({{"max_completion_tokens", 5}}, 0).completion_tokens, 5);
  EXPECT_EQ(VirtualKeyGate::estimate(nlohmann::json::object(), 400).completion_tokens,
            VirtualKeyGate::kDefaultCompletionTokens);
  EXPECT_EQ(VirtualKeyGate::estimate(nlohmann::json::object(), 400).prompt_tokens, 101);
  // The largest limit counts, bounded so no client value overflows a counter.
  EXPECT_EQ(VirtualKeyGate::estimate({{"max_tokens", 1}, {"max_completion_tokens", 64000}}, 0)
                .completion_tokens,
            64000);
  EXPECT_EQ(VirtualKeyGate::estimate({{"max_output_tokens", INT64_MAX}}, 0).completion_tokens,
            std::int64_t{1} << 24);
}

}  // namespace
}  // namespace portico::keys
