// POST /v1/messages for Claude on bedrock and vertex-ai through the real gateway, against fake
// upstreams that check what Bedrock's InvokeModel and Vertex's rawPredict check (the path, the
// anthropic_version, no model in the body, the signature or token) and answer in their wire
// formats: Anthropic's JSON, Bedrock's event-stream of base64 chunks, Anthropic's SSE, and
// their own error bodies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portico/aws_eventstream_parser.hpp"
#include "portico/encoding.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

// ---- Bedrock --------------------------------------------------------------------------------

const std::string kAccessKey = "AKIDNATIVEMESSAGES";
const std::string kBedrockModel = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
const std::string kBedrockPath = "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0";

const std::string kMessagesBody = R"({"model":"us.anthropic.claude-3-7-sonnet-20250219-v1:0",
  "max_tokens":512,
  "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
  "messages":[{"role":"user","content":"Weather in Paris?"}],
  "tools":[{"name":"weather","input_schema":{"type":"object"}}]})";

const std::string kAnswer =
    R"({"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219",)"
    R"("content":[{"type":"thinking","thinking":"Check.","signature":"ErUBCkYIAxgCIkB"},)"
    R"({"type":"text","text":"Sunny."}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":21,"cache_read_input_tokens":7,"output_tokens":5}})";

FakeResponse awsError(int status, const std::string& type, const std::string& message) {
  FakeResponse r = FakeResponse::json(status, json{{"message", message}}.dump());
  r.headers.emplace_back("x-amzn-errortype", type);
  return r;
}

// What InvokeModel checks for Claude before answering; nullopt when acceptable.
std::optional<FakeResponse> rejectBedrock(const RecordedRequest& r, const std::string& action) {
  if (r.method != "POST" || r.path() != kBedrockPath + "/" + action) {
    return awsError(404, "UnknownOperationException", "no route for " + r.path());
  }
  const std::string auth = r.header("authorization");
  if (!auth.starts_with("AWS4-HMAC-SHA256 Credential=" + kAccessKey + "/") ||
      auth.find("/eu-central-1/bedrock/aws4_request") == std::string::npos ||
      auth.find("Signature=") == std::string::npos || r.header("x-amz-date").empty()) {
    return awsError(403, "MissingAuthenticationTokenException", "not signed: " + auth);
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || body.contains("model") || body.contains("stream") ||
      body.value("anthropic_version", "") != "bedrock-2023-05-31") {
    return awsError(400, "ValidationException", "Malformed input request: " + r.body);
  }
  if (body["system"][0]["cache_control"]["type"] != "ephemeral" || !body["tools"].is_array()) {
    return awsError(400, "ValidationException", "the client's fields were lost");
  }
  return std::nullopt;
}

Headers bedrockHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "bedrock"},
          {"x-portkey-aws-access-key-id", kAccessKey},
          {"x-portkey-aws-secret-access-key", "native/secret"},
          {"x-portkey-aws-region", "eu-central-1"},
          {"x-portkey-custom-host", upstream.baseUrl()},
          {"anthropic-version", "2023-06-01"},
          {"anthropic-beta", "token-efficient-tools-2025-02-19,interleaved-thinking-2025-05-14"},
          {"content-type", "application/json"}};
}

std::string chunkFrame(const std::string& event_json) {
  return stream::encodeEventStreamMessage(
      {{":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}},
      json{{"bytes", base64Encode(event_json)}}.dump());
}

const std::vector<std::string> kStreamEvents = {
    R"({"type":"message_start","message":{"id":"msg_bdrk_02","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":1}}})",
    R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
    R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})",
    R"({"type":"content_block_stop","index":0})",
    R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"weather","input":{}}})",
    R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Paris\"}"}})",
    R"({"type":"content_block_stop","index":1})",
    R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":19}})",
};

std::string streamName(const std::string& event) {
  return json::parse(event)["type"].get<std::string>();
}

TEST(NativeMessagesIntegration, BedrockAnswerIsAnthropicsOwn) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto reject = rejectBedrock(r, "invoke")) return *reject;
    json body = json::parse(r.body);
    if (body["anthropic_beta"] !=
        json({"token-efficient-tools-2025-02-19", "interleaved-thinking-2025-05-14"})) {
      return awsError(400, "ValidationException", "betas: " + body["anthropic_beta"].dump());
    }
    return FakeResponse::json(200, kAnswer);
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/messages", bedrockHeaders(upstream), kMessagesBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "bedrock");
  EXPECT_NE(response.header("content-type").find("application/json"), std::string::npos);
  EXPECT_EQ(response.body, kAnswer);  // byte for byte, the thinking signature with it
  ASSERT_EQ(upstream.requestCount(), 1u);
}

TEST(NativeMessagesIntegration, BedrockStreamBecomesAnthropicSse) {
  std::string frames;
  for (const auto& event : kStreamEvents) frames += chunkFrame(event);
  frames += chunkFrame(
      R"({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":30,"outputTokenCount":19,"invocationLatency":900,"firstByteLatency":200}})");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto reject = rejectBedrock(r, "invoke-with-response-stream")) return *reject;
    return FakeResponse::sse(splitIntoPieces(frames, 17), "application/vnd.amazon.eventstream");
  });
  TestGateway gateway;
  json request = json::parse(kMessagesBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/messages", bedrockHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream");
  std::string expected;
  for (const auto& event : kStreamEvents) {
    expected += "event: " + streamName(event) + "\ndata: " + event + "\n\n";
  }
  expected += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  EXPECT_EQ(stream.readAll(), expected);
}

