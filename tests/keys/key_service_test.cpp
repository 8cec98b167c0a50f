// KeyService over the real SQLite store in a temporary directory: create, get, list, update,
// rotate, remove, usage and rekey; validation of every member of the admin API's body; secrets
// sealed and never shown.

#include "keys/key_service.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "keys/key_material.hpp"
#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"
#include "portico/provider_registry.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr const char* kMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kOtherMasterKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
constexpr const char* kSecret = "sk-very-secret-0123456789";

std::filesystem::path uniqueDir() { return testing::uniqueTempPath("portico_ks"); }

std::string messageOf(const GatewayError& error) { return error.body.value("message", ""); }

class KeyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinProviders(registry_);
    catalog_ = registry_.settingsCatalog();
    dir_ = uniqueDir();
    store_ = openSqliteKeyStore(dir_);
    service_ = makeService(master_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<KeyService> makeService(std::optional<MasterKey> master) {
    return std::make_unique<KeyService>(*store_, *catalog_, registry_.ids(), std::move(master),
                                        [this] { return now_; });
  }

  static KeySpec openAiSpec(const std::string& name = "team-a") {
    KeySpec spec;
    spec.name = name;
    spec.provider = "openai";
    spec.api_key = kSecret;
    return spec;
  }

  KeyService::Created mustCreate(const KeySpec& spec) {
    auto created = service_->create(spec);
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().body.dump());
    return created.value();
  }

  // The error of creating a key from an admin API body, through keySpecFromJson.
  GatewayError createError(const json& body) {
    auto spec = keySpecFromJson(body);
    if (!spec) return spec.error();
    auto created = service_->create(*spec);
    EXPECT_FALSE(created.has_value()) << body.dump();
    return created ? GatewayError{} : created.error();
  }

  json opened(const KeyRecord& record, const MasterKey& key) {
    auto text = unseal(key, record.secrets.sealed, record.id);
    return text ? json::parse(*text) : json();
  }

  ProviderRegistry registry_;
  std::shared_ptr<const SettingsCatalog> catalog_;
  std::filesystem::path dir_;
  std::unique_ptr<KeyStore> store_;
  MasterKey master_ = MasterKey::fromBase64(kMasterKey);
  std::int64_t now_ = 1'700'000'000;
  std::unique_ptr<KeyService> service_;
};

TEST_F(KeyServiceTest, CreateReturnsTheKeyOnceAndStoresOnlyItsHash) {
  const auto created = mustCreate(openAiSpec());

  EXPECT_TRUE(created.key.starts_with("pk-"));
  EXPECT_EQ(created.record.key_hash, hashKey(created.key));
  EXPECT_EQ(created.record.key_prefix, created.key.substr(0, 11));
  EXPECT_TRUE(created.record.id.starts_with("vk_"));
  EXPECT_EQ(created.record.created_at, now_);
  EXPECT_EQ(created.record.updated_at, now_);
  EXPECT_EQ(created.record.secrets.master_key_id, master_.id());

  auto by_id = service_->get(created.record.id);
  auto by_name = service_->get("team-a");
  ASSERT_TRUE(by_id.has_value());
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_id->key_hash, created.record.key_hash);
  EXPECT_EQ(by_name->id, created.record.id);
}

TEST_F(KeyServiceTest, KeyViewShowsNoSecretNoHashNoSealedText) {
  KeySpec spec = openAiSpec();
  spec.fields = json{{"openai_organization", "org-1"}};
  const auto created = mustCreate(spec);

  const json view = keyView(created.record);
  const std::string text = view.dump();

  EXPECT_EQ(text.find(kSecret), std::string::npos);
  EXPECT_EQ(text.find(created.record.key_hash), std::string::npos);
  EXPECT_EQ(text.find(created.record.secrets.sealed), std::string::npos);
  EXPECT_EQ(text.find(created.key), std::string::npos);
  EXPECT_EQ(view["id"], created.record.id);
  EXPECT_EQ(view["name"], "team-a");
  EXPECT_EQ(view["provider"], "openai");
  EXPECT_EQ(view["key_prefix"], created.key.substr(0, 11));
  EXPECT_EQ(view["fields"], json({{"openai_organization", "org-1"}}));
  EXPECT_EQ(view["has_secrets"], true);
  EXPECT_EQ(view["master_key_id"], master_.id());
  EXPECT_TRUE(view["budget"].is_null());
  EXPECT_TRUE(view["expires_at"].is_null());
  EXPECT_EQ(view["enabled"], true);
}

