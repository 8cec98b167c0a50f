// The anthropic provider through the running gateway, against a fake Anthropic API that checks
// what the real one checks (path, x-api-key, anthropic-version, max_tokens, body shape) and
// answers in Anthropic's wire format.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

constexpr const char* kKey = "sk-ant-fake-key";

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("anthropic", name);
}

std::vector<std::string> pieces(const std::string& text, std::size_t size) {
  return splitIntoPieces(text, size);
}

FakeResponse anthropicError(int status, const std::string& type, const std::string& message) {
  return FakeResponse::json(
      status, json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump());
}

// What api.anthropic.com rejects, it rejects here too, with its own error shapes.
std::optional<FakeResponse> validate(const RecordedRequest& r) {
  if (r.path() != "/v1/messages") {
    return anthropicError(404, "not_found_error", "Not found: " + r.path());
  }
  if (r.header("x-api-key") != kKey || r.hasHeader("authorization")) {
    return anthropicError(401, "authentication_error", "invalid x-api-key");
  }
  if (r.header("anthropic-version").empty()) {
    return anthropicError(400, "invalid_request_error", "anthropic-version: header is required");
  }
  if (r.header("content-type").find("application/json") == std::string::npos) {
    return anthropicError(400, "invalid_request_error", "content-type must be JSON");
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("model") || !body["messages"].is_array()) {
    return anthropicError(400, "invalid_request_error", "model and messages are required");
  }
  if (!body["max_tokens"].is_number_integer()) {
    return anthropicError(400, "invalid_request_error", "max_tokens: Field required");
  }
  if (body.contains("system") && !body["system"].is_array() && !body["system"].is_string()) {
    return anthropicError(400, "invalid_request_error", "system: Input should be a list");
  }
  std::string last_role;
  for (const auto& m : body["messages"]) {
    const std::string role = m.value("role", "");
    if (role != "user" && role != "assistant") {
      return anthropicError(400, "invalid_request_error", "messages: Unexpected role " + role);
    }
    if (role == last_role) {
      return anthropicError(400, "invalid_request_error", "roles must alternate");
    }
    last_role = role;
  }
  return std::nullopt;
}

Headers headerAuth(const FakeUpstream& upstream) {
  // What the OpenAI SDK sends, plus the Portkey headers.
  return {{"x-portkey-provider", "anthropic"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
          {"authorization", std::string("Bearer ") + kKey}};
}

const char* kChatBody = R"({
  "model": "claude-sonnet-4-5-20250929",
  "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello"}
  ]
})";

TEST(AnthropicIntegration, ChatCompletionNonStream) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", headerAuth(upstream), kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "anthropic");
  json body = json::parse(response.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["id"], "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(body["provider"], "anthropic");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello! How can I help?");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["total_tokens"], 20);

  auto sent = upstream.lastRequest();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->header("anthropic-version"), "2023-06-01");
  EXPECT_FALSE(sent->hasHeader("anthropic-beta"));
  json upstream_body = json::parse(sent->body);
  EXPECT_EQ(upstream_body["system"], json::parse(R"([{"type":"text","text":"Be brief."}])"));
  EXPECT_EQ(upstream_body["max_tokens"], 4096);
  EXPECT_EQ(upstream_body["model"], "claude-sonnet-4-5-20250929");
}

TEST(AnthropicIntegration, ConfigAuthAndOptions) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::json(200, readFixture("response_cache_usage.json"));
  });
  TestGateway gateway;
  json config = {{"provider", "anthropic"},
                 {"api_key", kKey},
                 {"custom_host", upstream.baseUrl() + "/v1"},
                 {"default_max_tokens", 512},
                 {"anthropic_version", "2023-06-01"},
                 {"anthropic_beta", "prompt-caching-2024-07-31"}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["usage"]["prompt_tokens"], 1210);
  EXPECT_EQ(body["usage"]["prompt_tokens_details"]["cached_tokens"], 1000);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  auto sent = upstream.lastRequest();
  EXPECT_EQ(json::parse(sent->body)["max_tokens"], 512);
  EXPECT_EQ(sent->header("anthropic-beta"), "prompt-caching-2024-07-31");
}

TEST(AnthropicIntegration, HeaderOptionsAndClientAnthropicKey) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  Headers headers = {{"x-portkey-provider", "anthropic"},
                     {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
                     {"x-api-key", kKey},
                     {"x-portkey-default-max-tokens", "77"},
                     {"x-portkey-anthropic-version", "2023-01-01"}};
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(upstream.lastRequest()->body)["max_tokens"], 77);
  EXPECT_EQ(upstream.lastRequest()->header("anthropic-version"), "2023-01-01");
}

