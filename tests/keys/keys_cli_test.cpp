// `portico keys ...` through runKeysCli, on a store in a temporary directory: every verb, its
// output and exit code, secrets only from stdin or files (and never printed), and rekey.

#include "keys/keys_cli.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "keys/key_material.hpp"
#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr const char* kMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kNextMasterKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
constexpr const char* kSecret = "sk-cli-secret-0123456789";

std::filesystem::path uniqueDir() { return testing::uniqueTempPath("portico_cli"); }

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;

  std::string lastLine() const {
    std::string text = out;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const auto newline = text.rfind('\n');
    return newline == std::string::npos ? text : text.substr(newline + 1);
  }
};

class KeysCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("PORTICO_MASTER_KEY");
    ::unsetenv("PORTICO_DATA_DIR");
    registerBuiltinProviders(registry_);
    dir_ = uniqueDir();
    std::filesystem::create_directories(dir_);
    master_file_ = writeFile("master.key", std::string(kMasterKey) + "\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string writeFile(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }

  std::string dataDir() const { return (dir_ / "data").string(); }

  // Runs `portico keys args...` on the test's store and master key.
  CliResult run(std::vector<std::string> args, const std::string& input = "", bool keyed = true) {
    args.insert(args.end(), {"--data-dir", dataDir()});
    if (keyed) args.insert(args.end(), {"--master-key-file", master_file_});
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    CliResult result;
    result.code = runKeysCli(args, registry_, in, out, err);
    result.out = out.str();
    result.err = err.str();
    EXPECT_EQ(result.out.find(kSecret), std::string::npos) << result.out;
    EXPECT_EQ(result.err.find(kSecret), std::string::npos) << result.err;
    return result;
  }

  // Creates "team-a" (openai) with the secret on stdin; returns the printed key.
  std::string createTeamA() {
    CliResult created = run(
        {"create", "--name", "team-a", "--provider", "openai", "--api-key-stdin", "--rpm", "60"},
        std::string(kSecret) + "\n");
    EXPECT_EQ(created.code, 0) << created.err;
    return created.lastLine();
  }

  std::unique_ptr<KeyStore> openStore() const { return openSqliteKeyStore(dataDir()); }

  ProviderRegistry registry_;
  std::filesystem::path dir_;
  std::string master_file_;
};

TEST_F(KeysCliTest, CreatePrintsTheKeyAsTheLastLine) {
  const std::string key = createTeamA();

  ASSERT_TRUE(key.starts_with("pk-")) << key;
  EXPECT_EQ(key.size(), 67u);
  const auto record = openStore()->findByName("team-a");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->key_hash, hashKey(key));
  EXPECT_EQ(record->rpm, 60);
  // One trailing newline trimmed off stdin, nothing else.
  const auto secrets =
      unseal(MasterKey::fromBase64(kMasterKey), record->secrets.sealed, record->id);
  ASSERT_TRUE(secrets.has_value());
  EXPECT_EQ(json::parse(*secrets), json({{"api_key", kSecret}}));
}

TEST_F(KeysCliTest, CreateTakesEveryOption) {
  const std::string key_file = writeFile("api.key", std::string(kSecret) + "\n");
  const std::string config = writeFile("config.json", R"({"retry": {"attempts": 3}})");
  CliResult created = run({"create",
                           "--name",
                           "full",
                           "--provider",
                           "openai",
                           "--api-key-file",
                           key_file,
                           "--custom-host",
                           "https://llm.example.com/v1",
                           "--models",
                           "gpt-4o, gpt-4o-mini*",
                           "--tpm",
                           "1000",
                           "--budget-usd",
                           "12.5",
                           "--budget-period",
                           "month",
                           "--field",
                           "openai_project=proj",
                           "--expires",
                           "2027-01-01",
                           "--config-file",
                           config});
  ASSERT_EQ(created.code, 0) << created.err;

  const KeyRecord record = openStore()->findByName("full").value();
  EXPECT_EQ(record.custom_host, "https://llm.example.com/v1");
  EXPECT_EQ(record.models, (std::vector<std::string>{"gpt-4o", "gpt-4o-mini*"}));
  EXPECT_EQ(record.tpm, 1000);
  EXPECT_EQ(record.budget.usd, 12.5);
  EXPECT_EQ(record.budget.period, BudgetPeriod::kMonth);
  EXPECT_EQ(record.fields, json({{"openai_project", "proj"}}));
  EXPECT_EQ(record.expires_at, 1798761600);
  EXPECT_EQ(record.config, json({{"retry", {{"attempts", 3}}}}));
}

