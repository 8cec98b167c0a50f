// The vertex-ai provider (Gemini on Vertex) through the running gateway, against a fake Vertex
// endpoint that checks the project/region path, the Bearer token and the body, and answers in
// Gemini's wire format.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

constexpr const char* kToken = "ya29.fake-access-token";
constexpr const char* kModelPath =
    "/v1/projects/proj-123/locations/europe-west4/publishers/google/models/gemini-1.5-pro";

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("google", name);
}

FakeResponse vertexError(int status, const std::string& google_status, const std::string& msg) {
  return FakeResponse::json(
      status,
      json{{"error", {{"code", status}, {"message", msg}, {"status", google_status}}}}.dump());
}

std::optional<FakeResponse> validate(const RecordedRequest& r, const std::string& action) {
  if (r.header("authorization") != std::string("Bearer ") + kToken) {
    return vertexError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
  }
  if (r.path() != std::string(kModelPath) + ":" + action) {
    return vertexError(404, "NOT_FOUND", "Publisher Model was not found: " + r.path());
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body["contents"].is_array() || body.contains("model")) {
    return vertexError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  }
  return std::nullopt;
}

Headers vertexHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "vertex-ai"},
          {"x-portkey-custom-host", upstream.baseUrl()},
          {"x-portkey-vertex-project-id", "proj-123"},
          {"x-portkey-vertex-region", "europe-west4"},
          {"authorization", std::string("Bearer ") + kToken}};
}

const char* kChatBody = R"({
  "model": "gemini-1.5-pro",
  "messages": [{"role": "user", "content": "Hello"}]
})";

TEST(VertexIntegration, GeminiNonStream) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r, "generateContent")) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", vertexHeaders(upstream), kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["provider"], "vertex-ai");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello, world!");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 12);
}

TEST(VertexIntegration, GeminiStreamWithConfig) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r, "streamGenerateContent")) return *error;
    if (r.query() != "alt=sse") {
      return vertexError(400, "INVALID_ARGUMENT", "alt=sse expected");
    }
    std::string sse = readFixture("stream_text.sse");
    std::vector<std::string> chunks;
    for (std::size_t pos = 0; pos < sse.size(); pos += 11) chunks.push_back(sse.substr(pos, 11));
    return FakeResponse::sse(chunks);
  });
  TestGateway gateway;
  json config = {{"provider", "vertex-ai"},
                 {"api_key", kToken},
                 {"custom_host", upstream.baseUrl()},
                 {"vertex_project_id", "proj-123"},
                 {"vertex_region", "europe-west4"}};
  json request = json::parse(kChatBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, request.dump());
  ASSERT_EQ(stream.status(), 200);
  auto events = sseData(stream.readAll());
  ASSERT_EQ(events.size(), 5u);
  std::string content;
  for (std::size_t i = 0; i < 3; ++i) {
    json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["provider"], "vertex-ai");
    content += chunk["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(content, "Hello, world!");
  EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(events[4], "[DONE]");
}

TEST(VertexIntegration, WrongProjectOrTokenIsUpstreamError) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r, "generateContent")) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  Headers headers = vertexHeaders(upstream);
  headers[2].second = "other-project";
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "NOT_FOUND");

  headers = vertexHeaders(upstream);
  headers.back().second = "Bearer expired";
  response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(json::parse(response.body)["error"]["code"], "401");
}

// A throwaway RSA key as PEM, for a service account the fake token endpoint accepts.
std::string throwawayPrivateKeyPem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

TEST(VertexIntegration, ServiceAccountIsExchangedForACachedToken) {
  std::atomic<int> token_calls{0};
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (r.path() == "/token") {
      ++token_calls;
      bool form = r.header("content-type") == "application/x-www-form-urlencoded";
      bool grant =
          r.body.find("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") !=
          std::string::npos;
      bool assertion = r.body.find("assertion=ey") != std::string::npos;
      if (!form || !grant || !assertion) {
        return FakeResponse::json(400, R"({"error":"invalid_grant","error_description":"bad"})");
      }
      return FakeResponse::json(
          200,
          json{{"access_token", kToken}, {"expires_in", 3599}, {"token_type", "Bearer"}}.dump());
    }
    if (auto error = validate(r, "generateContent")) {
      return *error;
    }
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  json account = {{"type", "service_account"},
                  {"client_email", "portico@proj-123.iam.gserviceaccount.com"},
                  {"private_key_id", "kid-1"},
                  {"private_key", throwawayPrivateKeyPem()},
                  {"token_uri", upstream.baseUrl() + "/token"}};
  json config = {{"provider", "vertex-ai"},
                 {"vertex_project_id", "proj-123"},
                 {"vertex_region", "europe-west4"},
                 {"vertex_service_account_json", account},
                 {"custom_host", upstream.baseUrl()}};
  for (int i = 0; i < 2; ++i) {
    auto response = postJson(gateway.port(), "/v1/chat/completions",
                             {{"x-portkey-config", config.dump()}}, kChatBody);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body.find("PRIVATE KEY"), std::string::npos);
  }
  // Each worker caches its token; at most one exchange per worker.
  EXPECT_GE(token_calls.load(), 1);
  EXPECT_LE(token_calls.load(), 2);
}

