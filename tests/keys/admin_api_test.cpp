// The admin API without a transport: its token check, every route with its statuses (201, 200,
// 400, 401, 404, 405, 409), the change callback, and that no answer carries a secret.

#include "keys/admin_api.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"
#include "portico/provider_registry.hpp"
#include "support/temp_path.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr const char* kMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kToken = "admin-token-0123456789";
constexpr const char* kAuth = "Bearer admin-token-0123456789";
constexpr const char* kSecret = "sk-admin-secret-value";

std::filesystem::path uniqueDir() { return testing::uniqueTempPath("portico_admin"); }

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registerBuiltinProviders(registry_);
    catalog_ = registry_.settingsCatalog();
    dir_ = uniqueDir();
    store_ = openSqliteKeyStore(dir_);
    service_ = std::make_unique<KeyService>(*store_, *catalog_, registry_.ids(),
                                            MasterKey::fromBase64(kMasterKey));
    api_ = std::make_unique<AdminApi>(*service_, kToken, [this] { ++changes_; });
  }
  void TearDown() override {
    api_.reset();
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  AdminAnswer call(std::string_view method,
                   std::string_view path,
                   std::string_view body = "",
                   std::string_view query = "") {
    AdminAnswer answer = api_->handle(method, path, query, kAuth, body);
    EXPECT_EQ(answer.body.dump().find(kSecret), std::string::npos) << answer.body.dump();
    return answer;
  }

  // Creates "team-a" (openai) and returns the answer's body.
  json createTeamA() {
    const json body = {{"name", "team-a"}, {"provider", "openai"}, {"api_key", kSecret}};
    AdminAnswer created = call("POST", "/admin/v1/keys", body.dump());
    EXPECT_EQ(created.status, 201) << created.body.dump();
    return created.body;
  }

  static std::string messageOf(const AdminAnswer& answer) {
    return answer.body.value("message", "");
  }

  ProviderRegistry registry_;
  std::shared_ptr<const SettingsCatalog> catalog_;
  std::filesystem::path dir_;
  std::unique_ptr<KeyStore> store_;
  std::unique_ptr<KeyService> service_;
  std::unique_ptr<AdminApi> api_;
  int changes_ = 0;
};

TEST_F(AdminApiTest, WithoutTheRightTokenEveryRouteIs401) {
  const char* wrong[] = {"",
                         "Bearer",
                         "Bearer ",
                         "Basic YWRtaW46YWRtaW4=",
                         "Bearer admin-token-012345678",    // one short
                         "Bearer admin-token-0123456789x",  // one long
                         "Bearer admin-token-0123456780",   // same length, last byte differs
                         "Bearer xdmin-token-0123456789",   // same length, first byte differs
                         "admin-token-0123456789"};
  for (const char* authorization : wrong) {
    for (const char* path : {"/admin/v1/keys", "/admin/v1/usage", "/admin/v1/nowhere"}) {
      AdminAnswer answer = api_->handle("GET", path, "", authorization, "");
      EXPECT_EQ(answer.status, 401) << authorization;
      EXPECT_EQ(answer.body["status"], "failure");
      EXPECT_EQ(answer.body["error"]["code"], "unauthorized");
    }
  }
  EXPECT_EQ(api_->handle("POST", "/admin/v1/keys", "", "", "{}").status, 401);
  EXPECT_EQ(changes_, 0);
}

TEST_F(AdminApiTest, TokenSchemeIsCaseInsensitive) {
  EXPECT_EQ(api_->handle("GET", "/admin/v1/keys", "", "bearer admin-token-0123456789", "").status,
            200);
  EXPECT_EQ(api_->handle("GET", "/admin/v1/keys", "", "BEARER admin-token-0123456789", "").status,
            200);
}

TEST_F(AdminApiTest, AnEmptyConfiguredTokenLetsNobodyIn) {
  AdminApi closed(*service_, "", [] {});
  EXPECT_EQ(closed.handle("GET", "/admin/v1/keys", "", "Bearer ", "").status, 401);
  EXPECT_EQ(closed.handle("GET", "/admin/v1/keys", "", "", "").status, 401);
}