TEST_F(KeysCliTest, SecretsOnTheCommandLineAreRefused) {
  CliResult api_key = run({"create", "--name", "x", "--provider", "openai", "--api-key", kSecret});
  EXPECT_EQ(api_key.code, 2);
  EXPECT_NE(api_key.err.find("--api-key-stdin"), std::string::npos);
  CliResult inline_key =
      run({"create", "--name", "x", "--provider", "openai", "--api-key=" + std::string(kSecret)});
  EXPECT_EQ(inline_key.code, 2);

  CliResult field = run({"create", "--name", "x", "--provider", "bedrock", "--field",
                         "aws_secret_access_key=" + std::string(kSecret)});
  EXPECT_EQ(field.code, 2);
  EXPECT_NE(field.err.find("--field-stdin aws_secret_access_key"), std::string::npos);
  EXPECT_TRUE(openStore()->all().empty());
}

TEST_F(KeysCliTest, SecretFieldsComeFromStdinOrAFile) {
  const std::string id_file = writeFile("id.txt", "AKIA-CLI\n");
  CliResult created = run({"create", "--name", "aws", "--provider", "bedrock", "--field-file",
                           "aws_access_key_id=" + id_file, "--field-stdin", "aws_secret_access_key",
                           "--field", "aws_region=eu-west-1"},
                          kSecret);
  ASSERT_EQ(created.code, 0) << created.err;

  const KeyRecord record = openStore()->findByName("aws").value();
  EXPECT_EQ(record.fields, json({{"aws_region", "eu-west-1"}}));
  const auto secrets = unseal(MasterKey::fromBase64(kMasterKey), record.secrets.sealed, record.id);
  EXPECT_EQ(json::parse(secrets.value()),
            json({{"aws_access_key_id", "AKIA-CLI"}, {"aws_secret_access_key", kSecret}}));

  CliResult twice = run({"create", "--name", "b", "--provider", "openai", "--api-key-stdin",
                         "--field-stdin", "aws_secret_access_key"},
                        kSecret);
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("stdin"), std::string::npos);
}

TEST_F(KeysCliTest, RefusalsExitWithOne) {
  CliResult no_master = run({"create", "--name", "x", "--provider", "openai", "--api-key-stdin"},
                            kSecret, /*keyed=*/false);
  EXPECT_EQ(no_master.code, 1);
  EXPECT_NE(no_master.err.find("PORTICO_MASTER_KEY"), std::string::npos);

  EXPECT_EQ(run({"create", "--name", "x", "--provider", "nope", "--api-key-stdin"}, kSecret).code,
            1);
  EXPECT_EQ(run({"create", "--name", "x", "--provider", "openai"}).code, 1);
  EXPECT_EQ(run({"create", "--name", "x", "--provider", "ollama", "--rpm", "-1"}).code, 1);
  createTeamA();
  CliResult duplicate =
      run({"create", "--name", "team-a", "--provider", "openai", "--api-key-stdin"}, kSecret);
  EXPECT_EQ(duplicate.code, 1);
  CliResult unknown = run({"show", "nobody"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("No virtual key named nobody"), std::string::npos);
  EXPECT_EQ(run({"delete", "nobody"}).code, 1);
  EXPECT_EQ(run({"rotate", "nobody"}).code, 1);
}

TEST_F(KeysCliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run({"frobnicate"}).code, 2);
  EXPECT_EQ(run({"list", "--colour"}).code, 2);
  EXPECT_EQ(run({"list", "--rpm", "5"}).code, 2);
  EXPECT_EQ(run({"show"}).code, 2);
  EXPECT_EQ(run({"show", "a", "b"}).code, 2);
  EXPECT_EQ(run({"create", "--provider", "openai"}).code, 2);
  EXPECT_EQ(run({"create", "--name", "x", "--provider", "ollama", "--rpm", "many"}).code, 2);
  EXPECT_EQ(run({"rekey"}).code, 2);
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(runKeysCli({}, registry_, in, out, err), 2);
  EXPECT_EQ(runKeysCli({"list", "--data-dir"}, registry_, in, out, err), 2);
  EXPECT_NE(err.str().find("--data-dir needs a value"), std::string::npos);
  EXPECT_NE(err.str().find("usage: portico keys"), std::string::npos);
}

