#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "portico/config.hpp"
#include "portico/custom_host_policy.hpp"
#include "portico/provider_registry.hpp"

namespace portico {
namespace {

// Portkey's members of a gateway error body; the OpenAI error object beside them is checked in
// error_test.cpp.
nlohmann::json portkeyMembers(nlohmann::json body) {
  body.erase("error");
  return body;
}

using nlohmann::json;

const char* const kOneOf =
    "Invalid configuration. It must have either 'provider' and 'api_key', or 'strategy' and "
    "'targets', or 'cache', or 'retry', or 'request_timeout'";

// The built-in providers' declared settings (typed fields, credential sets, the vertex rule).
std::shared_ptr<const SettingsCatalog> builtinSettings() {
  static const std::shared_ptr<const SettingsCatalog> catalog = [] {
    ProviderRegistry registry;
    registerBuiltinProviders(registry);
    return registry.settingsCatalog();
  }();
  return catalog;
}

ConfigParseOptions testOptions() {
  ConfigParseOptions options;
  options.provider_ids = {"openai", "anthropic", "azure-openai", "bedrock", "vertex-ai", "ollama"};
  options.settings = builtinSettings();
  options.is_valid_custom_host = [policy = CustomHostPolicy()](std::string_view url) {
    return policy.isAllowed(url);
  };
  return options;
}

Expected<ConfigNode> parse(std::string_view text) { return parseConfig(text, testOptions()); }

ConfigNode parseOk(std::string_view text) {
  auto result = parse(text);
  if (!result.has_value()) {
    ADD_FAILURE() << "unexpected error for " << text << ": " << result.error().body.dump();
    return ConfigNode{};
  }
  return std::move(result).value();
}

// The "errors" lines of an invalid-config answer.
std::vector<std::string> problems(std::string_view text) {
  auto result = parse(text);
  if (result.has_value()) {
    ADD_FAILURE() << "expected an error for " << text;
    return {};
  }
  const auto& body = result.error().body;
  EXPECT_EQ(result.error().status, 400);
  EXPECT_EQ(body.value("status", ""), "failure");
  EXPECT_EQ(body.value("message", ""), "Invalid config passed") << body.dump();
  if (!body.contains("errors")) return {};
  return body["errors"].get<std::vector<std::string>>();
}

std::vector<std::string> lines(std::initializer_list<std::string> l) { return l; }

TEST(ToSnakeCaseTest, ConvertsCamelCase) {
  EXPECT_EQ(toSnakeCase("apiKey"), "api_key");
  EXPECT_EQ(toSnakeCase("api_key"), "api_key");
  EXPECT_EQ(toSnakeCase("provider"), "provider");
  EXPECT_EQ(toSnakeCase("awsAccessKeyId"), "aws_access_key_id");
  EXPECT_EQ(toSnakeCase("strictOpenAiCompliance"), "strict_open_ai_compliance");
  EXPECT_EQ(toSnakeCase("strictOpenAICompliance"), "strict_open_ai_compliance");
  EXPECT_EQ(toSnakeCase("vertexServiceAccountJson"), "vertex_service_account_json");
  EXPECT_EQ(toSnakeCase("APIKey"), "api_key");
  EXPECT_EQ(toSnakeCase("ApiKey"), "api_key");
  EXPECT_EQ(toSnakeCase("maxAge"), "max_age");
  EXPECT_EQ(toSnakeCase("x-foo-Bar"), "x-foo-bar");
  EXPECT_EQ(toSnakeCase(""), "");
}

TEST(ConfigParserTest, NotJsonOrNotObject) {
  for (const char* text : {"not json", "", "{", "{\"provider\":}", "[1,2]", "\"openai\"", "42",
                           "null", "true", "pc-abc123", "{\"a\":1} trailing"}) {
    auto result = parse(text);
    ASSERT_FALSE(result.has_value()) << text;
    EXPECT_EQ(result.error().status, 400);
    EXPECT_EQ(portkeyMembers(result.error().body),
              (json{{"status", "failure"},
                    {"message", "Invalid config passed. You need to pass a valid json"}}))
        << text;
  }
}

TEST(ConfigParserTest, ProviderWithoutKeyFailsOneOfRule) {
  auto result = parse(R"({"provider":"openai"})");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(portkeyMembers(result.error().body),
            (json{{"status", "failure"},
                  {"message", "Invalid config passed"},
                  {"errors", {std::string("path: , message: ") + kOneOf}}}));
}

TEST(ConfigParserTest, OneOfAlternatives) {
  parseOk(R"({"provider":"openai","api_key":"sk"})");
  parseOk(R"({"provider":"openai","api_key":""})");  // Portkey checks presence only
  parseOk(R"({"provider":"openai","retry":{"attempts":1}})");
  parseOk(R"({"provider":"openai","cache":{"mode":"simple"}})");
  parseOk(R"({"provider":"openai","request_timeout":1000})");
  parseOk(R"({"provider":"ollama"})");
  parseOk(R"({"provider":"bedrock","aws_access_key_id":"A","aws_secret_access_key":"S"})");
  parseOk(R"({"provider":"bedrock","aws_auth_type":"assumedRole","aws_role_arn":"arn:x"})");
  parseOk(R"({"provider":"vertex-ai","vertex_region":"us-central1","vertex_project_id":"p"})");
  parseOk(R"({"provider":"azure-openai","azure_ad_token":"t"})");
  parseOk(R"({"provider":"azure-openai","azure_auth_mode":"managed"})");
  parseOk(R"({"provider":"openai","virtual_key":"vk-1"})");
  parseOk(R"({"provider":"openai","custom_host":"http://127.0.0.1:8080/v1"})");
  parseOk(R"({"provider":"openai","before_request_hooks":[{"id":"h"}]})");
  parseOk(R"({"provider":"openai","input_guardrails":["pg-1"]})");
  // request_timeout 0 is falsy for Portkey's rule.
  EXPECT_EQ(problems(R"({"provider":"openai","request_timeout":0})"),
            lines({std::string("path: , message: ") + kOneOf}));
  EXPECT_EQ(problems(R"({"provider":"openai","aws_access_key_id":"A"})"),
            lines({std::string("path: , message: ") + kOneOf}));
}

TEST(ConfigParserTest, TopLevelWithoutProviderOrTargetsIsLeftToTheCaller) {
  ConfigNode node = parseOk("{}");
  EXPECT_TRUE(node.provider.empty());
  EXPECT_TRUE(node.targets.empty());
  node = parseOk(R"({"override_params":{"model":"gpt-4o"}})");
  EXPECT_EQ(node.override_params, (json{{"model", "gpt-4o"}}));
  // Nested nodes still need one of the alternatives.
  EXPECT_EQ(problems(R"({"strategy":{"mode":"fallback"},"targets":[{}]})"),
            lines({std::string("path: targets,0, message: ") + kOneOf}));
}

TEST(ConfigParserTest, PortkeyMessages) {
  EXPECT_EQ(problems(R"({"strategy":{"mode":"roundrobin"},"targets":[]})"),
            lines({"path: strategy,mode, message: Invalid 'mode' value. Must be one of: single, "
                   "loadbalance, fallback, conditional"}));
  EXPECT_EQ(problems(R"({"provider":"nope","api_key":"x"})"),
            lines({"path: provider, message: Invalid 'provider' value. Must be one of: openai, "
                   "anthropic, azure-openai, bedrock, vertex-ai, ollama"}));
  EXPECT_EQ(problems(R"({"cache":{"mode":"fast"}})"),
            lines({"path: cache,mode, message: Invalid 'cache.mode' value. Must be one of: "
                   "simple, semantic"}));
  EXPECT_EQ(problems(R"({"retry":{}})"), lines({"path: retry,attempts, message: Required"}));
  EXPECT_EQ(problems(R"({"provider":"vertex-ai","api_key":"ya29"})"),
            lines({"path: , message: Invalid configuration. ('vertex_project_id' and "
                   "'vertex_region') or ('vertex_service_account_json' and 'vertex_region') are "
                   "required for 'vertex-ai' provider. Example: { 'provider': 'vertex-ai', "
                   "'vertex_project_id': 'my-project-id', 'vertex_region': 'us-central1', "
                   "api_key: 'ya29...' }"}));
}

TEST(ConfigParserTest, NestedPathErrors) {
  EXPECT_EQ(problems(R"({"strategy":{"mode":"fallback"},"targets":[
                {"provider":"openai","api_key":"a"},
                {"provider":"openai","api_key":"b","weight":"heavy"}]})"),
            lines({"path: targets,1,weight, message: Expected number, received string"}));
  EXPECT_EQ(
      problems(R"({"strategy":{"mode":"fallback"},"targets":[{"provider":"openai","api_key":"a"},
                {"strategy":{"mode":"loadbalance"},"targets":[{"provider":"openai","api_key":"b",
                 "retry":{"attempts":9}}]}]})"),
      lines({"path: targets,1,targets,0,retry,attempts, message: Number must be less than or "
             "equal to 5"}));
  EXPECT_EQ(problems(R"({"strategy":{"mode":"fallback"},"targets":["openai", 5]})"),
            lines({"path: targets,0, message: Expected object, received string",
                   "path: targets,1, message: Expected object, received number"}));
}