TEST(VertexIntegration, TokenEndpointRefusalIs401) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(400,
                              R"({"error":"invalid_grant","error_description":"Invalid JWT"})");
  });
  TestGateway gateway;
  json account = {{"client_email", "a@b.iam.gserviceaccount.com"},
                  {"private_key", throwawayPrivateKeyPem()},
                  {"token_uri", upstream.baseUrl() + "/token"}};
  json config = {{"provider", "vertex-ai"},
                 {"vertex_project_id", "proj-123"},
                 {"vertex_region", "europe-west4"},
                 {"vertex_service_account_json", account},
                 {"custom_host", upstream.baseUrl()}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  EXPECT_EQ(response.status, 401);
  EXPECT_NE(response.body.find("Invalid JWT"), std::string::npos);
  EXPECT_EQ(upstream.requestCount(), 1u);  // never reached generateContent
}

TEST(VertexIntegration, TokenUriIsCheckedLikeACustomHost) {
  TestGateway gateway;
  json account = {{"client_email", "a@b.iam.gserviceaccount.com"},
                  {"private_key", throwawayPrivateKeyPem()},
                  {"token_uri", "http://169.254.169.254/token"}};
  json config = {{"provider", "vertex-ai"},
                 {"vertex_project_id", "proj-123"},
                 {"vertex_region", "europe-west4"},
                 {"vertex_service_account_json", account}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("custom-host guard"), std::string::npos);
}

}  // namespace
}  // namespace portico::testing

namespace portico::testing {
namespace {

// Boost.URL 1.81 asserts on "jtout: " (path_segments, nseg == 0); the token URI reaches the
// URL parser, so it must be refused before it gets there.
TEST(VertexIntegration, MalformedTokenUriIsAClearErrorNotAnAssert) {
  TestGateway gateway;
  for (const char* uri : {"jtout: ", "http://a b/token", "file:///etc/passwd"}) {
    json account = {{"client_email", "a@b.iam.gserviceaccount.com"},
                    {"private_key", throwawayPrivateKeyPem()},
                    {"token_uri", uri}};
    json config = {{"provider", "vertex-ai"},
                   {"vertex_project_id", "proj-123"},
                   {"vertex_region", "europe-west4"},
                   {"vertex_service_account_json", account}};
    auto response = postJson(gateway.port(), "/v1/chat/completions",
                             {{"x-portkey-config", config.dump()}}, kChatBody);
    EXPECT_EQ(response.status, 400) << uri << ": " << response.body;
  }
  EXPECT_EQ(httpRequest(gateway.port(), "GET", "/health").status, 200);
}

}  // namespace
}  // namespace portico::testing

namespace portico::testing {
namespace {

// The token endpoint comes from client credentials: its name passing the guard is not enough,
// every address it resolves to is judged before connecting, as for custom hosts.
TEST(VertexIntegration, TokenUriResolvingToAPrivateAddressIsNotConnected) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(200, R"({"access_token":"t","expires_in":3599})");
  });
  ServerOptions options = TestGateway::defaultOptions();
  options.trusted_custom_hosts = {"nothing-trusted.example"};
  options.static_hosts = {{"token-alias.example.com", "127.0.0.1"}};
  TestGateway gateway(options);
  json account = {{"client_email", "a@b.iam.gserviceaccount.com"},
                  {"private_key", throwawayPrivateKeyPem()},
                  {"token_uri",
                   "http://token-alias.example.com:" + std::to_string(upstream.port()) + "/token"}};
  json config = {{"provider", "vertex-ai"},
                 {"vertex_project_id", "proj-123"},
                 {"vertex_region", "europe-west4"},
                 {"vertex_service_account_json", account}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_NE(response.body.find("custom-host policy"), std::string::npos) << response.body;
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

}  // namespace
}  // namespace portico::testing