TEST_F(KeysCliTest, HelpExitsWithZero) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(runKeysCli({"--help"}, registry_, in, out, err), 0);
  EXPECT_NE(out.str().find("usage: portico keys"), std::string::npos);
  EXPECT_NE(out.str().find("rekey"), std::string::npos);
}

TEST_F(KeysCliTest, ListAndShow) {
  createTeamA();
  ASSERT_EQ(run({"create", "--name", "local", "--provider", "ollama", "--budget-tokens", "500",
                 "--budget-period", "day"})
                .code,
            0);

  CliResult table = run({"list"});
  ASSERT_EQ(table.code, 0);
  EXPECT_NE(table.out.find("PROVIDER"), std::string::npos);
  EXPECT_NE(table.out.find("team-a"), std::string::npos);
  EXPECT_NE(table.out.find("500tok/day"), std::string::npos);
  const KeyRecord record = openStore()->findByName("team-a").value();
  EXPECT_NE(table.out.find(record.key_prefix), std::string::npos);
  EXPECT_EQ(table.out.find(record.key_hash), std::string::npos);

  CliResult listed = run({"list", "--json"});
  ASSERT_EQ(listed.code, 0);
  const json data = json::parse(listed.out);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1]["name"], "local");

  CliResult shown = run({"show", "team-a", "--json"});
  ASSERT_EQ(shown.code, 0);
  EXPECT_EQ(json::parse(shown.out)["id"], record.id);
  CliResult plain = run({"show", record.id});
  ASSERT_EQ(plain.code, 0);
  EXPECT_NE(plain.out.find("provider: openai"), std::string::npos);
  EXPECT_EQ(plain.out.find(record.secrets.sealed), std::string::npos);
}

TEST_F(KeysCliTest, UpdateEnableDisable) {
  createTeamA();

  CliResult updated = run({"update", "team-a", "--tpm", "99", "--models", "gpt-4o", "--expires",
                           "2030-06-01", "--budget-usd", "5"});
  ASSERT_EQ(updated.code, 0) << updated.err;
  KeyRecord record = openStore()->findByName("team-a").value();
  EXPECT_EQ(record.tpm, 99);
  EXPECT_EQ(record.rpm, 60);
  EXPECT_EQ(record.models, std::vector<std::string>{"gpt-4o"});
  EXPECT_EQ(record.budget.usd, 5.0);

  EXPECT_EQ(run({"disable", "team-a"}).code, 0);
  EXPECT_FALSE(openStore()->findByName("team-a")->enabled);
  EXPECT_EQ(run({"enable", record.id}).code, 0);
  EXPECT_TRUE(openStore()->findByName("team-a")->enabled);
  EXPECT_EQ(run({"update", "team-a", "--disable"}).code, 0);
  EXPECT_FALSE(openStore()->findByName("team-a")->enabled);
  EXPECT_EQ(run({"update", "team-a", "--enable", "--disable"}).code, 2);

  EXPECT_EQ(run({"update", "team-a", "--no-budget", "--expires", "never"}).code, 0);
  record = openStore()->findByName("team-a").value();
  EXPECT_TRUE(record.budget.empty());
  EXPECT_FALSE(record.expires_at.has_value());

  CliResult rekeyed = run({"update", "team-a", "--api-key-stdin"}, "sk-other-secret");
  ASSERT_EQ(rekeyed.code, 0) << rekeyed.err;
  record = openStore()->findByName("team-a").value();
  const auto secrets = unseal(MasterKey::fromBase64(kMasterKey), record.secrets.sealed, record.id);
  EXPECT_EQ(json::parse(secrets.value()), json({{"api_key", "sk-other-secret"}}));
}

