// The gateway in-process over real loopback sockets, against fake OpenAI-format upstreams.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const std::string kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]})";

FakeResponse chatCompletion() {
  FakeResponse r = FakeResponse::json(
      200, R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",)"
           R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},)"
           R"("finish_reason":"stop"}]})");
  r.headers.emplace_back("x-request-id", "req-123");
  r.headers.emplace_back("set-cookie", "session=secret");
  return r;
}

// Answers like OpenAI, but only when the request looks like one OpenAI would accept.
FakeResponse strictOpenAi(const RecordedRequest& request) {
  if (request.header("authorization") != "Bearer sk-test") {
    return FakeResponse::json(401, R"({"error":{"message":"Incorrect API key provided",)"
                                   R"("type":"invalid_request_error","param":null,)"
                                   R"("code":"invalid_api_key"}})");
  }
  if (request.header("content-type") != "application/json") {
    return FakeResponse::json(400, R"({"error":{"message":"bad content type"}})");
  }
  return chatCompletion();
}

class CoreTest : public ::testing::Test {
 protected:
  FakeUpstream upstream{strictOpenAi};
  TestGateway gateway;

  Headers openAiHeaders() const {
    return {{"x-portkey-provider", "openai"},
            {"x-portkey-api-key", "sk-test"},
            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
  }
};

TEST_F(CoreTest, RootAnswersPortkeysGreeting) {
  auto response = httpRequest(gateway.port(), "GET", "/");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "AI Gateway says hey!");
  EXPECT_EQ(response.header("content-type").rfind("text/plain", 0), 0u);
  auto head = httpRequest(gateway.port(), "HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(CoreTest, HealthIsJson) {
  auto response = httpRequest(gateway.port(), "GET", "/health");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)["status"], "ok");
}

TEST_F(CoreTest, UnknownRouteIs404WithPortkeysBody) {
  for (auto [method, path] :
       {std::pair{"GET", "/nope"}, {"PUT", "/v1/chat/completions"}, {"POST", "/v2/chat"}}) {
    auto response = httpRequest(gateway.port(), method, path);
    EXPECT_EQ(response.status, 404) << method << " " << path;
    EXPECT_EQ(json::parse(response.body), json::parse(R"({"message":"Not Found","ok":false})"));
  }
}

TEST_F(CoreTest, HeaderAuthReachesUpstreamAsOpenAiExpects) {
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
                            {"x-portkey-trace-id", "trace-abc"},
                            {"x-not-forwarded", "1"}},
                           kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["choices"][0]["message"]["content"], "Hi");
  auto seen = upstream.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->target, "/v1/chat/completions");
  EXPECT_EQ(seen->body, kChatBody);  // bytes passed through, not re-serialised
  EXPECT_FALSE(seen->hasHeader("x-portkey-api-key"));
  EXPECT_FALSE(seen->hasHeader("x-not-forwarded"));
  EXPECT_EQ(response.header("x-portkey-provider"), "openai");
  EXPECT_EQ(response.header("x-portkey-trace-id"), "trace-abc");
  EXPECT_EQ(response.header("x-portkey-retry-attempt-count"), "0");
  EXPECT_EQ(response.header("x-portkey-last-used-option-index"), "config");
  EXPECT_EQ(response.header("x-portkey-cache-status"), "DISABLED");
  EXPECT_EQ(response.header("x-request-id"), "req-123");
  EXPECT_FALSE(response.hasHeader("set-cookie"));
}

TEST_F(CoreTest, GeneratesTraceIdWhenAbsent) {
  auto response = postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(), kChatBody);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.header("x-portkey-trace-id").size(), 36u);
}

TEST_F(CoreTest, AuthorizationBearerIsTheProviderKeyToo) {
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"authorization", "Bearer sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(CoreTest, AuthorizationWinsOverPortkeyApiKey) {
  // Portkey's SDK sends the user's Portkey key as x-portkey-api-key and the provider key as
  // Authorization: only the provider key may reach the provider.
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "pk-portkey-user-key"},
                            {"authorization", "Bearer sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_EQ(response.status, 200) << response.body;
  const auto seen = upstream.lastRequest();
  ASSERT_TRUE(seen);
  for (const auto& [name, value] : seen->headers) {
    EXPECT_EQ(value.find("pk-portkey-user-key"), std::string::npos) << name;
  }
}

