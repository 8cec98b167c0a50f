// One test per OpenAI-compatible provider: through the running gateway to a fake upstream that
// checks the path and the auth the real provider expects, chat and (where offered) embeddings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "openai_compatible/openai_compatible_adapter.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using providers::AuthStyle;
using providers::OpenAiCompatibleSpec;

}  // namespace
}  // namespace portico::testing

namespace portico::providers {
// Names the row in test output instead of dumping its bytes.
void PrintTo(const OpenAiCompatibleSpec& spec, std::ostream* os) { *os << spec.id; }
}  // namespace portico::providers

namespace portico::testing {
namespace {

class OpenAiCompatibleProvider : public ::testing::TestWithParam<OpenAiCompatibleSpec> {};

// The path part of the provider's base URL ("/openai/v1" for groq), which a custom host
// replaces; the rest of the request path must be kept.
std::string basePath(const OpenAiCompatibleSpec& spec) {
  if (spec.base_url.empty()) {
    return "";
  }
  return parseBaseUrl(spec.base_url)->path;
}

TEST_P(OpenAiCompatibleProvider, ChatReachesTheRightPathWithTheRightAuth) {
  const auto& spec = GetParam();
  const std::string expected_prefix = std::string(spec.api_prefix);
  FakeUpstream upstream([&](const RecordedRequest& r) {
    bool auth_ok = spec.auth == AuthStyle::kNone
                       ? !r.hasHeader("authorization")
                       : r.header("authorization") == "Bearer key-" + std::string(spec.id);
    if (!auth_ok) {
      return FakeResponse::json(401, R"({"error":{"message":"bad auth"}})");
    }
    return FakeResponse::json(200, json{{"path", r.path()}}.dump());
  });
  TestGateway gateway;
  // Mirror the provider's own base path under the fake, as a user of a proxy would.
  Headers headers = {{"x-portkey-provider", std::string(spec.id)},
                     {"x-portkey-custom-host", upstream.baseUrl() + basePath(spec)}};
  if (spec.auth != AuthStyle::kNone) {
    headers.emplace_back("x-portkey-api-key", "key-" + std::string(spec.id));
  }
  if (spec.endpoints & providers::kChat) {
    auto response = postJson(gateway.port(), "/v1/chat/completions", headers,
                             R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
    ASSERT_EQ(response.status, 200) << spec.id << ": " << response.body;
    EXPECT_EQ(upstream.lastRequest()->path(),
              basePath(spec) + expected_prefix + "/chat/completions");
    EXPECT_EQ(response.header("x-portkey-provider"), spec.id);
  }
  if (spec.endpoints & providers::kEmbed) {
    auto response =
        postJson(gateway.port(), "/v1/embeddings", headers, R"({"model":"m","input":"hi"})");
    ASSERT_EQ(response.status, 200) << spec.id << ": " << response.body;
    EXPECT_EQ(upstream.lastRequest()->path(), basePath(spec) + expected_prefix + "/embeddings");
  }
  // Every provider takes the /v1/* passthrough with its auth added.
  auto models = httpRequest(gateway.port(), "GET", "/v1/models", headers);
  EXPECT_EQ(models.status, 200) << spec.id << ": " << models.body;
  EXPECT_EQ(upstream.lastRequest()->path(), basePath(spec) + expected_prefix + "/models");
}

std::string specName(const ::testing::TestParamInfo<OpenAiCompatibleSpec>& info) {
  std::string name;
  for (char c : info.param.id) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registry,
                         OpenAiCompatibleProvider,
                         ::testing::ValuesIn(providers::openAiCompatibleSpecs().begin(),
                                             providers::openAiCompatibleSpecs().end()),
                         specName);

}  // namespace
}  // namespace portico::testing
