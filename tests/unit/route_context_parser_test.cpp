#include <gtest/gtest.h>

#include "portico/provider_registry.hpp"
#include "portico/route_context.hpp"

namespace portico {
namespace {

std::shared_ptr<const SettingsCatalog> builtinSettings() {
  static const std::shared_ptr<const SettingsCatalog> catalog = [] {
    ProviderRegistry registry;
    registerBuiltinProviders(registry);
    return registry.settingsCatalog();
  }();
  return catalog;
}

RouteContextOptions options() {
  RouteContextOptions o;
  o.config.provider_ids = {"anthropic", "azure-openai", "bedrock", "ollama", "openai"};
  o.config.settings = builtinSettings();
  o.config.is_valid_custom_host = [](std::string_view url) {
    return url.starts_with("http://127.0.0.1") || url.starts_with("https://api.example.com");
  };
  o.make_trace_id = [] { return std::string("generated-trace"); };
  return o;
}

std::string message(const Expected<RouteContext>& result) {
  return result.error().body.value("message", "");
}

TEST(RouteContextParser, ProviderAndApiKeyHeaders) {
  auto ctx = parseRouteContext({{"x-portkey-provider", "openai"}, {"x-portkey-api-key", "sk-1"}},
                               options());
  ASSERT_TRUE(ctx);
  EXPECT_FALSE(ctx->from_config);
  EXPECT_TRUE(ctx->config.isLeaf());
  EXPECT_EQ(ctx->config.provider, "openai");
  EXPECT_EQ(ctx->config.api_key, "sk-1");
  EXPECT_EQ(ctx->trace_id, "generated-trace");
  EXPECT_TRUE(ctx->strict_open_ai_compliance);
}

TEST(RouteContextParser, KeyPrecedence) {
  // Authorization: Bearer, then x-portkey-api-key, then x-api-key. Portkey's SDK sends the user's
  // Portkey key as x-portkey-api-key and the provider key as Authorization: the Portkey key must
  // never be the one handed to the provider.
  auto both = parseRouteContext({{"x-portkey-provider", "openai"},
                                 {"authorization", "Bearer sk-provider"},
                                 {"x-portkey-api-key", "pk-portkey-user-key"}},
                                options());
  EXPECT_EQ(both->config.api_key, "sk-provider");
  auto portkey_only = parseRouteContext(
      {{"x-portkey-provider", "openai"}, {"x-portkey-api-key", "sk-curl"}, {"x-api-key", "x"}},
      options());
  EXPECT_EQ(portkey_only->config.api_key, "sk-curl");
  auto bearer = parseRouteContext(
      {{"x-portkey-provider", "openai"}, {"authorization", "bearer sk-bearer"}}, options());
  EXPECT_EQ(bearer->config.api_key, "sk-bearer");
  auto anthropic =
      parseRouteContext({{"x-portkey-provider", "anthropic"}, {"x-api-key", "sk-ant"}}, options());
  EXPECT_EQ(anthropic->config.api_key, "sk-ant");
  auto none = parseRouteContext({{"x-portkey-provider", "ollama"}}, options());
  EXPECT_FALSE(none->config.api_key.has_value());
}

TEST(RouteContextParser, DocumentedAliasesNameTheCanonicalProvider) {
  RouteContextOptions o = options();
  o.config.provider_ids.push_back("mistral-ai");
  o.config.provider_aliases = {{"mistral", "mistral-ai"}};
  auto header = parseRouteContext({{"x-portkey-provider", "Mistral"}}, o);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->config.provider, "mistral-ai");
  auto config =
      parseRouteContext({{"x-portkey-config", R"({"provider":"mistral","api_key":"k"})"}}, o);
  ASSERT_TRUE(config) << config.error().body.dump();
  EXPECT_EQ(config->config.provider, "mistral-ai");
  EXPECT_FALSE(parseRouteContext({{"x-portkey-provider", "mistrall"}}, o));
}

TEST(RouteContextParser, ProviderSpecificHeadersBecomeOptions) {
  auto ctx = parseRouteContext({{"x-portkey-provider", "azure-openai"},
                                {"x-portkey-azure-resource-name", "res"},
                                {"x-portkey-azure-deployment-id", "dep"},
                                {"x-portkey-aws-region", "eu-west-1"},
                                {"x-portkey-mistral-fim-completion", "true"},
                                {"x-portkey-trace-id", "t-1"}},
                               options());
  ASSERT_TRUE(ctx);
  // Declared headers become the provider's settings under their config names.
  EXPECT_EQ(ctx->config.provider_options["resource_name"], "res");
  EXPECT_EQ(ctx->config.provider_options["deployment_id"], "dep");
  EXPECT_EQ(ctx->config.provider_options["aws_region"], "eu-west-1");
  EXPECT_FALSE(ctx->config.provider_options.contains("azure_resource_name"));
  // Any other x-portkey-<name> header: <name>, dashes to underscores.
  EXPECT_EQ(ctx->config.provider_options["mistral_fim_completion"], "true");
  EXPECT_FALSE(ctx->config.provider_options.contains("trace_id"));
  EXPECT_EQ(ctx->trace_id, "t-1");
}

TEST(RouteContextParser, GenericHeaders) {
  auto ctx = parseRouteContext({{"x-portkey-provider", "openai"},
                                {"x-portkey-custom-host", "http://127.0.0.1:9/v1"},
                                {"x-portkey-forward-headers", " X-A ,x-b,,"},
                                {"x-portkey-request-timeout", "1500"},
                                {"x-portkey-metadata", R"({"tier":"pro"})"},
                                {"x-portkey-strict-open-ai-compliance", "FALSE"},
                                {"x-portkey-cache-force-refresh", "true"}},
                               options());
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->custom_host, "http://127.0.0.1:9/v1");
  EXPECT_EQ(*ctx->forward_headers, (std::vector<std::string>{"x-a", "x-b"}));
  EXPECT_EQ(ctx->request_timeout_ms, 1500);
  EXPECT_EQ(ctx->metadata["tier"], "pro");
  EXPECT_FALSE(ctx->strict_open_ai_compliance);
  EXPECT_TRUE(ctx->cache_force_refresh);
}