TEST_F(KeyServiceTest, SecretFieldsAreSealedWithTheApiKeyAndOpenAgain) {
  KeySpec spec;
  spec.name = "aws";
  spec.provider = "bedrock";
  spec.fields = json{{"aws_access_key_id", "AKIA-ID"},
                     {"aws_secret_access_key", "aws-secret-value"},
                     {"aws_region", "eu-west-1"}};
  const auto created = mustCreate(spec);

  EXPECT_EQ(created.record.fields, json({{"aws_region", "eu-west-1"}}));
  EXPECT_EQ(created.record.secrets.sealed.find("aws-secret-value"), std::string::npos);
  EXPECT_EQ(opened(created.record, master_), json({{"aws_access_key_id", "AKIA-ID"},
                                                   {"aws_secret_access_key", "aws-secret-value"}}));
  // Sealed for this record only.
  EXPECT_FALSE(unseal(master_, created.record.secrets.sealed, "vk_0000000000000000").has_value());
  EXPECT_EQ(keyView(created.record).dump().find("aws-secret-value"), std::string::npos);
}

TEST_F(KeyServiceTest, SecretsWithoutAMasterKeyAreRefused) {
  service_ = makeService(std::nullopt);

  auto created = service_->create(openAiSpec());

  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().status, 400);
  EXPECT_EQ(messageOf(created.error()),
            "a master key is needed to store secrets: set PORTICO_MASTER_KEY or --master-key-file");
  EXPECT_TRUE(service_->list().empty());
}

TEST_F(KeyServiceTest, KeylessProviderNeedsNeitherSecretNorMasterKey) {
  service_ = makeService(std::nullopt);
  KeySpec spec;
  spec.name = "local";
  spec.provider = "ollama";
  spec.custom_host = "http://localhost:11434";

  const auto created = mustCreate(spec);

  EXPECT_TRUE(created.record.secrets.sealed.empty());
  EXPECT_EQ(keyView(created.record)["has_secrets"], false);
  EXPECT_EQ(keyView(created.record)["custom_host"], "http://localhost:11434");
}

struct InvalidCase {
  json body;
  std::string message_part;
};

