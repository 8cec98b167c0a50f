// Anthropic's Messages API on Claude through Bedrock's InvokeModel: the request (path, body,
// betas, signature), the answer and its usage passed on, AWS errors in Anthropic's shape, and
// invoke-with-response-stream's event-stream (real frames, every split) -> Anthropic's SSE.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bedrock/bedrock_adapter.hpp"
#include "portico/aws_eventstream_parser.hpp"
#include "portico/encoding.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

constexpr const char* kModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";
constexpr const char* kPath = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0";

Target awsTarget(json extra = json::object()) {
  Target target;
  target.provider = "bedrock";
  target.options = {{"aws_access_key_id", "AKIDEXAMPLE"},
                    {"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                    {"aws_region", "us-west-2"}};
  for (auto& [key, value] : extra.items()) target.options[key] = value;
  return target;
}

struct Request {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;
  explicit Request(json b, HeaderList h = {}) : body(std::move(b)), headers(std::move(h)) {
    raw = body.dump();
    request.endpoint = Endpoint::kMessages;
    request.path = "/messages";
    request.body = &body;
    request.raw_body = raw;
    request.headers = &headers;
    request.stream = body.value("stream", false);
  }
};

std::string header(const UpstreamRequest& r, std::string_view name) {
  return std::string(findHeader(r.headers, name).value_or("<missing>"));
}

// A Messages body with what must reach Claude untouched: cache_control, a thinking block with
// its signature, tools.
json messagesBody() {
  return json::parse(R"({
    "model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "max_tokens": 1024,
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "thinking": {"type": "enabled", "budget_tokens": 2000},
    "messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Use the tool.", "signature": "EqoBCkgIARABGAIiQL"},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"}]}],
    "tools": [{"name": "weather", "input_schema": {"type": "object"}}]
  })");
}

