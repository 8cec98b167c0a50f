// The google provider (Gemini API) through the running gateway, against a fake Gemini API that
// checks what the real one checks (path, x-goog-api-key, no unknown body fields, role names)
// and answers in Gemini's wire format.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

constexpr const char* kKey = "AIzaSy-fake-gemini-key";

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("google", name);
}

std::vector<std::string> pieces(const std::string& text, std::size_t size) {
  return splitIntoPieces(text, size);
}

FakeResponse googleError(int status, const std::string& google_status, const std::string& msg) {
  return FakeResponse::json(
      status,
      json{{"error", {{"code", status}, {"message", msg}, {"status", google_status}}}}.dump());
}

// Google APIs reject unknown fields, a missing key, and roles other than user/model.
std::optional<FakeResponse> validateAuth(const RecordedRequest& r) {
  if (r.header("x-goog-api-key") != kKey || r.query().find("key=") != std::string::npos ||
      r.hasHeader("authorization")) {
    return googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.");
  }
  return std::nullopt;
}

std::optional<FakeResponse> validateChat(const RecordedRequest& r, const std::string& action) {
  if (auto error = validateAuth(r)) return error;
  if (r.method != "POST" || r.path() != "/v1beta/models/gemini-2.0-flash:" + action) {
    return googleError(404, "NOT_FOUND", "not found: " + r.path());
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body["contents"].is_array()) {
    return googleError(400, "INVALID_ARGUMENT", "contents is required");
  }
  static const std::set<std::string> kKnown = {
      "contents",   "systemInstruction", "generationConfig", "tools",
      "toolConfig", "safetySettings",    "cachedContent"};
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!kKnown.count(it.key())) {
      return googleError(400, "INVALID_ARGUMENT",
                         "Invalid JSON payload received. Unknown name \"" + it.key() + "\"");
    }
  }
  for (const auto& content : body["contents"]) {
    std::string role = content.value("role", "");
    if (role != "user" && role != "model") {
      return googleError(400, "INVALID_ARGUMENT", "Please use a valid role: user, model.");
    }
    if (!content["parts"].is_array() || content["parts"].empty()) {
      return googleError(400, "INVALID_ARGUMENT", "contents.parts must not be empty");
    }
  }
  return std::nullopt;
}

Headers sdkHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "google"},
          {"x-portkey-custom-host", upstream.baseUrl()},
          {"authorization", std::string("Bearer ") + kKey}};
}

const char* kChatBody = R"({
  "model": "gemini-2.0-flash",
  "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello"}
  ],
  "max_tokens": 64
})";

TEST(GoogleIntegration, ChatCompletionNonStream) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validateChat(r, "generateContent")) return *error;
    return FakeResponse::json(200, readFixture("response_text.json"));
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", sdkHeaders(upstream), kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "google");
  json body = json::parse(response.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["provider"], "google");
  EXPECT_EQ(body["model"], "gemini-2.0-flash-001");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello, world!");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["total_tokens"], 26);

  auto sent = upstream.lastRequest();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->query(), "");  // the key never travels in the URL
  json upstream_body = json::parse(sent->body);
  EXPECT_EQ(upstream_body["systemInstruction"], json::parse(R"({"parts":[{"text":"Be brief."}]})"));
  EXPECT_EQ(upstream_body["generationConfig"]["maxOutputTokens"], 64);
}

TEST(GoogleIntegration, ToolRoundTripWithConfigAuth) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validateChat(r, "generateContent")) return *error;
    return FakeResponse::json(200, readFixture("response_tool_call.json"));
  });
  TestGateway gateway;
  json config = {{"provider", "google"}, {"api_key", kKey}, {"custom_host", upstream.baseUrl()}};
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", {{"x-portkey-config", config.dump()}},
               readFixture("chat_request_openai.json"));
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  auto sent = upstream.lastRequest();
  ASSERT_TRUE(sent);
  EXPECT_EQ(json::parse(sent->body), json::parse(readFixture("chat_request_gemini.json")));
}

