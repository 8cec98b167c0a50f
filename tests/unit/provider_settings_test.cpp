#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "portico/config.hpp"
#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"

namespace portico {
namespace {

using nlohmann::json;

const char* const kOneOf =
    "Invalid configuration. It must have either 'provider' and 'api_key', or 'strategy' and "
    "'targets', or 'cache', or 'retry', or 'request_timeout'";

// A provider that only declares settings.
class FakeAdapter : public ProviderAdapter {
 public:
  FakeAdapter(std::string id, ProviderSettings settings)
      : id_(std::move(id)), settings_(std::move(settings)) {}
  std::string_view id() const override { return id_; }
  bool supports(Endpoint) const override { return true; }
  const ProviderSettings& settings() const override { return settings_; }
  Expected<ProviderCallPtr> open(const ClientRequest&, const Target&) const override {
    return errors::failure(500, "fake");
  }

 private:
  std::string id_;
  ProviderSettings settings_;
};

ProviderRegistry fakeRegistry(std::vector<std::pair<std::string, ProviderSettings>> providers) {
  ProviderRegistry registry;
  for (auto& [id, settings] : providers) {
    registry.add(std::make_unique<FakeAdapter>(id, std::move(settings)));
  }
  return registry;
}

ConfigParseOptions optionsFor(const ProviderRegistry& registry) {
  ConfigParseOptions options = configParseOptions(registry);
  options.is_valid_custom_host = [](std::string_view) { return true; };
  return options;
}

std::vector<std::string> problems(std::string_view text, const ConfigParseOptions& options) {
  auto result = parseConfig(text, options);
  if (result.has_value()) {
    ADD_FAILURE() << "expected an error for " << text;
    return {};
  }
  EXPECT_EQ(result.error().status, 400);
  const auto& body = result.error().body;
  if (!body.contains("errors")) return {};
  return body["errors"].get<std::vector<std::string>>();
}

std::vector<std::string> lines(std::initializer_list<std::string> l) { return l; }

TEST(ProviderRegistrySettingsTest, ConfigParseOptionsComeFromTheRegistry) {
  ProviderRegistry registry = fakeRegistry({{"acme", {}}, {"zeta", {}}});
  registry.addAlias("acme-ai", "acme");
  ConfigParseOptions options = configParseOptions(registry);
  EXPECT_EQ(options.provider_ids, (std::vector<std::string>{"acme", "zeta"}));
  EXPECT_EQ(options.provider_aliases.at("acme-ai"), "acme");
  ASSERT_NE(options.settings, nullptr);
  EXPECT_FALSE(options.is_valid_custom_host);
}

TEST(ProviderRegistrySettingsTest, DeclaredFieldIsTypeChecked) {
  ProviderSettings acme{
      .fields = {{.name = "acme_region", .header = "x-portkey-acme-region"},
                 {.name = "acme_account", .type = SettingType::kStringMap, .secret = true},
                 {.name = "acme_flags", .type = SettingType::kAny}}};
  ProviderRegistry registry = fakeRegistry({{"acme", acme}, {"other", {}}});
  const ConfigParseOptions options = optionsFor(registry);

  EXPECT_EQ(problems(R"({"provider":"acme","api_key":"k","acme_region":5})", options),
            lines({"path: acme_region, message: Expected string, received number"}));
  // Portkey's schema is global: the field is checked whatever the node's provider.
  EXPECT_EQ(problems(R"({"provider":"other","api_key":"k","acmeRegion":true})", options),
            lines({"path: acme_region, message: Expected string, received boolean"}));
  EXPECT_EQ(problems(R"({"provider":"acme","api_key":"k","acme_account":"x"})", options),
            lines({"path: acme_account, message: Expected object, received string"}));
  EXPECT_EQ(
      problems(R"({"provider":"acme","api_key":"k","acme_account":{"a":"s","b":2}})", options),
      lines({"path: acme_account,b, message: Expected string, received number"}));
  // Untyped fields and undeclared keys pass as written.
  auto ok = parseConfig(
      R"({"provider":"acme","api_key":"k","acme_region":"r","acme_account":{"a":"s"},
          "acme_flags":[1],"acme_other":7})",
      options);
  ASSERT_TRUE(ok) << ok.error().body.dump();
  EXPECT_EQ(ok->provider_options, (json{{"acme_region", "r"},
                                        {"acme_account", {{"a", "s"}}},
                                        {"acme_flags", {1}},
                                        {"acme_other", 7}}));