TEST_F(AdminApiTest, CreateAnswers201WithTheKeyOnce) {
  const json created = createTeamA();

  EXPECT_TRUE(created["id"].get<std::string>().starts_with("vk_"));
  const std::string key = created["key"];
  EXPECT_TRUE(key.starts_with("pk-"));
  EXPECT_EQ(created["key_prefix"], key.substr(0, 11));
  EXPECT_EQ(created["name"], "team-a");
  EXPECT_EQ(created["has_secrets"], true);
  EXPECT_EQ(changes_, 1);

  AdminAnswer got = call("GET", "/admin/v1/keys/" + created["id"].get<std::string>());
  EXPECT_EQ(got.status, 200);
  EXPECT_FALSE(got.body.contains("key"));
  EXPECT_EQ(got.body.dump().find(key), std::string::npos);
}

TEST_F(AdminApiTest, ListGetByIdOrEscapedName) {
  createTeamA();
  const json body = {{"name", "my key"}, {"provider", "ollama"}};
  ASSERT_EQ(call("POST", "/admin/v1/keys", body.dump()).status, 201);

  AdminAnswer list = call("GET", "/admin/v1/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["object"], "list");
  ASSERT_EQ(list.body["data"].size(), 2u);
  EXPECT_EQ(list.body["data"][0]["name"], "team-a");
  EXPECT_EQ(list.body["data"][1]["name"], "my key");

  AdminAnswer by_name = call("GET", "/admin/v1/keys/my%20key");
  ASSERT_EQ(by_name.status, 200) << by_name.body.dump();
  EXPECT_EQ(by_name.body["provider"], "ollama");
  EXPECT_EQ(call("GET", "/admin/v1/keys/team-a").body["provider"], "openai");
}

TEST_F(AdminApiTest, PatchUpdatesAndValidates) {
  createTeamA();

  AdminAnswer patched = call("PATCH", "/admin/v1/keys/team-a", R"({"rpm": 30, "enabled": false})");
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  EXPECT_EQ(patched.body["rpm"], 30);
  EXPECT_EQ(patched.body["enabled"], false);
  EXPECT_EQ(changes_, 2);

  AdminAnswer bad = call("PATCH", "/admin/v1/keys/team-a", R"({"rpm": -1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(messageOf(bad).find("rpm"), std::string::npos);
  AdminAnswer unknown = call("PATCH", "/admin/v1/keys/team-a", R"({"colour": "red"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(messageOf(unknown).find("colour"), std::string::npos);
  EXPECT_EQ(call("PATCH", "/admin/v1/keys/team-a", "{not json").status, 400);
  EXPECT_EQ(call("PATCH", "/admin/v1/keys/nobody", R"({"rpm": 1})").status, 404);
  EXPECT_EQ(changes_, 2);
}

TEST_F(AdminApiTest, CreateRefusalsAre400And409) {
  EXPECT_EQ(call("POST", "/admin/v1/keys", "").status, 400);
  EXPECT_EQ(call("POST", "/admin/v1/keys", "{\"name\":").status, 400);
  EXPECT_EQ(call("POST", "/admin/v1/keys", "[1,2]").status, 400);
  AdminAnswer unknown =
      call("POST", "/admin/v1/keys", R"({"name":"x","provider":"ollama","size":3})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(messageOf(unknown).find("'size'"), std::string::npos);
  createTeamA();

  const json again = {{"name", "team-a"}, {"provider", "openai"}, {"api_key", kSecret}};
  AdminAnswer duplicate = call("POST", "/admin/v1/keys", again.dump());
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["status"], "failure");
  EXPECT_EQ(changes_, 1);
}

TEST_F(AdminApiTest, RotateGivesANewKey) {
  const json created = createTeamA();
  const std::string id = created["id"];

  AdminAnswer rotated = call("POST", "/admin/v1/keys/" + id + "/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body.dump();
  EXPECT_EQ(rotated.body["id"], id);
  EXPECT_TRUE(rotated.body["key"].get<std::string>().starts_with("pk-"));
  EXPECT_NE(rotated.body["key"], created["key"]);
  EXPECT_EQ(changes_, 2);
  EXPECT_EQ(call("POST", "/admin/v1/keys/nobody/rotate").status, 404);
}

TEST_F(AdminApiTest, DeleteRemovesTheKey) {
  const std::string id = createTeamA()["id"];

  AdminAnswer deleted = call("DELETE", "/admin/v1/keys/team-a");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body["id"], id);
  EXPECT_EQ(deleted.body["deleted"], true);
  EXPECT_EQ(changes_, 2);
  EXPECT_EQ(call("GET", "/admin/v1/keys/" + id).status, 404);
  AdminAnswer again = call("DELETE", "/admin/v1/keys/" + id);
  EXPECT_EQ(again.status, 404);
  EXPECT_NE(messageOf(again).find(id), std::string::npos);
}

TEST_F(AdminApiTest, UsageOfOneKeyAndOfAll) {
  const std::string a = createTeamA()["id"];
  const json other = {{"name", "b"}, {"provider", "ollama"}};
  const std::string b = call("POST", "/admin/v1/keys", other.dump()).body["id"];
  store_->addUsage({{a, "2026-03-01", "gpt-4o", 1, 10, 5, 0, 0.1},
                    {a, "2026-03-02", "gpt-4o", 2, 20, 10, 0, 0.2},
                    {b, "2026-03-02", "llama3", 4, 1, 1, 0, 0}});

  AdminAnswer all = call("GET", "/admin/v1/usage");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body["object"], "list");
  EXPECT_EQ(all.body["data"].size(), 3u);

  AdminAnswer day = call("GET", "/admin/v1/usage", "", "from=2026-03-02&to=2026-03-02");
  EXPECT_EQ(day.body["data"].size(), 2u);

  AdminAnswer one = call("GET", "/admin/v1/keys/team-a/usage", "", "from=2026-03-02");
  ASSERT_EQ(one.status, 200);
  ASSERT_EQ(one.body["data"].size(), 1u);
  EXPECT_EQ(one.body["data"][0]["requests"], 2);
  EXPECT_EQ(one.body["data"][0]["key_id"], a);

  EXPECT_EQ(call("GET", "/admin/v1/usage", "", "from=March").status, 400);
  EXPECT_EQ(call("GET", "/admin/v1/keys/nobody/usage").status, 404);
}

TEST_F(AdminApiTest, UnknownPathsAre404AndWrongMethods405) {
  createTeamA();
  for (const char* path : {"/admin/v1/", "/admin/v1/nope", "/admin/v1/keys/team-a/nope",
                           "/admin/v1/keys/team-a/usage/more", "/admin/v2/keys", "/admin/v1/keys/",
                           "/admin/v1//keys", "/admin/v1/keys/%zz"}) {
    AdminAnswer answer = call("GET", path);
    EXPECT_EQ(answer.status, 404) << path;
    EXPECT_EQ(answer.body["status"], "failure") << path;
  }
  const std::pair<const char*, const char*> not_allowed[] = {
      {"PUT", "/admin/v1/keys"},
      {"DELETE", "/admin/v1/keys"},
      {"POST", "/admin/v1/keys/team-a"},
      {"PUT", "/admin/v1/keys/team-a"},
      {"GET", "/admin/v1/keys/team-a/rotate"},
      {"POST", "/admin/v1/keys/team-a/usage"},
      {"POST", "/admin/v1/usage"},
      {"DELETE", "/admin/v1/usage"}};
  for (const auto& [method, path] : not_allowed) {
    AdminAnswer answer = call(method, path);
    EXPECT_EQ(answer.status, 405) << method << " " << path;
    EXPECT_EQ(answer.body["status"], "failure");
  }
  EXPECT_EQ(changes_, 1);
}

TEST_F(AdminApiTest, SecretFieldsNeverComeBack) {
  const json body = {{"name", "aws"},
                     {"provider", "bedrock"},
                     {"fields",
                      {{"aws_access_key_id", "AKIA-ADMIN"},
                       {"aws_secret_access_key", kSecret},
                       {"aws_region", "us-east-1"}}}};
  AdminAnswer created = call("POST", "/admin/v1/keys", body.dump());
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["fields"], json({{"aws_region", "us-east-1"}}));
  EXPECT_EQ(created.body.dump().find("AKIA-ADMIN"), std::string::npos);
  EXPECT_EQ(call("GET", "/admin/v1/keys").body.dump().find("AKIA-ADMIN"), std::string::npos);
}

}  // namespace
}  // namespace portico::keys