TEST(NativeMessagesIntegration, BedrockStreamExceptionIsAnAnthropicErrorEvent) {
  const std::string frames =
      chunkFrame(kStreamEvents[0]) +
      stream::encodeEventStreamMessage({{":exception-type", "throttlingException"},
                                        {":content-type", "application/json"},
                                        {":message-type", "exception"}},
                                       R"({"message":"Too many tokens, please wait."})");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto reject = rejectBedrock(r, "invoke-with-response-stream")) return *reject;
    return FakeResponse::sse(splitIntoPieces(frames, 9), "application/vnd.amazon.eventstream");
  });
  TestGateway gateway;
  json request = json::parse(kMessagesBody);
  request["stream"] = true;
  StreamingResponse stream(gateway.port(), "/v1/messages", bedrockHeaders(upstream),
                           request.dump());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(
      stream.readAll(),
      "event: message_start\ndata: " + kStreamEvents[0] +
          "\n\nevent: error\ndata: "
          R"({"type":"error","error":{"type":"rate_limit_error","message":"Too many tokens, please wait."}})"
          "\n\n");
}

TEST(NativeMessagesIntegration, BedrockErrorsAreAnthropicShaped) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return awsError(400, "ValidationException", "max_tokens: field required");
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/messages", bedrockHeaders(upstream), kMessagesBody);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"type":"error","error":{"type":"invalid_request_error",
                "message":"max_tokens: field required"}})"));
}

// ---- Vertex AI ------------------------------------------------------------------------------

constexpr const char* kVertexToken = "ya29.native-messages";
constexpr const char* kVertexPath =
    "/v1/projects/proj-9/locations/us-east5/publishers/anthropic/models/"
    "claude-3-5-sonnet-v2@20241022";

FakeResponse vertexError(int status, const std::string& google_status, const std::string& msg) {
  return FakeResponse::json(
      status,
      json{{"error", {{"code", status}, {"message", msg}, {"status", google_status}}}}.dump());
}

std::optional<FakeResponse> rejectVertex(const RecordedRequest& r,
                                         const std::string& method,
                                         bool stream) {
  if (r.header("authorization") != std::string("Bearer ") + kVertexToken) {
    return vertexError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
  }
  if (r.method != "POST" || r.path() != std::string(kVertexPath) + ":" + method) {
    return vertexError(404, "NOT_FOUND", "Publisher Model was not found: " + r.path());
  }
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || body.contains("model") ||
      body.value("anthropic_version", "") != "vertex-2023-10-16" ||
      body.value("stream", false) != stream || !body["messages"].is_array()) {
    return vertexError(400, "INVALID_ARGUMENT", "Invalid JSON payload received: " + r.body);
  }
  if (r.header("anthropic-beta") != "prompt-caching-2024-07-31") {
    return vertexError(400, "INVALID_ARGUMENT", "beta expected");
  }
  return std::nullopt;
}

Headers vertexHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "vertex-ai"},
          {"x-portkey-custom-host", upstream.baseUrl()},
          {"x-portkey-vertex-project-id", "proj-9"},
          {"x-portkey-vertex-region", "us-east5"},
          {"authorization", std::string("Bearer ") + kVertexToken},
          {"anthropic-beta", "prompt-caching-2024-07-31"},
          {"content-type", "application/json"}};
}

std::string vertexBody(bool stream) {
  json body = json::parse(kMessagesBody);
  body["model"] = "claude-3-5-sonnet-v2@20241022";
  if (stream) body["stream"] = true;
  return body.dump();
}

TEST(NativeMessagesIntegration, VertexAnswerIsAnthropicsOwn) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (auto reject = rejectVertex(r, "rawPredict", false)) return *reject;
    return FakeResponse::json(200, kAnswer);
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/messages", vertexHeaders(upstream), vertexBody(false));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "vertex-ai");
  EXPECT_EQ(response.body, kAnswer);
}

TEST(NativeMessagesIntegration, VertexStreamIsRelayedAsAnthropicSse) {
  std::string sse;
  for (const auto& event : kStreamEvents) {
    sse += "event: " + streamName(event) + "\ndata: " + event + "\n\n";
  }
  sse += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  FakeUpstream upstream([&](const RecordedRequest& r) {
    if (auto reject = rejectVertex(r, "streamRawPredict", true)) return *reject;
    return FakeResponse::sse(splitIntoPieces(sse, 23));
  });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/messages", vertexHeaders(upstream),
                           vertexBody(true));
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.readAll(), sse);
}

TEST(NativeMessagesIntegration, VertexErrorsAreAnthropicShaped) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return vertexError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com");
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/messages", vertexHeaders(upstream), vertexBody(false));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"type":"error","error":{"type":"rate_limit_error",
                "message":"Quota exceeded for aiplatform.googleapis.com"}})"));
}

}  // namespace
}  // namespace portico::testing