TEST(ConfigParserTest, ListsEveryProblem) {
  EXPECT_EQ(problems(R"({"strategy":{"mode":"x","on_status_codes":"429"},"provider":5,
                        "retry":{"attempts":"2"},"weight":-1,"targets":{},
                        "forward_headers":"x-a","strict_open_ai_compliance":"no",
                        "override_params":[],"name":7})"),
            lines({
                "path: strategy,mode, message: Invalid 'mode' value. Must be one of: single, "
                "loadbalance, fallback, conditional",
                "path: strategy,on_status_codes, message: Expected array, received string",
                "path: provider, message: Expected string, received number",
                "path: retry,attempts, message: Expected number, received string",
                "path: weight, message: Number must be greater than or equal to 0",
                "path: targets, message: Expected array, received object",
                "path: forward_headers, message: Expected array, received string",
                "path: strict_open_ai_compliance, message: Expected boolean, received string",
                "path: override_params, message: Expected object, received array",
                "path: name, message: Expected string, received number",
            }));
  // Refinement failures do not hide each other (no type errors here).
  EXPECT_EQ(problems(R"({"provider":"nope","custom_host":"http://10.0.0.1/v1"})"),
            lines({"path: provider, message: Invalid 'provider' value. Must be one of: openai, "
                   "anthropic, azure-openai, bedrock, vertex-ai, ollama",
                   "path: , message: Invalid custom host"}));
}