TEST_F(CoreTest, ConfigAuthWithOverrideParams) {
  json config = {{"provider", "openai"},
                 {"api_key", "sk-test"},
                 {"custom_host", upstream.baseUrl() + "/v1"},
                 {"override_params", {{"model", "gpt-4o"}, {"temperature", 0.2}}}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = json::parse(upstream.lastRequest()->body);
  EXPECT_EQ(body["model"], "gpt-4o");
  EXPECT_EQ(body["temperature"], 0.2);
  EXPECT_EQ(body["messages"][0]["content"], "Hello!");
}

TEST_F(CoreTest, CamelCaseConfigIsAccepted) {
  json config = {{"provider", "openai"},
                 {"apiKey", "sk-test"},
                 {"customHost", upstream.baseUrl() + "/v1"},
                 {"forwardHeaders", {"x-team"}}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}, {"x-team", "blue"}}, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(upstream.lastRequest()->header("x-team"), "blue");
}

TEST_F(CoreTest, ForwardHeadersCopiesOnlyListedHeaders) {
  Headers headers = openAiHeaders();
  headers.emplace_back("x-portkey-forward-headers", "X-Team, x-absent");
  headers.emplace_back("x-team", "blue");
  headers.emplace_back("x-other", "no");
  ASSERT_EQ(postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody).status, 200);
  auto seen = upstream.lastRequest();
  EXPECT_EQ(seen->header("x-team"), "blue");
  EXPECT_FALSE(seen->hasHeader("x-other"));
  EXPECT_FALSE(seen->hasHeader("x-absent"));
}

TEST_F(CoreTest, OpenAiOrganizationAndProjectHeaders) {
  Headers headers = openAiHeaders();
  headers.emplace_back("x-portkey-openai-organization", "org-1");
  headers.emplace_back("x-portkey-openai-project", "proj-1");
  ASSERT_EQ(postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody).status, 200);
  EXPECT_EQ(upstream.lastRequest()->header("openai-organization"), "org-1");
  EXPECT_EQ(upstream.lastRequest()->header("openai-project"), "proj-1");
}

TEST_F(CoreTest, ValidationErrorsUsePortkeysBodies) {
  struct Case {
    Headers headers;
    std::string message;
  };
  std::vector<Case> cases = {
      {{}, "Either x-portkey-config or x-portkey-provider header is required"},
      {{{"x-portkey-provider", "nope"}}, "Invalid provider passed"},
      {{{"x-portkey-config", "{not json"}}, "Invalid config passed. You need to pass a valid json"},
      {{{"x-portkey-provider", "openai"}, {"x-portkey-custom-host", "http://169.254.169.254/v1"}},
       "Invalid custom host"},
      {{{"x-portkey-provider", "openai"}, {"x-portkey-custom-host", "http://10.0.0.1/v1"}},
       "Invalid custom host"},
  };
  for (const auto& c : cases) {
    auto response = postJson(gateway.port(), "/v1/chat/completions", c.headers, kChatBody);
    EXPECT_EQ(response.status, 400);
    auto body = json::parse(response.body);
    EXPECT_EQ(body["status"], "failure");
    EXPECT_EQ(body["message"], c.message);
  }
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(CoreTest, InvalidConfigListsEveryProblem) {
  auto response = postJson(
      gateway.port(), "/v1/chat/completions",
      {{"x-portkey-config",
        R"({"strategy":{"mode":"fallback"},"targets":[{"provider":"openai","api_key":"k"},)"
        R"({"provider":"openai","api_key":"k","weight":"x"}]})"}},
      kChatBody);
  ASSERT_EQ(response.status, 400);
  auto body = json::parse(response.body);
  EXPECT_EQ(body["message"], "Invalid config passed");
  ASSERT_TRUE(body["errors"].is_array());
  EXPECT_NE(body["errors"].dump().find("targets,1,weight"), std::string::npos) << body.dump();
}

TEST_F(CoreTest, WrongContentTypeIsRejected) {
  Headers headers = openAiHeaders();
  headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  auto response = httpRequest(gateway.port(), "POST", "/v1/chat/completions", headers, "a=b");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["message"], "Invalid content type passed");
}

TEST_F(CoreTest, MalformedJsonBodyIs400) {
  auto response = postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(), "{\"model\":");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(CoreTest, UpstreamErrorKeepsStatusAndIsNormalised) {
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-wrong"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_EQ(response.status, 401);
  auto body = json::parse(response.body);
  EXPECT_EQ(body["error"]["message"], "openai error: Incorrect API key provided");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["code"], "invalid_api_key");
  EXPECT_EQ(body["provider"], "openai");
  EXPECT_EQ(response.body.find("sk-wrong"), std::string::npos);
}