TEST(BedrockMessages, NativeForClaudeModelsOnly) {
  BedrockAdapter adapter;
  EXPECT_TRUE(adapter.supports(Endpoint::kMessages));
  EXPECT_FALSE(adapter.supports(Endpoint::kResponses));
  EXPECT_TRUE(adapter.servesNatively(Endpoint::kMessages, kModel));
  EXPECT_TRUE(
      adapter.servesNatively(Endpoint::kMessages, "us.anthropic.claude-3-7-sonnet-20250219-v1:0"));
  EXPECT_TRUE(adapter.servesNatively(
      Endpoint::kMessages,
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"));
  EXPECT_FALSE(adapter.servesNatively(Endpoint::kMessages, "meta.llama3-70b-instruct-v1:0"));
  EXPECT_FALSE(adapter.servesNatively(Endpoint::kMessages, "amazon.nova-pro-v1:0"));
  EXPECT_FALSE(adapter.servesNatively(
      Endpoint::kMessages,
      "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"));
  EXPECT_TRUE(adapter.servesNatively(Endpoint::kChatCompletions, "meta.llama3-70b-instruct-v1:0"));
  EXPECT_FALSE(adapter.servesNatively(Endpoint::kResponses, kModel));
}

TEST(BedrockMessages, InvokeRequestCarriesTheBodyAsWrittenAndIsSigned) {
  BedrockAdapter adapter;
  Request r(messagesBody(), {{"anthropic-beta", "interleaved-thinking-2025-05-14, context-1m"}});
  auto built = adapter.buildRequest(r.request, awsTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->method, "POST");
  EXPECT_EQ(built->host, "bedrock-runtime.us-west-2.amazonaws.com");
  EXPECT_EQ(built->target, std::string(kPath) + "/invoke");
  EXPECT_EQ(header(*built, "content-type"), "application/json");
  EXPECT_TRUE(
      header(*built, "authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
      << header(*built, "authorization");
  EXPECT_NE(header(*built, "authorization").find("/us-west-2/bedrock/aws4_request"),
            std::string::npos);
  EXPECT_NE(header(*built, "x-amz-date"), "<missing>");

  json sent = json::parse(built->body);
  EXPECT_FALSE(sent.contains("model"));
  EXPECT_FALSE(sent.contains("stream"));
  EXPECT_EQ(sent["anthropic_version"], "bedrock-2023-05-31");
  EXPECT_EQ(sent["anthropic_beta"], json({"interleaved-thinking-2025-05-14", "context-1m"}));
  json expected = messagesBody();
  expected.erase("model");
  sent.erase("anthropic_version");
  sent.erase("anthropic_beta");
  EXPECT_EQ(sent, expected);  // thinking signatures, cache_control and tools untouched
}

TEST(BedrockMessages, StreamGoesToInvokeWithResponseStream) {
  BedrockAdapter adapter;
  json body = messagesBody();
  body["stream"] = true;
  Request r(body);
  auto built = adapter.buildRequest(r.request, awsTarget());
  ASSERT_TRUE(built.has_value()) << built.error().body.dump();
  EXPECT_EQ(built->target, std::string(kPath) + "/invoke-with-response-stream");
  json sent = json::parse(built->body);
  EXPECT_FALSE(sent.contains("stream"));
  EXPECT_FALSE(sent.contains("anthropic_beta"));  // none asked for
}

TEST(BedrockMessages, TheTargetsBetaSettingWinsOverTheHeader) {
  BedrockAdapter adapter;
  Request r(messagesBody(), {{"anthropic-beta", "from-header"}});
  auto built = adapter.buildRequest(r.request, awsTarget({{"anthropic_beta", "a,b"}}));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(json::parse(built->body)["anthropic_beta"], json({"a", "b"}));
  built = adapter.buildRequest(r.request, awsTarget({{"anthropic_beta", {"x", "y"}}}));
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(json::parse(built->body)["anthropic_beta"], json({"x", "y"}));
}

TEST(BedrockMessages, ApiKeyAuthAndNonClaudeModels) {
  BedrockAdapter adapter;
  Request r(messagesBody());
  Target target = awsTarget({{"aws_auth_type", "apiKey"}});
  target.api_key = "bedrock-api-key";
  auto built = adapter.buildRequest(r.request, target);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(header(*built, "authorization"), "Bearer bedrock-api-key");

  json llama = messagesBody();
  llama["model"] = "meta.llama3-70b-instruct-v1:0";
  Request other(llama);
  auto refused = adapter.buildRequest(other.request, awsTarget());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().status, 400);
}

TEST(BedrockMessages, AnswerPassesThroughWithItsUsage) {
  BedrockAdapter adapter;
  Request r(messagesBody());
  const std::string answer =
      R"({"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620",)"
      R"("content":[{"type":"thinking","thinking":"ok","signature":"sig=="},{"type":"text","text":"Sunny."}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,)"
      R"("cache_creation_input_tokens":2,"cache_read_input_tokens":5,"output_tokens":4}})";
  auto mapped = adapter.mapResponse(r.request, awsTarget(),
                                    UpstreamReply{200, "application/json", answer, {}});
  EXPECT_EQ(mapped.status, 200);
  EXPECT_EQ(mapped.content_type, "application/json");
  EXPECT_EQ(mapped.body, answer);
  ASSERT_TRUE(mapped.usage.has_value());
  EXPECT_EQ(mapped.usage->prompt_tokens, 17);
  EXPECT_EQ(mapped.usage->completion_tokens, 4);
  EXPECT_EQ(mapped.usage->cached_tokens, 5);

  auto broken =
      adapter.mapResponse(r.request, awsTarget(), UpstreamReply{200, "text/html", "<html>", {}});
  EXPECT_EQ(broken.status, 502);
  EXPECT_EQ(json::parse(broken.body)["type"], "error");
}

TEST(BedrockMessages, AwsErrorsBecomeAnthropicErrors) {
  BedrockAdapter adapter;
  Request r(messagesBody());
  const std::vector<std::pair<int, std::string>> cases = {
      {400, "invalid_request_error"}, {401, "authentication_error"},
      {403, "permission_error"},      {404, "not_found_error"},
      {429, "rate_limit_error"},      {500, "api_error"},
      {503, "overloaded_error"},      {529, "overloaded_error"},
      {424, "invalid_request_error"}};
  for (const auto& [status, type] : cases) {
    auto mapped = adapter.mapResponse(
        r.request, awsTarget(),
        UpstreamReply{status, "application/json", R"({"message":"Nope."})", {}});
    EXPECT_EQ(mapped.status, status);
    EXPECT_EQ(json::parse(mapped.body),
              json({{"type", "error"}, {"error", {{"type", type}, {"message", "Nope."}}}}))
        << status;
    EXPECT_FALSE(mapped.usage.has_value());
  }
  auto capital =
      adapter.mapResponse(r.request, awsTarget(),
                          UpstreamReply{403, "application/json", R"({"Message":"Denied"})", {}});
  EXPECT_EQ(json::parse(capital.body)["error"]["message"], "Denied");
  auto text = adapter.mapResponse(r.request, awsTarget(), UpstreamReply{502, "text/plain", "", {}});
  EXPECT_EQ(json::parse(text.body)["error"]["type"], "api_error");
}

// ---- the stream --------------------------------------------------------------------------

std::string chunkFrame(const std::string& event_json) {
  return stream::encodeEventStreamMessage(
      {{":event-type", "chunk"}, {":content-type", "application/json"}, {":message-type", "event"}},
      json{{"bytes", base64Encode(event_json)}}.dump());
}

std::string exceptionFrame(const std::string& type, const std::string& message) {
  return stream::encodeEventStreamMessage({{":exception-type", type},
                                           {":content-type", "application/json"},
                                           {":message-type", "exception"}},
                                          json{{"message", message}}.dump());
}

// Anthropic's events for a text block and a tool_use block, as Claude on Bedrock sends them.
std::vector<json> streamEvents() {
  return {
      json::parse(R"({"type":"message_start","message":{"id":"msg_bdrk_1","type":"message",
          "role":"assistant","model":"claude-3-5-sonnet-20240620","content":[],"stop_reason":null,
          "stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":3,
          "output_tokens":1}}})"),
      json::parse(R"({"type":"content_block_start","index":0,"content_block":{"type":"text",
          "text":""}})"),
      json::parse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta",
          "text":"Let me check \u00e9t\u00e9."}})"),
      json::parse(R"({"type":"content_block_stop","index":0})"),
      json::parse(R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",
          "id":"toolu_01","name":"weather","input":{}}})"),
      json::parse(R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",
          "partial_json":"{\"city\":"}})"),
      json::parse(R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",
          "partial_json":"\"Paris\"}"}})"),
      json::parse(R"({"type":"content_block_stop","index":1})"),
      json::parse(R"({"type":"message_delta","delta":{"stop_reason":"tool_use",
          "stop_sequence":null},"usage":{"output_tokens":42}})"),
  };
}