  // Without the declaration, nothing is checked.
  ProviderRegistry plain = fakeRegistry({{"acme", {}}});
  EXPECT_TRUE(
      parseConfig(R"({"provider":"acme","api_key":"k","acme_region":5})", optionsFor(plain)));
}

TEST(ProviderRegistrySettingsTest, KeylessProviderPassesTheOneOfRule) {
  ProviderRegistry registry =
      fakeRegistry({{"local", {.credentials = {CredentialSet{}}}}, {"hosted", {}}});
  const ConfigParseOptions options = optionsFor(registry);
  EXPECT_TRUE(parseConfig(R"({"provider":"local"})", options));
  EXPECT_TRUE(
      parseConfig(R"({"strategy":{"mode":"fallback"},"targets":[{"provider":"local"}]})", options));
  EXPECT_EQ(problems(R"({"provider":"hosted"})", options),
            lines({std::string("path: , message: ") + kOneOf}));
}

TEST(ProviderRegistrySettingsTest, CredentialSets) {
  ProviderSettings acme{
      .fields = {{.name = "acme_token", .secret = true},
                 {.name = "acme_key_id"},
                 {.name = "acme_key_secret", .secret = true}},
      .credentials = {{.fields = {"acme_token"}},
                      {.fields = {"acme_key_id", "acme_key_secret"}, .any_provider = true}}};
  ProviderRegistry registry = fakeRegistry({{"acme", acme}, {"other", {}}});
  const ConfigParseOptions options = optionsFor(registry);
  EXPECT_TRUE(parseConfig(R"({"provider":"acme","acme_token":"t"})", options));
  // A provider's own set counts only for it; an any-provider set counts everywhere.
  EXPECT_EQ(problems(R"({"provider":"other","acme_token":"t"})", options),
            lines({std::string("path: , message: ") + kOneOf}));
  EXPECT_TRUE(
      parseConfig(R"({"provider":"other","acme_key_id":"i","acme_key_secret":"s"})", options));
  // Every field of a set must be truthy.
  EXPECT_EQ(problems(R"({"provider":"acme","acme_key_id":"i","acme_key_secret":""})", options),
            lines({std::string("path: , message: ") + kOneOf}));
  // Aliases name the provider whose rules apply.
  registry.addAlias("acme-ai", "acme");
  EXPECT_TRUE(parseConfig(R"({"provider":"acme-ai","acme_token":"t"})", optionsFor(registry)));
}

TEST(ProviderRegistrySettingsTest, RequiredRuleMessageWordForWord) {
  ProviderSettings acme{
      .fields = {{.name = "acme_zone"}, {.name = "acme_project"}},
      .required = {{.any_of = {{"acme_zone", "acme_project"}},
                    .message = "Invalid configuration. 'acme_zone' and 'acme_project' are "
                               "required for 'acme' provider."}}};
  ProviderRegistry registry = fakeRegistry({{"acme", acme}});
  const ConfigParseOptions options = optionsFor(registry);
  EXPECT_EQ(problems(R"({"provider":"acme","api_key":"k","acme_zone":"z"})", options),
            lines({"path: , message: Invalid configuration. 'acme_zone' and 'acme_project' are "
                   "required for 'acme' provider."}));
  EXPECT_TRUE(parseConfig(R"({"provider":"acme","api_key":"k","acme_zone":"z","acme_project":"p"})",
                          options));
  // Type errors in the node hide the rule, as in Portkey's schema.
  EXPECT_EQ(problems(R"({"provider":"acme","api_key":"k","acme_zone":1})", options),
            lines({"path: acme_zone, message: Expected string, received number"}));
}

// The built-in providers as the gateway registers them.
class BuiltinSettingsTest : public ::testing::Test {
 protected:
  BuiltinSettingsTest() {
    registerBuiltinProviders(registry_);
    options_ = optionsFor(registry_);
  }
  ProviderRegistry registry_;
  ConfigParseOptions options_;
};