TEST(RouteContextParser, Errors) {
  EXPECT_EQ(message(parseRouteContext({}, options())),
            "Either x-portkey-config or x-portkey-provider header is required");
  EXPECT_EQ(message(parseRouteContext({{"x-portkey-provider", "nope"}}, options())),
            "Invalid provider passed");
  EXPECT_EQ(message(parseRouteContext(
                {{"x-portkey-provider", "openai"}, {"x-portkey-custom-host", "http://10.0.0.1"}},
                options())),
            "Invalid custom host");
  EXPECT_EQ(
      parseRouteContext({{"x-portkey-provider", "openai"}, {"x-portkey-request-timeout", "soon"}},
                        options())
          .error()
          .status,
      400);
  EXPECT_EQ(message(parseRouteContext({{"x-portkey-config", "nope"}}, options())),
            "Invalid config passed. You need to pass a valid json");
  EXPECT_EQ(
      message(parseRouteContext({{"x-portkey-config", R"({"retry":{"attempts":1}})"}}, options())),
      "Either x-portkey-provider needs to be passed. Or the x-portkey-config header should "
      "have a valid config with provider details in it.");
}

TEST(RouteContextParser, ConfigWinsOverProviderHeaders) {
  auto ctx = parseRouteContext({{"x-portkey-provider", "anthropic"},
                                {"x-portkey-api-key", "header-key"},
                                {"x-portkey-config", R"({"provider":"openai","api_key":"cfg"})"}},
                               options());
  ASSERT_TRUE(ctx);
  EXPECT_TRUE(ctx->from_config);
  EXPECT_EQ(ctx->config.provider, "openai");
  EXPECT_EQ(ctx->config.api_key, "cfg");
}

TEST(RouteContextParser, SettingsOnlyConfigWrapsTheHeaderTarget) {
  auto ctx = parseRouteContext({{"x-portkey-provider", "openai"},
                                {"x-portkey-api-key", "k"},
                                {"x-portkey-config", R"({"retry":{"attempts":2}})"}},
                               options());
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->config.provider, "openai");
  EXPECT_EQ(ctx->config.api_key, "k");
  ASSERT_TRUE(ctx->config.retry);
  EXPECT_EQ(ctx->config.retry->attempts, 2);
}

}  // namespace
}  // namespace portico