TEST(ConfigParserTest, RetryLimits) {
  EXPECT_EQ(problems(R"({"retry":{"attempts":6}})"),
            lines({"path: retry,attempts, message: Number must be less than or equal to 5"}));
  EXPECT_EQ(problems(R"({"retry":{"attempts":1.5}})"),
            lines({"path: retry,attempts, message: Expected integer, received float"}));
  EXPECT_EQ(problems(R"({"retry":{"attempts":-1}})"),
            lines({"path: retry,attempts, message: Number must be greater than or equal to 0"}));
  EXPECT_EQ(problems(R"({"retry":{"attempts":1e300}})"),
            lines({"path: retry,attempts, message: Number must be less than or equal to 5"}));
  EXPECT_EQ(problems(R"({"retry":"3"})"),
            lines({"path: retry, message: Expected object, received string"}));
  EXPECT_EQ(problems(R"({"retry":{"attempts":2,"on_status_codes":[429,"500",99.5,700]}})"),
            lines({"path: retry,on_status_codes,1, message: Expected number, received string",
                   "path: retry,on_status_codes,2, message: Expected integer, received float",
                   "path: retry,on_status_codes,3, message: Number must be less than or equal to "
                   "599"}));
  ConfigNode node = parseOk(R"({"retry":{"attempts":5}})");
  ASSERT_TRUE(node.retry.has_value());
  EXPECT_EQ(node.retry->attempts, 5);
  EXPECT_TRUE(node.retry->on_status_codes.empty());
  EXPECT_FALSE(node.retry->use_retry_after_header);
  node = parseOk(R"({"retry":{"attempts":0,"on_status_codes":[429,503.0],
                    "use_retry_after_header":true}})");
  EXPECT_EQ(node.retry->attempts, 0);
  EXPECT_EQ(node.retry->on_status_codes, (std::vector<int>{429, 503}));
  EXPECT_TRUE(node.retry->use_retry_after_header);
}