TEST_F(KeyServiceTest, EveryMemberIsValidated) {
  const json base = {{"name", "k"}, {"provider", "openai"}, {"api_key", "sk-1"}};
  const auto with = [&base](const std::string& member, json value) {
    json body = base;
    body[member] = std::move(value);
    return body;
  };
  const json no_name = {{"provider", "openai"}, {"api_key", "sk-1"}};
  const json no_provider = {{"name", "k"}, {"api_key", "sk-1"}};
  const std::vector<InvalidCase> cases = {
      {no_name, "name: required"},
      {no_provider, "provider: required"},
      {with("name", ""), "name: must be 1 to 100"},
      {with("name", std::string(101, 'n')), "name: must be 1 to 100"},
      {with("name", "bad\nname"), "control characters"},
      {with("name", "vk_looks_like_an_id"), "vk_"},
      {with("name", 7), "name: expected string, received number"},
      {with("provider", "no-such-provider"), "not a registered provider"},
      {with("api_key", 5), "api_key"},
      {with("api_key", ""), "api_key"},
      {with("custom_host", "ftp://example.com"), "custom_host"},
      {with("custom_host", "not a url"), "custom_host"},
      {with("custom_host", 3), "custom_host"},
      {with("models", "gpt-4o"), "models"},
      {with("models", json::array({1})), "models"},
      {with("models", json::array({""})), "models: an entry is empty"},
      {with("models", json(std::vector<std::string>(101, "m"))), "models: at most 100"},
      {with("rpm", -1), "rpm"},
      {with("rpm", "10"), "rpm"},
      {with("rpm", 1.5), "rpm"},
      {with("tpm", -5), "tpm"},
      {with("budget", {{"usd", 0}}), "budget.usd"},
      {with("budget", {{"usd", "5"}}), "budget.usd"},
      {with("budget", {{"tokens", 0}}), "budget.tokens"},
      {with("budget", {{"usd", 1}, {"period", "week"}}), "budget.period"},
      {with("budget", {{"usd", 1}, {"cents", 3}}), "cents"},
      {with("budget", {{"period", "day"}}), "budget"},
      {with("budget", "lots"), "budget"},
      {with("fields", "x"), "fields"},
      {with("fields", {{"no_such_setting", "x"}}), "fields.no_such_setting"},
      {with("fields", {{"openai_organization", 5}}), "fields.openai_organization"},
      {with("fields", {{"vertex_service_account_json", "text"}}), "vertex_service_account_json"},
      {with("expires_at", "2027-13-01"), "expires_at"},
      {with("expires_at", 1.5), "expires_at"},
      {with("expires_at", -10), "expires_at"},
      {with("enabled", "yes"), "enabled"},
      {with("config", json::array({1})), "config"},
      {with("metadata", "x"), "metadata"},
      {with("colour", "blue"), "unknown member 'colour'"},
      {json::array({1}), "body"},
      {{{"name", "k"}, {"provider", "openai"}}, "needs credentials"},
      {{{"name", "k"}, {"provider", "vertex-ai"}, {"api_key", "ya29"}}, "vertex_region"},
  };
  for (const InvalidCase& c : cases) {
    const GatewayError error = createError(c.body);
    EXPECT_EQ(error.status, 400) << c.body.dump();
    EXPECT_NE(messageOf(error).find(c.message_part), std::string::npos)
        << c.body.dump() << " -> " << messageOf(error);
    EXPECT_EQ(error.body["status"], "failure") << c.body.dump();
  }
  EXPECT_TRUE(service_->list().empty());
}

TEST_F(KeyServiceTest, AcceptsEveryMemberFromJson) {
  const json body = {{"name", "full"},
                     {"provider", "openai"},
                     {"api_key", "sk-1"},
                     {"custom_host", "https://llm.example.com/v1"},
                     {"models", {"gpt-4o", "gpt-4o-mini*"}},
                     {"rpm", 60},
                     {"tpm", 10000},
                     {"budget", {{"usd", 12.5}, {"tokens", 1000}, {"period", "month"}}},
                     {"fields", {{"openai_project", "proj"}}},
                     {"expires_at", "2027-01-01"},
                     {"enabled", false},
                     {"config", {{"retry", {{"attempts", 2}}}}},
                     {"metadata", {{"team", "a"}}}};
  auto spec = keySpecFromJson(body);
  ASSERT_TRUE(spec.has_value()) << spec.error().body.dump();
  const auto created = mustCreate(*spec);

  const json view = keyView(service_->get("full").value());
  EXPECT_EQ(view["custom_host"], "https://llm.example.com/v1");
  EXPECT_EQ(view["models"], json({"gpt-4o", "gpt-4o-mini*"}));
  EXPECT_EQ(view["rpm"], 60);
  EXPECT_EQ(view["tpm"], 10000);
  EXPECT_EQ(view["budget"], json({{"usd", 12.5}, {"tokens", 1000}, {"period", "month"}}));
  EXPECT_EQ(view["fields"], json({{"openai_project", "proj"}}));
  EXPECT_EQ(view["expires_at"], 1798761600);
  EXPECT_EQ(view["enabled"], false);
  EXPECT_EQ(view["config"], json({{"retry", {{"attempts", 2}}}}));
  EXPECT_EQ(view["metadata"], json({{"team", "a"}}));
  EXPECT_EQ(view["created_at"], now_);
}