TEST_F(CoreTest, MissingKeyIs401WithoutCallingUpstream) {
  auto response = postJson(
      gateway.port(), "/v1/chat/completions",
      {{"x-portkey-provider", "openai"}, {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
      kChatBody);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST_F(CoreTest, KeepAliveReusesOneUpstreamConnection) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(), kChatBody).status,
              200);
  }
  // Two workers may each open one.
  EXPECT_LE(upstream.connectionCount(), 2u);
  EXPECT_EQ(upstream.requestCount(), 5u);
}

TEST(CoreFailures, StalePooledConnectionIsRetriedTransparently) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = chatCompletion();
    r.close_after_response = true;  // keep-alive promised, then dropped while idle
    return r;
  });
  auto options = TestGateway::defaultOptions();
  options.threads = 1;
  TestGateway gateway(options);
  Headers headers = {{"x-portkey-provider", "openai"},
                     {"x-portkey-api-key", "sk-test"},
                     {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
  for (int i = 0; i < 3; ++i) {
    auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
    EXPECT_EQ(response.status, 200) << response.body;
  }
  EXPECT_EQ(upstream.requestCount(), 3u);
}

TEST(CoreFailures, UnreachableUpstreamIs502Json) {
  unsigned short dead_port = 0;
  {
    FakeUpstream closed([](const RecordedRequest&) { return chatCompletion(); });
    dead_port = closed.port();
  }
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions",
               {{"x-portkey-provider", "openai"},
                {"x-portkey-api-key", "sk-test"},
                {"x-portkey-custom-host", "http://127.0.0.1:" + std::to_string(dead_port) + "/v1"}},
               kChatBody);
  EXPECT_EQ(response.status, 502);
  auto body = json::parse(response.body);
  EXPECT_EQ(body["provider"], "openai");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("openai error:"), std::string::npos);
}

TEST(CoreFailures, UpstreamClosingWithoutAnswerIs502) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r;
    r.close_without_response = true;
    return r;
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_EQ(response.status, 502);
}

TEST(CoreFailures, RequestTimeoutIs408WithPortkeysMessage) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = chatCompletion();
    r.delay_before_headers = std::chrono::seconds(5);
    return r;
  });
  TestGateway gateway;
  auto started = std::chrono::steady_clock::now();
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-test"},
                            {"x-portkey-request-timeout", "200"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"error":{"message":"Request exceeded the timeout sent in the )"
                        R"(request: 200ms","type":"timeout_error","param":null,"code":null}})"));
}

TEST(CoreFailures, SilentUpstreamHitsReadTimeoutAs504) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = chatCompletion();
    r.delay_before_headers = std::chrono::seconds(5);
    return r;
  });
  auto options = TestGateway::defaultOptions();
  options.upstream_read_timeout = std::chrono::milliseconds(200);
  TestGateway gateway(options);
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  EXPECT_EQ(response.status, 504);
}

TEST(CoreLimits, OversizedBodyIs413) {
  auto options = TestGateway::defaultOptions();
  options.max_body_bytes = 1024;
  TestGateway gateway(options);
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"}, {"x-portkey-api-key", "k"}},
                           std::string(4096, 'x'));
  EXPECT_EQ(response.status, 413);
}

TEST(CoreLimits, OversizedHeadersAre413) {
  auto options = TestGateway::defaultOptions();
  options.max_header_bytes = 2048;
  TestGateway gateway(options);
  auto response =
      postJson(gateway.port(), "/v1/chat/completions",
               {{"x-portkey-provider", "openai"}, {"x-big", std::string(4096, 'a')}}, kChatBody);
  EXPECT_EQ(response.status, 413);
}

TEST(CorePassthrough, OtherV1RoutesKeepPathQueryBodyAndHeaders) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    return FakeResponse::json(200, json{{"method", r.method}, {"target", r.target}}.dump());
  });
  TestGateway gateway;
  Headers headers = {{"x-portkey-provider", "openai"},
                     {"x-portkey-api-key", "sk-test"},
                     {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
                     {"x-custom", "kept"}};
  auto get = httpRequest(gateway.port(), "GET", "/v1/models?limit=2", headers);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(upstream.lastRequest()->target, "/v1/models?limit=2");
  EXPECT_EQ(upstream.lastRequest()->header("authorization"), "Bearer sk-test");
  EXPECT_EQ(upstream.lastRequest()->header("x-custom"), "kept");

  auto del = httpRequest(gateway.port(), "DELETE", "/v1/files/file-1", headers);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(upstream.lastRequest()->method, "DELETE");
  EXPECT_EQ(upstream.lastRequest()->target, "/v1/files/file-1");

  Headers post_headers = headers;
  post_headers.emplace_back("content-type", "application/json");
  auto post = httpRequest(gateway.port(), "POST", "/v1/some/new/endpoint?x=1", post_headers,
                          R"({"weird":1})");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(upstream.lastRequest()->target, "/v1/some/new/endpoint?x=1");
  EXPECT_EQ(upstream.lastRequest()->body, R"({"weird":1})");
}