TEST(ConfigParserTest, LegacyOptionsConfig) {
  for (const char* text : {R"({"options":[{"provider":"openai","api_key":"x"}]})",
                           R"({"provider":"openai","api_key":"x","options":{"a":1}})"}) {
    auto result = parse(text);
    ASSERT_FALSE(result.has_value()) << text;
    EXPECT_EQ(result.error().status, 400);
    EXPECT_EQ(portkeyMembers(result.error().body),
              (json{{"status", "failure"},
                    {"message",
                     "This version of config is not supported in this route. Please migrate to "
                     "the latest version"}}));
  }
  // Schema problems are reported first, as in Portkey.
  EXPECT_EQ(problems(R"({"provider":"openai","options":[1]})"),
            lines({std::string("path: , message: ") + kOneOf}));
}

TEST(ConfigParserTest, AcceptsCamelCase) {
  ConfigNode node = parseOk(R"({"provider":"openai","apiKey":"sk-1",
      "overrideParams":{"max_tokens":5,"topP":0.5},
      "customHost":"https://api.example.com/v1","strictOpenAiCompliance":false,
      "forwardHeaders":["X-Foo","x-bar"],"requestTimeout":1500,
      "retry":{"attempts":2,"onStatusCodes":[429],"useRetryAfterHeader":true},
      "cache":{"mode":"semantic","maxAge":60},"virtualKey":"vk","resourceName":"res"})");
  EXPECT_EQ(node.provider, "openai");
  EXPECT_EQ(node.api_key, "sk-1");
  EXPECT_EQ(node.override_params, (json{{"max_tokens", 5}, {"topP", 0.5}}));
  EXPECT_EQ(node.custom_host, "https://api.example.com/v1");
  EXPECT_EQ(node.strict_open_ai_compliance, false);
  EXPECT_EQ(node.forward_headers, (std::vector<std::string>{"x-foo", "x-bar"}));
  EXPECT_EQ(node.request_timeout_ms, 1500);
  ASSERT_TRUE(node.retry.has_value());
  EXPECT_EQ(node.retry->attempts, 2);
  EXPECT_EQ(node.retry->on_status_codes, (std::vector<int>{429}));
  EXPECT_TRUE(node.retry->use_retry_after_header);
  ASSERT_TRUE(node.cache.has_value());
  EXPECT_EQ(node.cache->mode, "semantic");
  EXPECT_EQ(node.cache->max_age_s, 60);
  EXPECT_EQ(node.virtual_key, "vk");
  EXPECT_EQ(node.provider_options, (json{{"resource_name", "res"}}));
}

TEST(ConfigParserTest, SnakeCaseWinsOverCamelCase) {
  ConfigNode node = parseOk(R"({"provider":"openai","apiKey":"camel","api_key":"snake",
                               "customHost":"http://10.0.0.1","custom_host":"http://localhost"})");
  EXPECT_EQ(node.api_key, "snake");
  EXPECT_EQ(node.custom_host, "http://localhost");
  EXPECT_FALSE(node.provider_options.contains("apiKey"));
}

TEST(ConfigParserTest, CamelCaseErrorsReportSnakePaths) {
  EXPECT_EQ(problems(R"({"provider":"openai","apiKey":"x","requestTimeout":"1"})"),
            lines({"path: request_timeout, message: Expected number, received string"}));
}

TEST(ConfigParserTest, CapturesProviderOptions) {
  ConfigNode azure = parseOk(R"({"provider":"azure-openai","api_key":"k","resource_name":"res",
      "deploymentId":"dep","api_version":"2024-02-01","openai_organization":"org"})");
  EXPECT_EQ(azure.provider_options, (json{{"resource_name", "res"},
                                          {"deployment_id", "dep"},
                                          {"api_version", "2024-02-01"},
                                          {"openai_organization", "org"}}));
  ConfigNode bedrock = parseOk(R"({"provider":"bedrock","awsAccessKeyId":"AKIA",
      "aws_secret_access_key":"S","awsRegion":"us-west-2","aws_session_token":"T",
      "extra":{"innerKey":[1,2]},"flag":true,"count":3})");
  EXPECT_EQ(bedrock.provider_options, (json{{"aws_access_key_id", "AKIA"},
                                            {"aws_secret_access_key", "S"},
                                            {"aws_region", "us-west-2"},
                                            {"aws_session_token", "T"},
                                            {"extra", {{"innerKey", {1, 2}}}},
                                            {"flag", true},
                                            {"count", 3}}));
  EXPECT_FALSE(bedrock.api_key.has_value());
  ConfigNode vertex = parseOk(R"({"provider":"vertex-ai","vertexRegion":"us-central1",
      "vertexServiceAccountJson":{"private_key":"k","clientEmail":"e"}})");
  EXPECT_EQ(vertex.provider_options["vertex_service_account_json"],
            (json{{"private_key", "k"}, {"clientEmail", "e"}}));
  EXPECT_EQ(vertex.provider_options["vertex_region"], "us-central1");
  // Hooks are kept as written.
  ConfigNode hooks = parseOk(R"({"provider":"openai","api_key":"k",
      "beforeRequestHooks":[{"id":"h1","onFail":{"feedback":1},"checks":[{"id":"default.x"}]}]})");
  EXPECT_EQ(hooks.provider_options["before_request_hooks"][0]["onFail"], (json{{"feedback", 1}}));
  // String-typed provider fields are checked.
  EXPECT_EQ(problems(R"({"provider":"bedrock","aws_access_key_id":1,"aws_secret_access_key":"S"})"),
            lines({"path: aws_access_key_id, message: Expected string, received number"}));
  EXPECT_EQ(problems(R"({"provider":"vertex-ai","vertex_region":"r","vertex_project_id":"p",
                        "vertex_service_account_json":{"a":1}})"),
            lines({"path: vertex_service_account_json,a, message: Expected string, received "
                   "number"}));
}