TEST_F(KeyServiceTest, DuplicateNameIs409) {
  mustCreate(openAiSpec("one"));
  mustCreate(openAiSpec("two"));

  auto again = service_->create(openAiSpec("one"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().status, 409);

  KeySpec rename;
  rename.name = "one";
  auto renamed = service_->update("two", rename);
  ASSERT_FALSE(renamed.has_value());
  EXPECT_EQ(renamed.error().status, 409);
}

TEST_F(KeyServiceTest, UpdateChangesWhatItNamesAndKeepsTheRest) {
  KeySpec spec = openAiSpec();
  spec.fields = json{{"openai_organization", "org-1"}, {"openai_project", "p-1"}};
  spec.rpm = 10;
  const auto created = mustCreate(spec);
  now_ += 100;

  KeySpec change;
  change.rpm = 20;
  change.models = std::vector<std::string>{"gpt-4o"};
  change.fields = json{{"openai_project", nullptr}};
  change.enabled = false;
  change.budget = Budget{.usd = 3.0, .tokens = std::nullopt, .period = BudgetPeriod::kDay};
  auto updated = service_->update(created.record.id, change);

  ASSERT_TRUE(updated.has_value()) << updated.error().body.dump();
  EXPECT_EQ(updated->rpm, 20);
  EXPECT_EQ(updated->models, std::vector<std::string>{"gpt-4o"});
  EXPECT_EQ(updated->fields, json({{"openai_organization", "org-1"}}));
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->updated_at, now_);
  EXPECT_EQ(updated->created_at, now_ - 100);
  EXPECT_EQ(updated->key_hash, created.record.key_hash);
  EXPECT_EQ(updated->secrets.sealed, created.record.secrets.sealed);
  const auto stored = service_->get("team-a").value();
  EXPECT_EQ(stored.rpm, 20);
  EXPECT_EQ(keyView(stored)["budget"],
            json({{"usd", 3.0}, {"tokens", nullptr}, {"period", "day"}}));

  KeySpec clear;
  clear.budget = Budget{};
  clear.custom_host = "";
  clear.expires_at = std::optional<std::int64_t>{};
  EXPECT_TRUE(service_->update("team-a", clear).value().budget.empty());
}

TEST_F(KeyServiceTest, UpdatingTheApiKeyReseals) {
  const auto created = mustCreate(openAiSpec());
  KeySpec change;
  change.api_key = "sk-new-secret";

  const KeyRecord updated = service_->update("team-a", change).value();

  EXPECT_NE(updated.secrets.sealed, created.record.secrets.sealed);
  EXPECT_EQ(opened(updated, master_), json({{"api_key", "sk-new-secret"}}));
}

TEST_F(KeyServiceTest, UpdateIsValidatedAsCreateIs) {
  mustCreate(openAiSpec());
  KeySpec bad;
  bad.rpm = -3;
  auto updated = service_->update("team-a", bad);
  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().status, 400);

  KeySpec to_vertex;
  to_vertex.provider = "vertex-ai";
  updated = service_->update("team-a", to_vertex);
  ASSERT_FALSE(updated.has_value());
  EXPECT_NE(messageOf(updated.error()).find("vertex_region"), std::string::npos);
}

TEST_F(KeyServiceTest, UnknownKeysAre404) {
  for (const std::string ref : {"vk_0123456789abcdef", "nobody"}) {
    auto got = service_->get(ref);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().status, 404);
    EXPECT_EQ(messageOf(got.error()), "No virtual key named " + ref);
    EXPECT_EQ(service_->update(ref, KeySpec{}).error().status, 404);
    EXPECT_EQ(service_->rotate(ref).error().status, 404);
    EXPECT_EQ(service_->remove(ref).error().status, 404);
    EXPECT_EQ(service_->usage(ref, "", "").error().status, 404);
  }
}

TEST_F(KeyServiceTest, RotateGivesANewKeyForTheSameRecord) {
  const auto created = mustCreate(openAiSpec());
  now_ += 5;

  const auto rotated = service_->rotate("team-a").value();

  EXPECT_EQ(rotated.record.id, created.record.id);
  EXPECT_NE(rotated.key, created.key);
  EXPECT_EQ(rotated.record.key_hash, hashKey(rotated.key));
  EXPECT_EQ(rotated.record.key_prefix, rotated.key.substr(0, 11));
  EXPECT_EQ(service_->get(created.record.id)->key_hash, hashKey(rotated.key));
  EXPECT_EQ(service_->get(created.record.id)->updated_at, now_);
  EXPECT_EQ(opened(rotated.record, master_), json({{"api_key", kSecret}}));
}