const json kStop = json::parse(R"({"type":"message_stop","amazon-bedrock-invocationMetrics":
    {"inputTokenCount":25,"outputTokenCount":42,"invocationLatency":812,"firstByteLatency":301}})");

std::string streamBytes() {
  std::string bytes;
  for (const auto& event : streamEvents()) bytes += chunkFrame(event.dump());
  return bytes + chunkFrame(kStop.dump());
}

std::string expectedSse() {
  std::string sse;
  for (const auto& event : streamEvents()) {
    sse += "event: " + event["type"].get<std::string>() + "\ndata: " + event.dump() + "\n\n";
  }
  return sse + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
}

std::string run(const std::vector<std::string_view>& pieces, bool complete = true) {
  auto t = bedrock::makeMessagesStream();
  std::string out;
  for (auto piece : pieces) t->feed(piece, out);
  t->finish(complete, out);
  return out;
}

TEST(BedrockMessagesStream, ChunksBecomeAnthropicSseWithoutBedrocksMetrics) {
  const std::string bytes = streamBytes();
  EXPECT_EQ(run({bytes}), expectedSse());

  auto t = bedrock::makeMessagesStream();
  std::string out;
  t->feed(bytes, out);
  t->finish(true, out);
  ASSERT_TRUE(t->usage().has_value());
  EXPECT_EQ(t->usage()->prompt_tokens, 28);  // input + cache reads
  EXPECT_EQ(t->usage()->completion_tokens, 42);
  EXPECT_EQ(t->usage()->cached_tokens, 3);
}