TEST(ConfigParserTest, DefaultsWhenAbsent) {
  ConfigNode node = parseOk(R"({"provider":"openai","api_key":"k"})");
  EXPECT_TRUE(node.isLeaf());
  EXPECT_EQ(node.weight, 1.0);
  EXPECT_TRUE(node.override_params.is_null());
  EXPECT_FALSE(node.retry.has_value());
  EXPECT_FALSE(node.cache.has_value());
  EXPECT_FALSE(node.request_timeout_ms.has_value());
  EXPECT_FALSE(node.custom_host.has_value());
  EXPECT_FALSE(node.forward_headers.has_value());
  EXPECT_FALSE(node.strict_open_ai_compliance.has_value());
  EXPECT_FALSE(node.virtual_key.has_value());
  EXPECT_TRUE(node.provider_options.is_object());
  EXPECT_TRUE(node.provider_options.empty());
}

TEST(ConfigParserTest, ThreeLevelTree) {
  ConfigNode root = parseOk(R"({
    "strategy":{"mode":"fallback","on_status_codes":[429,500]},
    "retry":{"attempts":2},
    "targets":[
      {"strategy":{"mode":"loadbalance"},"override_params":{"temperature":0},
       "targets":[
         {"provider":"openai","api_key":"a","weight":0.7},
         {"strategy":{"mode":"single"},"targets":[{"provider":"anthropic","api_key":"b"}],
          "weight":0.3}]},
      {"provider":"azure-openai","api_key":"c","resource_name":"r","request_timeout":2500.9}
    ]})");
  EXPECT_EQ(root.mode, "fallback");
  EXPECT_FALSE(root.isLeaf());
  EXPECT_EQ(root.strategy_on_status_codes, (std::vector<int>{429, 500}));
  ASSERT_TRUE(root.retry.has_value());
  EXPECT_EQ(root.retry->attempts, 2);
  ASSERT_EQ(root.targets.size(), 2u);
  const ConfigNode& lb = root.targets[0];
  EXPECT_EQ(lb.mode, "loadbalance");
  EXPECT_EQ(lb.override_params, (json{{"temperature", 0}}));
  ASSERT_EQ(lb.targets.size(), 2u);
  EXPECT_EQ(lb.targets[0].provider, "openai");
  EXPECT_DOUBLE_EQ(lb.targets[0].weight, 0.7);
  EXPECT_EQ(lb.targets[1].mode, "single");
  EXPECT_DOUBLE_EQ(lb.targets[1].weight, 0.3);
  ASSERT_EQ(lb.targets[1].targets.size(), 1u);
  EXPECT_EQ(lb.targets[1].targets[0].provider, "anthropic");
  EXPECT_EQ(lb.targets[1].targets[0].api_key, "b");
  const ConfigNode& azure = root.targets[1];
  EXPECT_TRUE(azure.isLeaf());
  EXPECT_EQ(azure.provider_options, (json{{"resource_name", "r"}}));
  EXPECT_EQ(azure.request_timeout_ms, 2500);
  EXPECT_FALSE(azure.retry.has_value());  // inheritance is the planner's job
}