TEST_F(KeyServiceTest, RemoveAndListInCreationOrder) {
  mustCreate(openAiSpec("first"));
  now_ += 1;
  mustCreate(openAiSpec("second"));
  now_ += 1;
  mustCreate(openAiSpec("third"));

  EXPECT_TRUE(service_->remove("second").value());

  const auto keys = service_->list();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "first");
  EXPECT_EQ(keys[1].name, "third");
  EXPECT_EQ(service_->get("second").error().status, 404);
}

TEST_F(KeyServiceTest, UsageOfOneKeyOrAllWithDays) {
  const auto a = mustCreate(openAiSpec("a")).record;
  const auto b = mustCreate(openAiSpec("b")).record;
  store_->addUsage({{a.id, "2026-01-01", "gpt-4o", 2, 10, 20, 1, 0.5},
                    {a.id, "2026-01-02", "gpt-4o", 1, 5, 5, 0, 0.25},
                    {b.id, "2026-01-02", "gpt-4o-mini", 3, 1, 1, 0, 0.01}});

  EXPECT_EQ(service_->usage("", "", "").value().size(), 3u);
  EXPECT_EQ(service_->usage("a", "", "").value().size(), 2u);
  const auto second_day = service_->usage("", "2026-01-02", "2026-01-02").value();
  ASSERT_EQ(second_day.size(), 2u);

  const json view = usageView(service_->usage("b", "", "").value());
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0], json({{"key_id", b.id},
                           {"day", "2026-01-02"},
                           {"model", "gpt-4o-mini"},
                           {"requests", 3},
                           {"prompt_tokens", 1},
                           {"completion_tokens", 1},
                           {"cached_tokens", 0},
                           {"cost_usd", 0.01}}));
  EXPECT_EQ(service_->usage("", "2026-1-2", "").error().status, 400);
  EXPECT_EQ(service_->usage("", "", "tomorrow").error().status, 400);
}

TEST_F(KeyServiceTest, RekeyResealsUnderTheNextMasterKey) {
  const auto one = mustCreate(openAiSpec("one")).record;
  const auto two = mustCreate(openAiSpec("two")).record;
  KeySpec keyless;
  keyless.name = "local";
  keyless.provider = "ollama";
  mustCreate(keyless);
  const MasterKey next = MasterKey::fromBase64(kOtherMasterKey);

  EXPECT_EQ(service_->rekey(next).value(), 2);

  for (const std::string& id : {one.id, two.id}) {
    const KeyRecord record = service_->get(id).value();
    EXPECT_EQ(record.secrets.master_key_id, next.id());
    EXPECT_FALSE(unseal(master_, record.secrets.sealed, record.id).has_value());
    EXPECT_EQ(opened(record, next), json({{"api_key", kSecret}}));
  }
  // Already under `next`: nothing to do, even with the old key loaded.
  EXPECT_EQ(service_->rekey(next).value(), 0);
}

TEST_F(KeyServiceTest, RekeyNamesTheMasterKeyItNeeds) {
  mustCreate(openAiSpec());
  const MasterKey next = MasterKey::fromBase64(kOtherMasterKey);
  const MasterKey third = MasterKey::fromBase64("YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWI=");

  service_ = makeService(third);
  auto wrong = service_->rekey(next);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(messageOf(wrong.error()).find(master_.id()), std::string::npos);

  service_ = makeService(std::nullopt);
  auto none = service_->rekey(next);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(messageOf(none.error()).find(master_.id()), std::string::npos);
  EXPECT_EQ(service_->get("team-a")->secrets.master_key_id, master_.id());
}

TEST(KeyServiceDates, ParseDateTakesDaysAndUtcTimes) {
  EXPECT_EQ(parseDate("1970-01-01"), 0);
  EXPECT_EQ(parseDate("2027-01-01"), 1798761600);
  EXPECT_EQ(parseDate("2024-02-29"), 1709164800);
  EXPECT_EQ(parseDate("2027-01-01T01:02:03Z"), 1798761600 + 3723);
  for (const char* bad :
       {"", "2027-1-01", "2023-02-29", "2027-00-10", "2027-01-32", "2027-01-01T24:00:00Z",
        "2027-01-01 01:02:03", "2027/01/01", "abcd-ef-gh", "2027-01-01T01:02:03"}) {
    EXPECT_FALSE(parseDate(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace portico::keys
