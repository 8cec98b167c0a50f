// Every OpenAI-compatible row: the upstream URL, path and auth it produces, from the pure
// adapter. The integration suite checks the same over sockets.
#include <gtest/gtest.h>

#include <set>

#include "mistral_ai/mistral_adapter.hpp"
#include "openai_compatible/openai_compatible_adapter.hpp"
#include "portico/provider_registry.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

ClientRequest chatRequest(const json& body, const HeaderList& headers) {
  ClientRequest request;
  request.endpoint = Endpoint::kChatCompletions;
  request.path = "/chat/completions";
  request.headers = &headers;
  request.body = &body;
  return request;
}

TEST(OpenAiCompatible, AtLeastThirtyFiveProvidersAreRegistered) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  std::size_t compatible = openAiCompatibleSpecs().size() + 1;  // + mistral-ai
  EXPECT_GE(compatible, 35u);
  for (const char* id :
       {"openai", "groq", "together-ai", "mistral-ai", "perplexity-ai", "anyscale", "ollama",
        "deepseek", "fireworks-ai", "openrouter", "deepinfra", "x-ai", "cerebras"}) {
    EXPECT_NE(registry.find(id), nullptr) << id;
  }
}

// Rows with their own Responses API serve it natively; passthrough-only rows forward it; the
// rest get it translated through chat by the gateway (supports() false).
TEST(OpenAiCompatible, ResponsesApiWhereTheProviderHasIt) {
  ProviderRegistry registry;
  registerBuiltinProviders(registry);
  for (const char* id : {"openai", "groq", "x-ai", "openrouter", "fireworks-ai", "replicate"}) {
    EXPECT_TRUE(registry.find(id)->supports(Endpoint::kResponses)) << id;
  }
  for (const char* id : {"perplexity-ai", "deepseek", "together-ai", "mistral-ai"}) {
    EXPECT_FALSE(registry.find(id)->supports(Endpoint::kResponses)) << id;
  }
  const json body = {{"model", "openai/gpt-oss-20b"}, {"input", "hi"}};
  const std::string raw = body.dump();
  HeaderList headers;
  ClientRequest request = chatRequest(body, headers);
  request.endpoint = Endpoint::kResponses;
  request.path = "/responses";
  request.raw_body = raw;
  Target target;
  target.provider = "groq";
  target.api_key = "gsk-test";
  auto out = registry.find("groq")->buildRequest(request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->target, "/openai/v1/responses");
  EXPECT_EQ(out->body, raw);
}

TEST(OpenAiCompatible, EveryRowBuildsItsUrlAndAuth) {
  const json body = {{"model", "m"}, {"messages", json::array()}, {"unknown_field", 1}};
  const std::string raw = body.dump();
  HeaderList headers;
  for (const auto& spec : openAiCompatibleSpecs()) {
    OpenAiCompatibleAdapter adapter(spec);
    if (!adapter.supports(Endpoint::kChatCompletions)) {
      continue;
    }
    ClientRequest request = chatRequest(body, headers);
    request.raw_body = raw;
    Target target;
    target.provider = std::string(spec.id);
    target.api_key = "key-1";
    if (spec.base_url.empty()) {
      target.custom_host = "http://127.0.0.1:1234";
    }
    auto built = adapter.buildRequest(request, target);
    ASSERT_TRUE(built) << spec.id;
    auto base = parseBaseUrl(spec.base_url.empty() ? "http://127.0.0.1:1234" : spec.base_url);
    EXPECT_EQ(built->host, base->host) << spec.id;
    EXPECT_EQ(built->target, base->path + std::string(spec.api_prefix) + "/chat/completions")
        << spec.id;
    auto auth = findHeader(built->headers, "authorization");
    if (spec.auth == AuthStyle::kNone) {
      EXPECT_FALSE(auth) << spec.id;
    } else {
      EXPECT_EQ(auth.value_or(""), "Bearer key-1") << spec.id;
    }
    EXPECT_EQ(built->body, raw) << spec.id;  // unknown fields kept, bytes untouched
  }
}

TEST(OpenAiCompatible, CustomHostReplacesTheBaseButKeepsThePrefix) {
  const json body = {{"model", "m"}};
  HeaderList headers;
  OpenAiCompatibleSpec together{};
  for (const auto& spec : openAiCompatibleSpecs()) {
    if (spec.id == "together-ai") {
      together = spec;
    }
  }
  OpenAiCompatibleAdapter adapter(together);
  Target target;
  target.provider = "together-ai";
  target.api_key = "k";
  target.custom_host = "https://proxy.example.com/base";
  auto built = adapter.buildRequest(chatRequest(body, headers), target);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->host, "proxy.example.com");
  EXPECT_EQ(built->target, "/base/v1/chat/completions");
}

TEST(OpenAiCompatible, MissingKeyIsAClearErrorNotBearerUndefined) {
  const json body = {{"model", "m"}};
  HeaderList headers;
  OpenAiCompatibleAdapter adapter(openAiCompatibleSpecs()[0]);
  Target target;
  target.provider = "openai";
  auto built = adapter.buildRequest(chatRequest(body, headers), target);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().status, 401);
}

TEST(OpenAiCompatible, ErrorsAreNormalisedWithTheUpstreamStatus) {
  OpenAiCompatibleAdapter adapter(openAiCompatibleSpecs()[0]);
  HeaderList headers;
  const json body = json::object();
  Target target;
  auto mapped = adapter.mapResponse(
      chatRequest(body, headers), target,
      UpstreamReply{429, "application/json",
                    R"({"error":{"message":"slow down","type":"requests","code":"rate"}})"});
  EXPECT_EQ(mapped.status, 429);
  auto out = json::parse(mapped.body);
  EXPECT_EQ(out["error"]["message"], "openai error: slow down");
  EXPECT_EQ(out["error"]["code"], "rate");
  EXPECT_EQ(out["provider"], "openai");
  auto html = adapter.mapResponse(chatRequest(body, headers), target,
                                  UpstreamReply{502, "text/html", "<html>bad gateway</html>"});
  EXPECT_EQ(html.status, 502);
  EXPECT_EQ(json::parse(html.body)["error"]["message"], "openai error: <html>bad gateway</html>");
}

TEST(Mistral, DocumentedRenames) {
  json body = {{"model", "mistralai.mistral-large"},
               {"seed", 7},
               {"max_completion_tokens", 10},
               {"tool_choice", "required"},
               {"messages", {{{"role", "developer"}, {"content", "x"}}}}};
  HeaderList headers;
  EXPECT_TRUE(applyMistralRenames(body, chatRequest(body, headers)));
  EXPECT_EQ(body["random_seed"], 7);
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_EQ(body["max_tokens"], 10);
  EXPECT_EQ(body["tool_choice"], "any");
  EXPECT_EQ(body["model"], "mistral-large");
  EXPECT_EQ(body["messages"][0]["role"], "system");
}

TEST(Mistral, FimHeaderSelectsTheFimEndpoint) {
  MistralAdapter adapter;
  const json body = {{"model", "codestral"}, {"prompt", "def"}};
  HeaderList headers = {{"x-portkey-mistral-fim-completion", "true"}};
  Target target;
  target.provider = "mistral-ai";
  target.api_key = "k";
  auto built = adapter.buildRequest(chatRequest(body, headers), target);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->target, "/v1/fim/completions");
}

}  // namespace
}  // namespace portico::providers