TEST(ConfigParserTest, Conditional) {
  ConfigNode node = parseOk(R"({
    "strategy":{"mode":"conditional","conditions":[
        {"query":{"metadata.tier":{"$eq":"pro"}},"then":"pro"},
        {"query":{"$or":[{"params.model":{"$regex":"^gpt"}},{"metadata.userId":"u1"}]},
         "then":"free"}],
      "default":"free"},
    "targets":[{"name":"pro","provider":"openai","api_key":"a"},
               {"name":"free","provider":"anthropic","api_key":"b"}]})");
  EXPECT_EQ(node.mode, "conditional");
  ASSERT_EQ(node.conditions.size(), 2u);
  EXPECT_EQ(node.conditions[0].query, (json{{"metadata.tier", {{"$eq", "pro"}}}}));
  EXPECT_EQ(node.conditions[0].then, "pro");
  EXPECT_EQ(node.conditions[1].query["$or"][1], (json{{"metadata.userId", "u1"}}));
  EXPECT_EQ(node.default_target, "free");
  EXPECT_EQ(node.targets[0].name, "pro");
  EXPECT_EQ(node.targets[1].name, "free");

  EXPECT_EQ(problems(R"({"strategy":{"mode":"conditional"},"targets":[]})"),
            lines({"path: strategy,conditions, message: Required when mode is 'conditional'"}));
  EXPECT_EQ(problems(R"({"strategy":{"mode":"conditional","conditions":[{"query":"x","then":1},
                        {},7],"default":3},"targets":[]})"),
            lines({"path: strategy,conditions,0,query, message: Expected object, received string",
                   "path: strategy,conditions,0,then, message: Expected string, received number",
                   "path: strategy,conditions,1,query, message: Required",
                   "path: strategy,conditions,1,then, message: Required",
                   "path: strategy,conditions,2, message: Expected object, received number",
                   "path: strategy,default, message: Expected string, received number"}));
  // An empty list is left to the router ("No conditions passed in the query router").
  parseOk(R"({"strategy":{"mode":"conditional","conditions":[]},"targets":[]})");
  EXPECT_EQ(problems(R"({"strategy":{},"targets":[]})"),
            lines({"path: strategy,mode, message: Required"}));
}

TEST(ConfigParserTest, ForwardHeaders) {
  ConfigNode node = parseOk(R"({"provider":"openai","api_key":"k","forward_headers":["X-A"]})");
  EXPECT_EQ(node.forward_headers, (std::vector<std::string>{"x-a"}));
  EXPECT_EQ(problems(R"({"provider":"openai","api_key":"k",
                        "forward_headers":["x-a","X-Portkey-Forward-Headers",3]})"),
            lines({"path: forward_headers,2, message: Expected string, received number",
                   "path: forward_headers, message: forward_headers must not contain the "
                   "'x-portkey-forward-headers' header"}));
}

TEST(ConfigParserTest, CustomHost) {
  ConfigNode node = parseOk(R"({"provider":"openai","api_key":"k",
                               "custom_host":"http://127.0.0.1:9000/v1"})");
  EXPECT_EQ(node.custom_host, "http://127.0.0.1:9000/v1");
  for (const char* host :
       {"http://10.0.0.1/v1", "http://169.254.169.254/", "https://api.portkey.ai",
        "http://2130706433/", "http://svc.internal/", "http://a@b.com/"}) {
    json config = {{"provider", "openai"}, {"api_key", "k"}, {"custom_host", host}};
    EXPECT_EQ(problems(config.dump()), lines({"path: , message: Invalid custom host"})) << host;
  }
  EXPECT_EQ(problems(R"({"strategy":{"mode":"fallback"},"targets":[
                        {"provider":"openai","api_key":"k","customHost":"http://10.1.2.3"}]})"),
            lines({"path: targets,0, message: Invalid custom host"}));
  EXPECT_EQ(problems(R"({"provider":"openai","api_key":"k","custom_host":5})"),
            lines({"path: custom_host, message: Expected string, received number"}));
}