TEST_F(BuiltinSettingsTest, RegistryVertexRuleMessage) {
  EXPECT_EQ(
      problems(R"({"provider":"vertex-ai","api_key":"ya29","vertex_project_id":"p"})", options_),
      lines({"path: , message: Invalid configuration. ('vertex_project_id' and "
             "'vertex_region') or ('vertex_service_account_json' and 'vertex_region') are "
             "required for 'vertex-ai' provider. Example: { 'provider': 'vertex-ai', "
             "'vertex_project_id': 'my-project-id', 'vertex_region': 'us-central1', "
             "api_key: 'ya29...' }"}));
  EXPECT_TRUE(parseConfig(
      R"({"provider":"vertex-ai","vertex_region":"r","vertex_service_account_json":{"a":"b"}})",
      options_));
}

TEST_F(BuiltinSettingsTest, RegistryOneOfAlternatives) {
  for (const char* text : {
           R"({"provider":"ollama"})",
           R"({"provider":"openai","aws_access_key_id":"A","aws_secret_access_key":"S"})",
           R"({"provider":"openai","aws_auth_type":"assumedRole"})",
           R"({"provider":"anthropic","azure_auth_mode":"managed"})",
           R"({"provider":"azure-openai","azure_ad_token":"t"})",
           R"({"provider":"vertex-ai","vertex_region":"r","vertex_project_id":"p"})",
       }) {
    auto result = parseConfig(text, options_);
    EXPECT_TRUE(result) << text << ": " << result.error().body.dump();
  }
  for (const char* text : {
           R"({"provider":"groq"})",
           R"({"provider":"openai","azure_ad_token":"t"})",
           R"({"provider":"openai","vertex_region":"r","vertex_project_id":"p"})",
       }) {
    EXPECT_EQ(problems(text, options_), lines({std::string("path: , message: ") + kOneOf})) << text;
  }
}

TEST_F(BuiltinSettingsTest, RegistryTypedFieldsAreTodays) {
  const SettingsCatalog& catalog = *options_.settings;
  for (const char* name :
       {"aws_secret_access_key", "aws_access_key_id", "aws_session_token", "aws_region",
        "aws_auth_type", "vertex_project_id", "vertex_region", "openai_project",
        "openai_organization", "azure_auth_mode", "azure_entra_client_id",
        "azure_entra_client_secret", "azure_entra_tenant_id", "deployment_id", "api_version",
        "azure_ad_token", "azure_model_name"}) {
    const SettingsCatalog::Field* field = catalog.field(name);
    ASSERT_NE(field, nullptr) << name;
    EXPECT_EQ(field->type, SettingType::kString) << name;
  }
  ASSERT_NE(catalog.field("vertex_service_account_json"), nullptr);
  EXPECT_EQ(catalog.field("vertex_service_account_json")->type, SettingType::kStringMap);
  // Read by adapters, but not typed by Portkey's schema: accepted as written.
  for (const char* name : {"resource_name", "anthropic_version", "anthropic_beta",
                           "default_max_tokens", "openai_beta", "input_type", "aws_role_arn"}) {
    const SettingsCatalog::Field* field = catalog.field(name);
    ASSERT_NE(field, nullptr) << name;
    EXPECT_EQ(field->type, SettingType::kAny) << name;
  }
  EXPECT_TRUE(parseConfig(
      R"({"provider":"anthropic","api_key":"k","default_max_tokens":512,"resource_name":1})",
      options_));

  EXPECT_TRUE(catalog.isSecret("aws_secret_access_key"));
  EXPECT_TRUE(catalog.isSecret("aws_session_token"));
  EXPECT_TRUE(catalog.isSecret("azure_ad_token"));
  EXPECT_TRUE(catalog.isSecret("azure_entra_client_secret"));
  EXPECT_TRUE(catalog.isSecret("vertex_service_account_json"));
  EXPECT_FALSE(catalog.isSecret("aws_region"));
  EXPECT_FALSE(catalog.isSecret("resource_name"));
  EXPECT_FALSE(catalog.isSecret("nope"));
}