TEST(BedrockMessagesStream, EverySplitGivesTheSameSse) {
  const std::string bytes = streamBytes();
  const std::string expected = expectedSse();
  std::string_view all(bytes);
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    ASSERT_EQ(run({all.substr(0, cut), all.substr(cut)}), expected) << "split at " << cut;
  }
  std::vector<std::string_view> singles;
  for (std::size_t i = 0; i < bytes.size(); ++i) singles.push_back(all.substr(i, 1));
  EXPECT_EQ(run(singles), expected);
}

TEST(BedrockMessagesStream, ExceptionFrameEndsWithAnAnthropicErrorEvent) {
  const auto events = streamEvents();
  const std::string bytes = chunkFrame(events[0].dump()) + chunkFrame(events[1].dump()) +
                            exceptionFrame("throttlingException", "Too many requests") +
                            chunkFrame(events[2].dump());
  const std::string out = run({bytes});
  const std::string error =
      "event: error\ndata: "
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Too many requests"}})"
      "\n\n";
  ASSERT_TRUE(out.ends_with(error)) << out;
  EXPECT_EQ(out.find("text_delta"), std::string::npos);  // nothing after the exception
  EXPECT_EQ(out.find("event: error"), out.rfind("event: error"));

  const std::string stream_error =
      run({chunkFrame(events[0].dump()) + exceptionFrame("modelStreamErrorException", "boom")});
  EXPECT_NE(stream_error.find(R"("type":"api_error","message":"boom")"), std::string::npos);
}

TEST(BedrockMessagesStream, BrokenOrUnfinishedStreamsEndWithAnError) {
  const auto events = streamEvents();
  const std::string start = chunkFrame(events[0].dump());
  std::string broken = run({start}, false);
  EXPECT_TRUE(broken.starts_with("event: message_start\n"));
  EXPECT_NE(
      broken.find("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""),
      std::string::npos);

  std::string unfinished = run({start});
  EXPECT_NE(unfinished.find("ended before message_stop"), std::string::npos);

  std::string half = run({start + chunkFrame(events[1].dump()).substr(0, 10)});
  EXPECT_NE(half.find("inside an event-stream frame"), std::string::npos);

  std::string corrupt = start;
  corrupt[corrupt.size() - 1] ^= 0x5a;  // the message CRC
  EXPECT_NE(run({corrupt}).find("invalid event stream"), std::string::npos);

  std::string not_base64 = stream::encodeEventStreamMessage(
      {{":event-type", "chunk"}, {":message-type", "event"}}, R"({"bytes":"%%%"})");
  EXPECT_NE(run({not_base64}).find("malformed chunk"), std::string::npos);
}

TEST(BedrockMessagesStream, AnthropicsOwnErrorEventPassesAndEnds) {
  const std::string error =
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
  const std::string out = run({chunkFrame(streamEvents()[0].dump()) + chunkFrame(error)});
  EXPECT_TRUE(out.ends_with("event: error\ndata: " + error + "\n\n")) << out;
  EXPECT_EQ(out.find("message_stop"), std::string::npos);
}

TEST(BedrockMessagesStream, ForgedEventNamesAreDropped) {
  const std::string out = run({chunkFrame(R"({"type":"x\ndata: {}"})") + chunkFrame(kStop.dump())});
  EXPECT_EQ(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

}  // namespace
}  // namespace portico::providers