TEST(AnthropicIntegration, StreamWithToolsAndUsage) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    json body = json::parse(r.body);
    if (body.value("stream", false) != true || !body["tools"].is_array() ||
        !body["tools"][0].contains("input_schema")) {
      return anthropicError(400, "invalid_request_error", "expected a streamed tool request");
    }
    return FakeResponse::sse(pieces(readFixture("stream_text_tool.sse"), 23));
  });
  TestGateway gateway;
  const char* request = R"({
    "model": "claude-sonnet-4-5-20250929",
    "messages": [{"role": "user", "content": "Weather in SF?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}],
    "tool_choice": "auto",
    "stream": true,
    "stream_options": {"include_usage": true}
  })";
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headerAuth(upstream), request);
  ASSERT_EQ(stream.status(), 200);
  EXPECT_NE(stream.header("content-type").find("text/event-stream"), std::string::npos);
  const std::string body = stream.readAll();
  const auto data = sseData(body);
  ASSERT_EQ(data.size(), 9u) << body;
  EXPECT_EQ(data.back(), "[DONE]");
  std::string content;
  std::string arguments;
  std::string finish;
  json usage;
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    json chunk = json::parse(data[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["provider"], "anthropic");
    if (chunk.contains("usage")) {
      usage = chunk["usage"];
      continue;
    }
    const json& choice = chunk["choices"][0];
    content += choice["delta"].value("content", "");
    if (choice["delta"].contains("tool_calls")) {
      const json& call = choice["delta"]["tool_calls"][0];
      EXPECT_EQ(call["index"], 0);
      arguments += call["function"].value("arguments", "");
    }
    if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
  }
  EXPECT_EQ(content, "Okay, let's check the weather for San Francisco, CA:");
  EXPECT_EQ(json::parse(arguments)["location"], "San Francisco, CA");
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(usage["completion_tokens"], 89);
  EXPECT_EQ(usage["prompt_tokens"], 572);

  json sent = json::parse(upstream.lastRequest()->body);
  EXPECT_EQ(sent["tool_choice"], json({{"type", "auto"}}));
  EXPECT_FALSE(sent.contains("stream_options"));
}

TEST(AnthropicIntegration, ErrorEventMidStreamReachesTheClient) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::sse(pieces(readFixture("stream_error.sse"), 17));
  });
  TestGateway gateway;
  json request = json::parse(kChatBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headerAuth(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  const auto data = sseData(stream.readAll());
  ASSERT_FALSE(data.empty());
  json last = json::parse(data.back());
  EXPECT_EQ(last["error"]["message"], "anthropic error: Overloaded");
  EXPECT_EQ(last["error"]["type"], "overloaded_error");
}

TEST(AnthropicIntegration, RateLimitErrorIsNormalised) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    FakeResponse response = FakeResponse::json(429, readFixture("error_rate_limit.json"));
    response.headers.emplace_back("retry-after", "7");
    return response;
  });
  TestGateway gateway;
  for (bool stream : {false, true}) {
    json request = json::parse(kChatBody);
    request["stream"] = stream;
    auto response =
        postJson(gateway.port(), "/v1/chat/completions", headerAuth(upstream), request.dump());
    ASSERT_EQ(response.status, 429) << response.body;
    json body = json::parse(response.body);
    EXPECT_EQ(body["error"]["message"],
              "anthropic error: Number of request tokens has exceeded your per-minute rate limit");
    EXPECT_EQ(body["error"]["type"], "rate_limit_error");
    EXPECT_EQ(body["provider"], "anthropic");
    EXPECT_EQ(response.header("retry-after"), "7");
  }
}

TEST(AnthropicIntegration, UpstreamValidationErrorsAreVisible) {
  // A body the fake rejects (roles that do not alternate cannot come from us; a missing model
  // can), to prove the fake's checks reach the client.
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", headerAuth(upstream),
                           R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "invalid_request_error");
}

const char* kMessagesBody =
    R"({"model":"claude-sonnet-4-5-20250929","max_tokens":64,"system":"Be brief.",)"
    R"("messages":[{"role":"user","content":"Hello"}],"some_future_param":{"x":[1,2]}})";

Headers anthropicSdkHeaders(const FakeUpstream& upstream) {
  // What the Anthropic SDK sends, plus the Portkey headers.
  return {{"x-portkey-provider", "anthropic"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
          {"x-api-key", kKey},
          {"anthropic-version", "2023-06-01"},
          {"anthropic-beta", "token-efficient-tools-2025-02-19"}};
}

TEST(AnthropicIntegration, MessagesPassthrough) {
  const std::string answer = readFixture("response_tool_use.json");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::json(200, answer);
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/messages", anthropicSdkHeaders(upstream), kMessagesBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, answer);
  auto sent = upstream.lastRequest();
  EXPECT_EQ(sent->body, kMessagesBody);
  EXPECT_EQ(sent->header("anthropic-beta"), "token-efficient-tools-2025-02-19");
}

TEST(AnthropicIntegration, MessagesErrorsStayInAnthropicFormat) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(429, readFixture("error_rate_limit.json"));
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/messages", anthropicSdkHeaders(upstream), kMessagesBody);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(json::parse(response.body), json::parse(readFixture("error_rate_limit.json")));
}

TEST(AnthropicIntegration, MessagesStreamIsRelayedRaw) {
  const std::string sse = readFixture("stream_text_tool.sse");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto error = validate(r)) return *error;
    return FakeResponse::sse(pieces(sse, 31));
  });
  TestGateway gateway;
  json request = json::parse(kMessagesBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/messages", anthropicSdkHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.readAll(), sse);
  EXPECT_EQ(json::parse(upstream.lastRequest()->body)["some_future_param"]["x"][1], 2);
}

TEST(AnthropicIntegration, ModelsPassthrough) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (r.path() != "/v1/models" || r.header("x-api-key") != kKey) {
      return anthropicError(404, "not_found_error", r.path());
    }
    return FakeResponse::json(200, R"({"data":[{"id":"claude-x","type":"model"}]})");
  });
  TestGateway gateway;
  auto response = httpRequest(gateway.port(), "GET", "/v1/models", anthropicSdkHeaders(upstream));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["data"][0]["id"], "claude-x");
}

TEST(AnthropicIntegration, UnsupportedEndpoints) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/embeddings", headerAuth(upstream),
                           R"({"model":"m","input":"hi"})");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

}  // namespace
}  // namespace portico::testing
