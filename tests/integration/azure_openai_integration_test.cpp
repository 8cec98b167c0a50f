// azure-openai through the real gateway, against a fake Azure OpenAI resource that checks what
// Azure checks: the deployment path, api-version, and exactly one of api-key / Bearer token.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

std::string azureFixture(const std::string& name) {
  return portico::testing::readTestData("azure_openai", name);
}

const std::string kChat = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]})";

FakeResponse azureError(int status, const std::string& code, const std::string& message) {
  return FakeResponse::json(status, json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

// Answers like an Azure OpenAI resource with one deployment, "gpt4o-dep".
FakeResponse fakeAzure(const RecordedRequest& request) {
  const bool has_key = request.hasHeader("api-key");
  const bool has_token = request.hasHeader("authorization");
  if (has_key == has_token) {
    return azureError(401, "401",
                      "Access denied due to invalid subscription key or wrong API "
                      "endpoint.");
  }
  if ((has_key && request.header("api-key") != "azure-key") ||
      (has_token && request.header("authorization") != "Bearer ad-token")) {
    return azureError(401, "401", "Access denied due to invalid subscription key.");
  }
  std::string query = request.query();
  if (query.find("api-version=") == std::string::npos) {
    return azureError(404, "404", "Resource not found");
  }
  const std::string prefix = "/openai/deployments/";
  std::string path = request.path();
  if (!path.starts_with(prefix)) {
    return azureError(404, "404", "Resource not found");
  }
  std::string rest = path.substr(prefix.size());
  std::string deployment = rest.substr(0, rest.find('/'));
  std::string operation = rest.substr(deployment.size());
  if (deployment != "gpt4o-dep") {
    return FakeResponse::json(404, azureFixture("error_deployment_not_found.json"));
  }
  json body = json::parse(request.body, nullptr, false);
  if (request.header("content-type") != "application/json" || !body.is_object()) {
    return azureError(400, "BadRequest", "invalid body");
  }
  if (operation == "/chat/completions") {
    if (body.value("stream", false)) {
      std::string sse = azureFixture("chat_stream.sse");
      // Split mid-event to exercise the relay with arbitrary reads.
      return FakeResponse::sse({sse.substr(0, 50), sse.substr(50, 300), sse.substr(350)});
    }
    return FakeResponse::json(200, azureFixture("chat_response.json"));
  }
  if (operation == "/embeddings") {
    return FakeResponse::json(
        200, R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.5]}],)"
             R"("model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}})");
  }
  return azureError(404, "404", "Resource not found");
}

class AzureOpenAiIntegration : public ::testing::Test {
 protected:
  FakeUpstream upstream{fakeAzure};
  TestGateway gateway;

  Headers headerAuth() const {
    return {{"x-portkey-provider", "azure-openai"},
            {"authorization", "Bearer azure-key"},  // what the OpenAI SDK sends
            {"x-portkey-azure-resource-name", "my-res"},
            {"x-portkey-azure-deployment-id", "gpt4o-dep"},
            {"x-portkey-custom-host", upstream.baseUrl()}};
  }
};

TEST_F(AzureOpenAiIntegration, HeaderAuthUsesApiKeyAndDefaultApiVersion) {
  auto response = postJson(gateway.port(), "/v1/chat/completions", headerAuth(), kChat);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body), json::parse(azureFixture("chat_response.json")));
  EXPECT_EQ(response.header("x-portkey-provider"), "azure-openai");
  auto request = upstream.lastRequest();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->path(), "/openai/deployments/gpt4o-dep/chat/completions");
  EXPECT_EQ(request->query(), "api-version=2024-10-21");
  EXPECT_EQ(request->header("api-key"), "azure-key");
  EXPECT_FALSE(request->hasHeader("authorization"));
  EXPECT_EQ(json::parse(request->body), json::parse(kChat));
}

TEST_F(AzureOpenAiIntegration, ConfigAuthWithResourceDeploymentAndVersion) {
  json config = {{"provider", "azure-openai"},  {"api_key", "azure-key"},
                 {"resource_name", "my-res"},   {"deployment_id", "gpt4o-dep"},
                 {"api_version", "2024-06-01"}, {"custom_host", upstream.baseUrl()}};
  auto response = postJson(gateway.port(), "/v1/embeddings", {{"x-portkey-config", config.dump()}},
                           R"({"model":"text-embedding-3-small","input":"hi"})");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["data"][0]["embedding"], json::array({0.5, -0.5}));
  auto request = upstream.lastRequest();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->path(), "/openai/deployments/gpt4o-dep/embeddings");
  EXPECT_EQ(request->query(), "api-version=2024-06-01");
  EXPECT_EQ(request->header("api-key"), "azure-key");
}

TEST_F(AzureOpenAiIntegration, AdTokenIsSentAsBearerWithoutApiKey) {
  Headers headers = headerAuth();
  headers.erase(headers.begin() + 1);  // no key at all
  headers.emplace_back("x-portkey-azure-ad-token", "Bearer ad-token");
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChat);
  ASSERT_EQ(response.status, 200) << response.body;
  auto request = upstream.lastRequest();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->header("authorization"), "Bearer ad-token");
  EXPECT_FALSE(request->hasHeader("api-key"));

  // With both a key and a token, only the token goes upstream.
  headers = headerAuth();
  headers.emplace_back("x-portkey-azure-ad-token", "ad-token");
  response = postJson(gateway.port(), "/v1/chat/completions", headers, kChat);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_FALSE(upstream.lastRequest()->hasHeader("api-key"));
}

TEST_F(AzureOpenAiIntegration, ClientQueryIsPreserved) {
  auto response =
      postJson(gateway.port(), "/v1/chat/completions?trace=abc&x=1", headerAuth(), kChat);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(upstream.lastRequest()->query(), "trace=abc&x=1&api-version=2024-10-21");
}

TEST_F(AzureOpenAiIntegration, StreamIsRelayedUnchanged) {
  json body = json::parse(kChat);
  body["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headerAuth(), body.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type").rfind("text/event-stream", 0), 0u);
  std::string received = stream.readAll();
  EXPECT_EQ(received, azureFixture("chat_stream.sse"));
  auto data = sseData(received);
  ASSERT_FALSE(data.empty());
  // Azure's first chunk (prompt filter results, empty choices) reaches the client as sent.
  EXPECT_EQ(json::parse(data.front())["choices"], json::array());
  EXPECT_EQ(data.back(), "[DONE]");
}

TEST_F(AzureOpenAiIntegration, UnknownDeploymentIsNormalised404) {
  Headers headers = headerAuth();
  headers[3].second = "missing";
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChat);
  ASSERT_EQ(response.status, 404);
  json body = json::parse(response.body);
  EXPECT_EQ(body["provider"], "azure-openai");
  EXPECT_EQ(body["error"]["code"], "DeploymentNotFound");
}

TEST_F(AzureOpenAiIntegration, MissingDeploymentIsA400BeforeAnyUpstreamCall) {
  Headers headers = headerAuth();
  headers.erase(headers.begin() + 3);
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChat);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("deployment"), std::string::npos);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(AzureOpenAiIntegration, UnsupportedAuthModeIsA400) {
  Headers headers = headerAuth();
  headers.emplace_back("x-portkey-azure-auth-mode", "managed");
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChat);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

}  // namespace
}  // namespace portico::testing