TEST(ConfigParserTest, CustomHostWithoutCheckerUsesDefaultPolicy) {
  ConfigParseOptions options;
  options.provider_ids = {"openai"};
  EXPECT_FALSE(
      parseConfig(R"({"provider":"openai","api_key":"k","custom_host":"http://10.0.0.1"})", options)
          .has_value());
  EXPECT_TRUE(
      parseConfig(R"({"provider":"openai","api_key":"k","custom_host":"https://x.example.com"})",
                  options)
          .has_value());
}

TEST(ConfigParserTest, CacheAndTimeoutValues) {
  ConfigNode node = parseOk(R"({"cache":{"mode":"simple"},"request_timeout":1e30})");
  ASSERT_TRUE(node.cache.has_value());
  EXPECT_FALSE(node.cache->max_age_s.has_value());
  EXPECT_EQ(node.request_timeout_ms, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(problems(R"({"cache":{"max_age":"1"}})"),
            lines({"path: cache,mode, message: Required",
                   "path: cache,max_age, message: Expected number, received string"}));
  EXPECT_EQ(problems(R"({"request_timeout":-5})"),
            lines({"path: request_timeout, message: Number must be greater than or equal to 0"}));
  EXPECT_EQ(problems(R"({"request_timeout":null})"),
            lines({"path: request_timeout, message: Expected number, received null"}));
}

TEST(ConfigParserTest, GuardrailShapes) {
  parseOk(R"({"provider":"openai","api_key":"k","input_guardrails":[{"default.contains":{}}]})");
  EXPECT_EQ(problems(R"({"provider":"openai","api_key":"k","output_guardrails":["a",{}]})"),
            lines({"path: output_guardrails, message: Invalid input"}));
  EXPECT_EQ(problems(R"({"provider":"openai","api_key":"k","after_request_hooks":{}})"),
            lines({"path: after_request_hooks, message: Expected array, received object"}));
}

// --- Hostile input: never crash, always a clean 400. ---

TEST(ConfigParserHostileTest, DeepJsonNesting) {
  for (std::string open : {"[", "{\"a\":"}) {
    std::string text = "{\"provider\":\"openai\",\"api_key\":\"k\",\"x\":";
    std::string close = open == "[" ? "]" : "}";
    for (int i = 0; i < 10000; ++i) text += open;
    text += "1";
    for (int i = 0; i < 10000; ++i) text += close;
    text += "}";
    EXPECT_EQ(problems(text),
              lines({"path: , message: Config is nested too deeply (at most 128 levels)"}));
  }
  // Unbalanced: not JSON at all.
  auto result = parse(std::string(100000, '['));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().body["message"], "Invalid config passed. You need to pass a valid json");
}

std::string nestedTargets(int levels) {
  std::string text;
  for (int i = 0; i < levels; ++i) text += R"({"strategy":{"mode":"fallback"},"targets":[)";
  text += R"({"provider":"openai","api_key":"k"})";
  for (int i = 0; i < levels; ++i) text += "]}";
  return text;
}

TEST(ConfigParserHostileTest, DeepTargetNesting) {
  ConfigNode node = parseOk(nestedTargets(32));
  int depth = 0;
  for (const ConfigNode* n = &node; !n->targets.empty(); n = &n->targets[0]) ++depth;
  EXPECT_EQ(depth, 32);

  auto errors = problems(nestedTargets(40));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("message: Targets are nested too deeply (at most 32 levels)"),
            std::string::npos);
  EXPECT_EQ(errors[0].rfind("path: targets,0,targets,0,", 0), 0u) << errors[0];

  errors = problems(nestedTargets(10000));
  EXPECT_EQ(errors, lines({"path: , message: Config is nested too deeply (at most 128 levels)"}));
}

TEST(ConfigParserHostileTest, HugeArrays) {
  json config = {{"strategy", {{"mode", "loadbalance"}}}, {"targets", json::array()}};
  for (int i = 0; i < 5000; ++i) config["targets"].push_back({{"provider", "openai"}});
  EXPECT_EQ(problems(config.dump()),
            lines({"path: targets, message: Array must contain at most 1000 element(s)"}));

  // 1000 targets each missing a key: the list is capped.
  config["targets"] = json::array();
  for (int i = 0; i < 1000; ++i) config["targets"].push_back({{"provider", "openai"}});
  auto errors = problems(config.dump());
  ASSERT_EQ(errors.size(), 101u);
  EXPECT_EQ(errors[0], std::string("path: targets,0, message: ") + kOneOf);
  EXPECT_EQ(errors[100], "path: , message: 900 more problems not listed");

  json headers = {{"provider", "openai"}, {"api_key", "k"}, {"forward_headers", json::array()}};
  for (int i = 0; i < 100000; ++i) headers["forward_headers"].push_back(i);
  EXPECT_EQ(problems(headers.dump()).size(), 101u);

  // Too many nodes overall (1000 x 11).
  json wide = {{"strategy", {{"mode", "fallback"}}}, {"targets", json::array()}};
  json inner = {{"strategy", {{"mode", "fallback"}}}, {"targets", json::array()}};
  for (int i = 0; i < 10; ++i) inner["targets"].push_back({{"provider", "ollama"}});
  for (int i = 0; i < 1000; ++i) wide["targets"].push_back(inner);
  errors = problems(wide.dump());
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("Config has too many targets (at most 10000)"), std::string::npos);
}