TEST_F(KeysCliTest, RotateAndDelete) {
  const std::string first = createTeamA();

  CliResult rotated = run({"rotate", "team-a"});
  ASSERT_EQ(rotated.code, 0) << rotated.err;
  const std::string second = rotated.lastLine();
  EXPECT_TRUE(second.starts_with("pk-"));
  EXPECT_NE(second, first);
  EXPECT_EQ(openStore()->findByName("team-a")->key_hash, hashKey(second));

  EXPECT_EQ(run({"delete", "team-a"}).code, 0);
  EXPECT_TRUE(openStore()->all().empty());
  EXPECT_EQ(run({"show", "team-a"}).code, 1);
}

TEST_F(KeysCliTest, UsageTableAndJson) {
  createTeamA();
  const std::string id = openStore()->findByName("team-a")->id;
  openStore()->addUsage({{id, "2026-04-01", "gpt-4o", 3, 30, 12, 2, 0.042},
                         {id, "2026-04-02", "gpt-4o", 1, 10, 4, 0, 0.01}});

  CliResult table = run({"usage", "team-a"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("COMPLETION"), std::string::npos);
  EXPECT_NE(table.out.find("2026-04-01"), std::string::npos);

  CliResult filtered = run({"usage", "--from", "2026-04-02", "--json"});
  ASSERT_EQ(filtered.code, 0) << filtered.err;
  const json rows = json::parse(filtered.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["prompt_tokens"], 10);
  EXPECT_EQ(run({"usage", "--from", "April"}).code, 1);
}

TEST_F(KeysCliTest, RekeyMovesSecretsToTheNewMasterKey) {
  createTeamA();
  ASSERT_EQ(run({"create", "--name", "local", "--provider", "ollama"}).code, 0);
  const std::string next_file = writeFile("next.key", kNextMasterKey);

  CliResult rekeyed = run({"rekey", "--new-master-key-file", next_file});
  ASSERT_EQ(rekeyed.code, 0) << rekeyed.err;
  EXPECT_NE(rekeyed.out.find("Re-sealed 1 key"), std::string::npos) << rekeyed.out;

  const MasterKey old_key = MasterKey::fromBase64(kMasterKey);
  const MasterKey new_key = MasterKey::fromBase64(kNextMasterKey);
  const KeyRecord record = openStore()->findByName("team-a").value();
  EXPECT_EQ(record.secrets.master_key_id, new_key.id());
  EXPECT_FALSE(unseal(old_key, record.secrets.sealed, record.id).has_value());
  EXPECT_EQ(json::parse(unseal(new_key, record.secrets.sealed, record.id).value()),
            json({{"api_key", kSecret}}));

  // The old master key can no longer change the secrets; the new one can.
  CliResult with_old = run({"update", "team-a", "--api-key-stdin"}, "sk-x");
  EXPECT_EQ(with_old.code, 1);
  EXPECT_NE(with_old.err.find(new_key.id()), std::string::npos) << with_old.err;
  master_file_ = next_file;
  EXPECT_EQ(run({"update", "team-a", "--api-key-stdin"}, "sk-x").code, 0);
}

TEST_F(KeysCliTest, DataDirComesFromTheEnvironment) {
  ::setenv("PORTICO_DATA_DIR", dataDir().c_str(), 1);
  ::setenv("PORTICO_MASTER_KEY", kMasterKey, 1);
  std::istringstream in(kSecret);
  std::ostringstream out;
  std::ostringstream err;
  const int code =
      runKeysCli({"create", "--name", "env", "--provider", "openai", "--api-key-stdin"}, registry_,
                 in, out, err);
  ::unsetenv("PORTICO_DATA_DIR");
  ::unsetenv("PORTICO_MASTER_KEY");
  ASSERT_EQ(code, 0) << err.str();
  EXPECT_TRUE(openStore()->findByName("env").has_value());
}

}  // namespace
}  // namespace portico::keys