TEST_F(BuiltinSettingsTest, RouteHeaderAliases) {
  RouteContextOptions route;
  route.config = options_;
  auto ctx = parseRouteContext({{"x-portkey-provider", "azure-openai"},
                                {"x-portkey-api-key", "k"},
                                {"x-portkey-azure-resource-name", "res"},
                                {"x-portkey-azure-deployment-id", "dep"},
                                {"x-portkey-azure-api-version", "2024-10-21"},
                                {"x-portkey-azure-ad-token", "tok"},
                                {"x-portkey-openai-beta", "assistants=v2"}},
                               route);
  ASSERT_TRUE(ctx) << ctx.error().body.dump();
  EXPECT_EQ(ctx->config.provider_options, (json{{"resource_name", "res"},
                                                {"deployment_id", "dep"},
                                                {"api_version", "2024-10-21"},
                                                {"azure_ad_token", "tok"},
                                                {"openai_beta", "assistants=v2"}}));

  ctx = parseRouteContext({{"x-portkey-provider", "cohere"},
                           {"x-portkey-cohere-input-type", "search_query"},
                           {"x-portkey-vertex-service-account-json", R"({"a":"b"})"}},
                          route);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->config.provider_options["input_type"], "search_query");
  // Header values stay strings, whatever the field's type.
  EXPECT_EQ(ctx->config.provider_options["vertex_service_account_json"], R"({"a":"b"})");
}

TEST(ProviderRegistrySettingsTest, RouteHeaderAliasOfAFakeProvider) {
  ProviderRegistry registry =
      fakeRegistry({{"acme", {.fields = {{.name = "zone", .header = "x-portkey-acme-zone"}}}}});
  RouteContextOptions route;
  route.config = optionsFor(registry);
  auto ctx = parseRouteContext(
      {{"x-portkey-provider", "acme"}, {"x-portkey-acme-zone", "z1"}, {"x-portkey-acme-x", "y"}},
      route);
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->config.provider_options, (json{{"zone", "z1"}, {"acme_x", "y"}}));
}

TEST(ProviderRegistrySettingsTest, InconsistentDeclarationsThrow) {
  const auto catalogOf = [](std::vector<std::pair<std::string, ProviderSettings>> providers) {
    return fakeRegistry(std::move(providers)).settingsCatalog();
  };
  // One field, two types.
  EXPECT_THROW(catalogOf({{"a", {.fields = {{.name = "f"}}}},
                          {"b", {.fields = {{.name = "f", .type = SettingType::kAny}}}}}),
               std::logic_error);
  // One header, two fields.
  EXPECT_THROW(catalogOf({{"a", {.fields = {{.name = "f", .header = "x-portkey-h"}}}},
                          {"b", {.fields = {{.name = "g", .header = "x-portkey-h"}}}}}),
               std::logic_error);
  // Headers are x-portkey-* headers.
  EXPECT_THROW(catalogOf({{"a", {.fields = {{.name = "f", .header = "authorization"}}}}}),
               std::logic_error);
  // Rules name declared fields.
  EXPECT_THROW(catalogOf({{"a", {.credentials = {{.fields = {"missing"}}}}}}), std::logic_error);
  EXPECT_THROW(catalogOf({{"a", {.required = {{.any_of = {{"missing"}}, .message = "m"}}}}}),
               std::logic_error);
  // An empty set for any provider would make every node pass.
  EXPECT_THROW(catalogOf({{"a", {.credentials = {{.any_provider = true}}}}}), std::logic_error);

  // Shared declarations merge; a secret flag anywhere makes the field secret.
  auto merged =
      catalogOf({{"a", {.fields = {{.name = "f", .header = "x-portkey-f"}}}},
                 {"b", {.fields = {{.name = "f", .header = "x-portkey-f", .secret = true}}}}});
  ASSERT_NE(merged->fieldForHeader("x-portkey-f"), nullptr);
  EXPECT_EQ(merged->fieldForHeader("x-portkey-f")->name, "f");
  EXPECT_TRUE(merged->isSecret("f"));
  EXPECT_EQ(merged->fieldForHeader("x-portkey-g"), nullptr);
}

}  // namespace
}  // namespace portico