TEST(ConfigParserHostileTest, WrongTypesEverywhere) {
  const std::vector<std::string> keys = {"provider",
                                         "api_key",
                                         "apiKey",
                                         "strategy",
                                         "targets",
                                         "retry",
                                         "cache",
                                         "weight",
                                         "request_timeout",
                                         "override_params",
                                         "custom_host",
                                         "forward_headers",
                                         "strict_open_ai_compliance",
                                         "name",
                                         "virtual_key",
                                         "on_status_codes",
                                         "vertex_service_account_json",
                                         "before_request_hooks",
                                         "input_guardrails",
                                         "options",
                                         "aws_access_key_id",
                                         "vertex_region"};
  const std::vector<json> values = {nullptr,
                                    true,
                                    false,
                                    0,
                                    -1,
                                    1.5,
                                    1e308,
                                    -1e308,
                                    "",
                                    "x",
                                    json::array(),
                                    json::object(),
                                    json::array({nullptr, 1, "a", json::object()}),
                                    json{{"mode", 1}, {"attempts", "x"}},
                                    json{{"mode", "fallback"}, {"conditions", 1}},
                                    json{{"query", 1}}};
  for (const auto& key : keys) {
    for (const auto& value : values) {
      json config = {{key, value}};
      auto result = parse(config.dump());
      if (!result.has_value()) {
        EXPECT_EQ(result.error().status, 400) << config.dump();
      }
      json nested = {{"strategy", {{"mode", "fallback"}}}, {"targets", {{{key, value}}}}};
      result = parse(nested.dump());
      if (!result.has_value()) {
        EXPECT_EQ(result.error().status, 400) << nested.dump();
      }
    }
  }
}

json randomValue(std::mt19937& rng, int depth) {
  static const std::vector<std::string> kKeys = {"provider",        "api_key",
                                                 "strategy",        "mode",
                                                 "targets",         "retry",
                                                 "attempts",        "cache",
                                                 "weight",          "conditions",
                                                 "query",           "then",
                                                 "default",         "on_status_codes",
                                                 "custom_host",     "forward_headers",
                                                 "override_params", "name",
                                                 "overrideParams",  "onStatusCodes"};
  switch (std::uniform_int_distribution<int>(0, depth > 6 ? 4 : 7)(rng)) {
    case 0:
      return nullptr;
    case 1:
      return std::uniform_int_distribution<int>(-10, 700)(rng);
    case 2:
      return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
    case 3:
      return kKeys[rng() % kKeys.size()];
    case 4:
      return (rng() % 2) == 0;
    case 5:
    case 6: {
      json object = json::object();
      const int n = static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) object[kKeys[rng() % kKeys.size()]] = randomValue(rng, depth + 1);
      return object;
    }
    default: {
      json array = json::array();
      const int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) array.push_back(randomValue(rng, depth + 1));
      return array;
    }
  }
}

TEST(ConfigParserHostileTest, RandomStructuresNeverCrash) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    json config = json::object();
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < n; ++k) {
      json value = randomValue(rng, 0);
      config[value.is_string() ? value.get<std::string>() : "provider"] = randomValue(rng, 0);
    }
    auto result = parse(config.dump());
    if (!result.has_value()) {
      EXPECT_EQ(result.error().status, 400);
      EXPECT_EQ(result.error().body["status"], "failure");
    }
  }
}

TEST(ConfigParserHostileTest, GarbageTextNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\":,0123456789.eE+-truefalsn\\ u\x01\xff";
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 64);
    for (int k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    auto result = parse(text);
    if (!result.has_value()) {
      EXPECT_EQ(result.error().status, 400);
    }
  }
}

}  // namespace
}  // namespace portico
