// cohere through the real gateway, against a fake Cohere v2 API that checks what Cohere checks
// (path, Bearer key, v2 field names) and answers in Cohere's wire format.
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

std::string cohereFixture(const std::string& name) {
  return portico::testing::readTestData("cohere", name);
}

FakeResponse cohereError(int status, const std::string& message) {
  return FakeResponse::json(status, json{{"id", "err-1"}, {"message", message}}.dump());
}

// Splits an SSE fixture into pieces of 23 bytes, as a network might.
std::vector<std::string> pieces(const std::string& text) { return splitIntoPieces(text, 23); }

FakeResponse fakeCohere(const RecordedRequest& request) {
  if (request.header("authorization") != "Bearer co-key") {
    return cohereError(401, "invalid api token");
  }
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("model")) {
    return cohereError(400, "invalid request: model must be set");
  }
  if (body["model"] == "command-x") {
    return FakeResponse::json(404, cohereFixture("error_400.json"));
  }
  if (request.path() == "/v2/chat") {
    // v2 knows no OpenAI names: these would be rejected as unknown fields.
    for (const char* openai_only : {"top_p", "stop", "max_completion_tokens", "n", "user"}) {
      if (body.contains(openai_only)) {
        return cohereError(400, std::string("invalid request: unknown field ") + openai_only);
      }
    }
    if (!body["messages"].is_array() || body["messages"].empty()) {
      return cohereError(400, "invalid request: messages must not be empty");
    }
    if (body.value("stream", false)) {
      bool tools = body.contains("tools");
      return FakeResponse::sse(
          pieces(cohereFixture(tools ? "stream_tool_calls.sse" : "stream_text.sse")));
    }
    return FakeResponse::json(200, cohereFixture("chat_response_text.json"));
  }
  if (request.path() == "/v2/embed") {
    if (!body["texts"].is_array() || !body.contains("input_type") ||
        body["embedding_types"] != json::array({"float"})) {
      return cohereError(400, "invalid request: texts, input_type and embedding_types needed");
    }
    return FakeResponse::json(200, cohereFixture("embed_response.json"));
  }
  return cohereError(404, "not found");
}

class CohereIntegration : public ::testing::Test {
 protected:
  FakeUpstream upstream{fakeCohere};
  TestGateway gateway;

  Headers headers() const {
    return {{"x-portkey-provider", "cohere"},
            {"authorization", "Bearer co-key"},
            {"x-portkey-custom-host", upstream.baseUrl()}};
  }
};

TEST_F(CohereIntegration, ChatNonStream) {
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers(),
                           R"({"model":"command-a-03-2025","top_p":0.5,"stop":["x"],)"
                           R"("messages":[{"role":"system","content":"Be brief."},)"
                           R"({"role":"user","content":"Hello!"}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["model"], "command-a-03-2025");
  EXPECT_EQ(body["provider"], "cohere");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "Hello! How can I help?");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 69);
  json sent = json::parse(upstream.lastRequest()->body);
  EXPECT_EQ(sent["p"], 0.5);
  EXPECT_EQ(sent["stop_sequences"], json::array({"x"}));
  EXPECT_EQ(sent["messages"][0], json({{"role", "system"}, {"content", "Be brief."}}));
}

TEST_F(CohereIntegration, StreamWithToolCalls) {
  std::string request =
      R"({"model":"command-a-03-2025","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"Weather in Madrid and Brasilia?"}],)"
      R"("tools":[{"type":"function","function":{"name":"get_weather",)"
      R"("parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]})";
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headers(), request);
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type").rfind("text/event-stream", 0), 0u);
  auto data = sseData(stream.readAll());
  ASSERT_GE(data.size(), 4u);
  EXPECT_EQ(data.back(), "[DONE]");
  std::string arguments[2];
  std::string finish;
  json usage;
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    json chunk = json::parse(data[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["provider"], "cohere");
    if (chunk.contains("usage")) {
      usage = chunk["usage"];
    }
    if (chunk["choices"].empty()) {
      continue;
    }
    const json& choice = chunk["choices"][0];
    if (choice["finish_reason"].is_string()) {
      finish = choice["finish_reason"];
    }
    for (const auto& call : choice["delta"].value("tool_calls", json::array())) {
      arguments[call["index"].get<int>()] += call["function"].value("arguments", "");
    }
  }
  EXPECT_EQ(arguments[0], R"({"location":"Madrid"})");
  EXPECT_EQ(arguments[1], R"({"location":"Brasilia"})");
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(usage["total_tokens"], 996);
}

TEST_F(CohereIntegration, Embeddings) {
  auto response = postJson(gateway.port(), "/v1/embeddings", headers(),
                           R"({"model":"embed-english-v3.0","input":["hello","goodbye"]})");
  ASSERT_EQ(response.status, 200) << response.body;
  json body = json::parse(response.body);
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][0]["embedding"].size(), 3u);
  EXPECT_EQ(body["usage"]["prompt_tokens"], 2);
  EXPECT_EQ(upstream.lastRequest()->path(), "/v2/embed");
}

TEST_F(CohereIntegration, ErrorIsNormalisedWithStatus) {
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers(),
                           R"({"model":"command-x","messages":[{"role":"user","content":"x"}]})");
  ASSERT_EQ(response.status, 404);
  json body = json::parse(response.body);
  EXPECT_EQ(body["provider"], "cohere");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("cohere error: invalid request"),
            std::string::npos);

  Headers bad = headers();
  bad[1].second = "Bearer wrong";
  response =
      postJson(gateway.port(), "/v1/chat/completions", bad,
               R"({"model":"command-a-03-2025","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(json::parse(response.body)["error"]["message"], "cohere error: invalid api token");
}

TEST_F(CohereIntegration, CompletionsAreNotSupported) {
  auto response = postJson(gateway.port(), "/v1/completions", headers(),
                           R"({"model":"command-a-03-2025","prompt":"x"})");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(upstream.requestCount(), 0u);
}

}  // namespace
}  // namespace portico::testing