TEST(GoogleIntegration, StreamWithFunctionCall) {
  std::string text = readFixture("stream_text.sse");
  std::string tools = readFixture("stream_tool_call.sse");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto error = validateChat(r, "streamGenerateContent")) return *error;
    if (r.query() != "alt=sse") {
      return googleError(400, "INVALID_ARGUMENT", "this fake only speaks alt=sse");
    }
    bool wants_tools = r.body.find("functionDeclarations") != std::string::npos;
    return FakeResponse::sse(pieces(wants_tools ? tools : text, 7));
  });
  TestGateway gateway;
  json request = json::parse(kChatBody);
  request["stream"] = true;
  request["tools"] = json::parse(
      R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
          "properties":{"city":{"type":"string"}}}}}])");
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", sdkHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type").find("text/event-stream"), 0u);
  auto events = sseData(stream.readAll());
  ASSERT_EQ(events.size(), 4u);
  json first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(first["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(first["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            R"({"city":"Paris"})");
  EXPECT_EQ(json::parse(events[1])["choices"][0]["delta"]["tool_calls"][0]["index"], 1);
  EXPECT_EQ(json::parse(events[2])["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(events[3], "[DONE]");

  // Text with stream_options.include_usage: usage arrives on a last chunk with no choices.
  request.erase("tools");
  request["stream_options"] = {{"include_usage", true}};
  StreamingResponse text_stream(gateway.port(), "/v1/chat/completions", sdkHeaders(upstream),
                                request.dump());
  ASSERT_EQ(text_stream.status(), 200);
  events = sseData(text_stream.readAll());
  ASSERT_EQ(events.size(), 6u);
  std::string content;
  for (std::size_t i = 0; i < 3; ++i) {
    content += json::parse(events[i])["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(content, "Hello, world!");
  EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(events[4])["usage"]["total_tokens"], 8);
  EXPECT_EQ(events[5], "[DONE]");
}

TEST(GoogleIntegration, MidStreamErrorReachesClient) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validateChat(r, "streamGenerateContent")) return *error;
    return FakeResponse::sse(pieces(readFixture("stream_error.sse"), 5));
  });
  TestGateway gateway;
  json request = json::parse(kChatBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", sdkHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  auto events = sseData(stream.readAll());
  ASSERT_EQ(events.size(), 2u);
  json error = json::parse(events[1]);
  EXPECT_EQ(error["error"]["type"], "UNAVAILABLE");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("overloaded"), std::string::npos);
}

TEST(GoogleIntegration, UpstreamErrorIsNormalised) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validateAuth(r)) return *error;
    return FakeResponse::json(429, readFixture("error_429.json"));
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", sdkHeaders(upstream), kChatBody);
  EXPECT_EQ(response.status, 429);
  json body = json::parse(response.body);
  EXPECT_EQ(body["error"]["message"],
            "google error: Resource has been exhausted (e.g. check quota).");
  EXPECT_EQ(body["error"]["type"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(body["error"]["code"], "429");
  EXPECT_EQ(body["provider"], "google");

  // A wrong key gets Google's own 400, normalised, and the key is not echoed anywhere.
  Headers wrong = sdkHeaders(upstream);
  wrong.back().second = "Bearer wrong-key";
  response = postJson(gateway.port(), "/v1/chat/completions", wrong, kChatBody);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body.find("wrong-key"), std::string::npos);
  EXPECT_EQ(json::parse(response.body)["error"]["type"], "INVALID_ARGUMENT");
}

TEST(GoogleIntegration, EmbeddingsSingleAndBatch) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto error = validateAuth(r)) return *error;
    json body = json::parse(r.body, nullptr, false);
    if (r.path() == "/v1beta/models/text-embedding-004:embedContent") {
      if (!body["content"]["parts"].is_array()) {
        return googleError(400, "INVALID_ARGUMENT", "content is required");
      }
      return FakeResponse::json(200, readFixture("embed_single.json"));
    }
    if (r.path() == "/v1beta/models/text-embedding-004:batchEmbedContents") {
      for (const auto& request : body["requests"]) {
        if (request.value("model", "") != "models/text-embedding-004") {
          return googleError(400, "INVALID_ARGUMENT", "model mismatch in batch request");
        }
      }
      return FakeResponse::json(200, readFixture("embed_batch.json"));
    }
    return googleError(404, "NOT_FOUND", "not found: " + r.path());
  });
  TestGateway gateway;
  auto single = postJson(gateway.port(), "/v1/embeddings", sdkHeaders(upstream),
                         R"({"model":"text-embedding-004","input":"hello"})");
  ASSERT_EQ(single.status, 200) << single.body;
  json body = json::parse(single.body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["data"][0]["embedding"], json({0.5, -1.25, 2.0}));

  auto batch = postJson(gateway.port(), "/v1/embeddings", sdkHeaders(upstream),
                        R"({"model":"text-embedding-004","input":["a","b"]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  body = json::parse(batch.body);
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["index"], 1);
  EXPECT_EQ(body["data"][1]["embedding"], json({0.3, 0.4}));
  for (const auto& request : upstream.requests()) {
    EXPECT_EQ(request.header("x-goog-api-key"), kKey);
    EXPECT_EQ(request.target.find(kKey), std::string::npos);
  }
}

}  // namespace
}  // namespace portico::testing