TEST(CoreProviders, OllamaNeedsNoKeyAndUsesItsV1Route) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (r.hasHeader("authorization")) {
      return FakeResponse::json(400, R"({"error":"unexpected auth"})");
    }
    return chatCompletion();
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions",
               {{"x-portkey-provider", "ollama"}, {"x-portkey-custom-host", upstream.baseUrl()}},
               R"({"model":"llama3","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(upstream.lastRequest()->target, "/v1/chat/completions");
}

TEST(CoreProviders, OllamaWithoutCustomHostIsAClearError) {
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", {{"x-portkey-provider", "ollama"}},
               R"({"model":"llama3","messages":[]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("custom host"), std::string::npos);
}

TEST(CoreProviders, UnsupportedEndpointIsPortkeysGatewayException) {
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/embeddings",
                           {{"x-portkey-provider", "perplexity-ai"}, {"x-portkey-api-key", "k"}},
                           R"({"model":"m","input":"x"})");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(json::parse(response.body)["message"], "embed is not supported by perplexity-ai");
  EXPECT_EQ(response.header("x-portkey-gateway-exception"), "true");
}

TEST(CoreTls, TestCaIsTrustedAndHostNameChecked) {
  FakeUpstream good(strictOpenAi, TlsMode::kTls);
  FakeUpstream wrong(strictOpenAi, TlsMode::kTlsWrongName);
  TestGateway gateway;
  auto ok = postJson(gateway.port(), "/v1/chat/completions",
                     {{"x-portkey-provider", "openai"},
                      {"x-portkey-api-key", "sk-test"},
                      {"x-portkey-custom-host", good.baseUrl() + "/v1"}},
                     kChatBody);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(good.requestCount(), 1u);

  auto refused = postJson(gateway.port(), "/v1/chat/completions",
                          {{"x-portkey-provider", "openai"},
                           {"x-portkey-api-key", "sk-test"},
                           {"x-portkey-custom-host", wrong.baseUrl() + "/v1"}},
                          kChatBody);
  EXPECT_EQ(refused.status, 502);
  EXPECT_NE(refused.body.find("TLS"), std::string::npos) << refused.body;
  EXPECT_EQ(wrong.requestCount(), 0u);
}

TEST(CoreTls, UntrustedCaIsRefused) {
  FakeUpstream good(strictOpenAi, TlsMode::kTls);
  auto options = TestGateway::defaultOptions();
  options.ca_file.clear();  // system store only: the test CA is unknown
  TestGateway gateway(options);
  auto refused = postJson(gateway.port(), "/v1/chat/completions",
                          {{"x-portkey-provider", "openai"},
                           {"x-portkey-api-key", "sk-test"},
                           {"x-portkey-custom-host", good.baseUrl() + "/v1"}},
                          kChatBody);
  EXPECT_EQ(refused.status, 502);
  EXPECT_EQ(good.requestCount(), 0u);
}

}  // namespace
}  // namespace portico::testing

namespace portico::testing {
namespace {

TEST(CoreRobustness, GarbageOnTheWireNeverTakesTheGatewayDown) {
  TestGateway gateway;
  std::mt19937 random(42);
  const std::vector<std::string> seeds = {
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "content-length: 99999999999999999999\r\n",
      "transfer-encoding: chunked\r\n\r\nzz\r\n",
      "x-portkey-config: {\"targets\":[[[[[\r\n",
      "\r\n\r\n",
      std::string("\0\xff\xfe", 3),
  };
  for (int round = 0; round < 40; ++round) {
    std::string raw;
    for (int i = 0; i < 4; ++i) {
      raw += seeds[random() % seeds.size()];
      std::string noise(random() % 30, '\0');
      for (char& c : noise) {
        c = static_cast<char>(random() % 256);
      }
      raw += noise;
    }
    // Send and hang up at once; the gateway must neither crash nor wedge.
    sendRawAndClose(gateway.port(), raw, [] { return true; });
  }
  auto response = httpRequest(gateway.port(), "GET", "/");
  EXPECT_EQ(response.status, 200);
}

TEST(CoreRobustness, MalformedRequestGetsA400AndTheConnectionCloses) {
  TestGateway gateway;
  std::string answer = rawExchange(gateway.port(), "GARBAGE / NOT-HTTP\r\nHost: x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("Malformed HTTP request"), std::string::npos) << answer;
}

}  // namespace
}  // namespace portico::testing
