// Bedrock through the real gateway against a fake Bedrock runtime that checks what AWS checks:
// the SigV4 signature (recomputed here from the raw received request with OpenSSL, independent
// of the gateway's signer), the model path, x-amz-date, the session token, and the Converse
// body; and answers in Bedrock's wire formats (JSON, binary event-stream, AWS errors).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portico/aws_eventstream_parser.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const std::string kAccessKey = "AKIDINTEGRATION";
const std::string kSecret = "integration/secret+KEY";
const std::string kToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";
const std::string kModel = "anthropic.claude-3-haiku-20240307-v1:0";
const std::string kModelPath = "/model/anthropic.claude-3-haiku-20240307-v1%3A0";

// ---- an independent SigV4 verifier --------------------------------------------------------

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xF]);
  }
  return out;
}

std::string sha256(const std::string& data) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return hex(out, len);
}

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// AWS's canonical URI for non-S3 services: every byte of the path as sent, except unreserved
// characters and '/', is percent-encoded again ("%3A" -> "%253A").
std::string canonicalUri(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string between(const std::string& s, const std::string& from, const std::string& to) {
  auto a = s.find(from);
  if (a == std::string::npos) return "";
  a += from.size();
  auto b = to.empty() ? s.size() : s.find(to, a);
  return b == std::string::npos ? "" : s.substr(a, b - a);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    auto next = s.find(sep, pos);
    out.push_back(s.substr(pos, next - pos));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

// Returns "" when the request carries a valid signature by `secret`, else what is wrong.
std::string verifySigV4(const RecordedRequest& request,
                        const std::string& secret,
                        const std::string& region) {
  const std::string auth = request.header("authorization");
  if (!auth.starts_with("AWS4-HMAC-SHA256 ")) return "not SigV4: " + auth;
  const std::string credential = between(auth, "Credential=", ", ");
  const std::string signed_headers = between(auth, "SignedHeaders=", ", ");
  const std::string signature = between(auth, "Signature=", "");
  const auto scope = split(credential, '/');
  if (scope.size() != 5 || scope[0] != kAccessKey || scope[2] != region || scope[3] != "bedrock" ||
      scope[4] != "aws4_request") {
    return "bad credential scope: " + credential;
  }
  const std::string amz_date = request.header("x-amz-date");
  if (amz_date.size() != 16 || amz_date.substr(0, 8) != scope[1]) return "bad x-amz-date";
  const auto names = split(signed_headers, ';');
  for (const char* required : {"content-type", "host", "x-amz-date"}) {
    if (std::find(names.begin(), names.end(), required) == names.end()) {
      return std::string("unsigned ") + required;
    }
  }
  if (request.hasHeader("x-amz-security-token") &&
      std::find(names.begin(), names.end(), "x-amz-security-token") == names.end()) {
    return "unsigned x-amz-security-token";
  }
  std::string canonical =
      request.method + "\n" + canonicalUri(request.path()) + "\n" + request.query() + "\n";
  for (const auto& name : names) canonical += name + ":" + request.header(name) + "\n";
  canonical += "\n" + signed_headers + "\n" + sha256(request.body);
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope[1] + "/" + region +
                              "/bedrock/aws4_request\n" + sha256(canonical);
  std::string key = hmac("AWS4" + secret, scope[1]);
  key = hmac(key, region);
  key = hmac(key, "bedrock");
  key = hmac(key, "aws4_request");
  const std::string expected =
      hex(reinterpret_cast<const unsigned char*>(hmac(key, to_sign).data()), 32);
  return expected == signature ? "" : "signature mismatch for canonical request:\n" + canonical;
}

// ---- the fake Bedrock runtime -------------------------------------------------------------

FakeResponse awsError(int status, const std::string& type, const std::string& message) {
  FakeResponse r = FakeResponse::json(status, json{{"message", message}}.dump());
  r.headers.emplace_back("x-amzn-errortype",
                         type + ":http://internal.amazon.com/coral/com.amazon.bedrock/");
  return r;
}

// Checks what Bedrock checks before answering; nullopt when the request is acceptable.
std::optional<FakeResponse> rejectUnlessValid(const RecordedRequest& request,
                                              const std::string& expected_path,
                                              const std::string& region,
                                              bool expect_token) {
  if (request.method != "POST" || request.path() != expected_path) {
    return awsError(404, "UnknownOperationException", "no route for " + request.path());
  }
  if (auto why = verifySigV4(request, kSecret, region); !why.empty()) {
    return awsError(403, "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you "
                    "provided. (" +
                        why + ")");
  }
  if (expect_token != request.hasHeader("x-amz-security-token") ||
      (expect_token && request.header("x-amz-security-token") != kToken)) {
    return awsError(403, "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
  }
  if (request.header("content-type") != "application/json") {
    return awsError(400, "ValidationException", "bad content type");
  }
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || body.contains("model") || body.contains("stream")) {
    return awsError(400, "ValidationException", "Malformed input request: extraneous key");
  }
  return std::nullopt;
}

std::string eventFrame(const std::string& type, const json& payload) {
  return stream::encodeEventStreamMessage(
      {{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}},
      payload.dump());
}

std::string exceptionFrame(const std::string& type, const std::string& message) {
  return stream::encodeEventStreamMessage({{":exception-type", type},
                                           {":content-type", "application/json"},
                                           {":message-type", "exception"}},
                                          json{{"message", message}}.dump());
}

// Splits bytes into awkward pieces so frames straddle writes.
std::vector<std::string> pieces(const std::string& text, std::size_t size) {
  return splitIntoPieces(text, size);
}

FakeResponse eventStream(const std::string& bytes) {
  return FakeResponse::sse(pieces(bytes, 13), "application/vnd.amazon.eventstream");
}

Headers bedrockHeaders(const FakeUpstream& upstream, bool with_token = true) {
  Headers h = {{"x-portkey-provider", "bedrock"},
               {"x-portkey-aws-access-key-id", kAccessKey},
               {"x-portkey-aws-secret-access-key", kSecret},
               {"x-portkey-aws-region", "eu-west-3"},
               {"x-portkey-custom-host", upstream.baseUrl()},
               {"content-type", "application/json"}};
  if (with_token) h.emplace_back("x-portkey-aws-session-token", kToken);
  return h;
}

const std::string kChatBody = json{{"model", kModel},
                                   {"max_tokens", 100},
                                   {"messages",
                                    {{{"role", "system"}, {"content", "Be brief."}},
                                     {{"role", "user"}, {"content", "Hi"}},
                                     {{"role", "user"}, {"content", "Weather in Paris?"}}}}}
                                  .dump();

std::string streamBody() {
  json body = json::parse(kChatBody);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

TEST(BedrockIntegration, NonStreamChatIsSignedTranslatedAndMapped) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (auto reject = rejectUnlessValid(request, kModelPath + "/converse", "eu-west-3", true)) {
      return *reject;
    }
    json body = json::parse(request.body);
    // Consecutive user messages merged, system lifted out, maxTokens mapped.
    if (body["messages"].size() != 1 || body["messages"][0]["content"].size() != 2 ||
        body["system"] != json::parse(R"([{"text":"Be brief."}])") ||
        body["inferenceConfig"]["maxTokens"] != 100) {
      return awsError(400, "ValidationException", "unexpected body " + request.body);
    }
    return FakeResponse::json(200, R"({"output":{"message":{"role":"assistant","content":[
        {"text":"Sunny."}]}},"stopReason":"end_turn",
        "usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15},"metrics":{"latencyMs":9}})");
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", bedrockHeaders(upstream), kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("x-portkey-provider"), "bedrock");
  json out = json::parse(response.body);
  EXPECT_EQ(out["object"], "chat.completion");
  EXPECT_EQ(out["model"], kModel);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Sunny.");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(out["usage"]["total_tokens"], 15);
  ASSERT_EQ(upstream.requestCount(), 1u);
}

TEST(BedrockIntegration, ConfigFormWithoutSessionTokenAlsoVerifies) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (auto reject = rejectUnlessValid(request, kModelPath + "/converse", "us-east-1", false)) {
      return *reject;
    }
    return FakeResponse::json(200, R"({"output":{"message":{"role":"assistant","content":[
        {"text":"ok"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,
        "totalTokens":2}})");
  });
  TestGateway gateway;
  json config = {{"provider", "bedrock"},
                 {"aws_access_key_id", kAccessKey},
                 {"aws_secret_access_key", kSecret},
                 {"custom_host", upstream.baseUrl()}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(json::parse(response.body)["choices"][0]["message"]["content"], "ok");
}

TEST(BedrockIntegration, AWrongSecretFailsTheFakesSignatureCheck) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (auto reject = rejectUnlessValid(request, kModelPath + "/converse", "eu-west-3", true)) {
      return *reject;
    }
    return FakeResponse::json(200, "{}");
  });
  TestGateway gateway;
  Headers headers = bedrockHeaders(upstream);
  for (auto& [name, value] : headers) {
    if (name == "x-portkey-aws-secret-access-key") value = "not-the-secret";
  }
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
  EXPECT_EQ(response.status, 403) << response.body;
  json out = json::parse(response.body);
  EXPECT_TRUE(out["error"]["message"].get<std::string>().starts_with(
      "bedrock error: The request signature we calculated does not match"));
  EXPECT_EQ(response.body.find("not-the-secret"), std::string::npos);
}

TEST(BedrockIntegration, StreamWithTextToolUseAndUsage) {
  const std::string frames =
      eventFrame("messageStart", {{"p", "abc"}, {"role", "assistant"}}) +
      eventFrame("contentBlockDelta",
                 {{"contentBlockIndex", 0}, {"delta", {{"text", "Let me "}}}}) +
      eventFrame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "check."}}}}) +
      eventFrame("contentBlockStop", {{"contentBlockIndex", 0}}) +
      eventFrame("contentBlockStart",
                 {{"contentBlockIndex", 1},
                  {"start", {{"toolUse", {{"toolUseId", "tooluse_1"}, {"name", "weather"}}}}}}) +
      eventFrame("contentBlockDelta",
                 {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "{\"city\":"}}}}}}) +
      eventFrame("contentBlockDelta",
                 {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "\"Paris\"}"}}}}}}) +
      eventFrame("contentBlockStop", {{"contentBlockIndex", 1}}) +
      eventFrame("messageStop", {{"stopReason", "tool_use"}}) +
      eventFrame("metadata",
                 {{"usage", {{"inputTokens", 20}, {"outputTokens", 9}, {"totalTokens", 29}}},
                  {"metrics", {{"latencyMs", 100}}}});
  FakeUpstream upstream([&](const RecordedRequest& request) {
    if (auto reject =
            rejectUnlessValid(request, kModelPath + "/converse-stream", "eu-west-3", true)) {
      return *reject;
    }
    return eventStream(frames);
  });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", bedrockHeaders(upstream),
                           streamBody());
  ASSERT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream");
  const std::string body = stream.readAll();
  auto data = sseData(body);
  ASSERT_FALSE(data.empty()) << body;
  EXPECT_EQ(data.back(), "[DONE]");
  std::string content;
  std::string arguments;
  std::string tool_id;
  std::string finish;
  json usage;
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    json chunk = json::parse(data[i]);
    ASSERT_EQ(chunk["object"], "chat.completion.chunk") << data[i];
    EXPECT_EQ(chunk["model"], kModel);
    if (chunk.contains("usage")) usage = chunk["usage"];
    for (const auto& choice : chunk["choices"]) {
      const json& delta = choice["delta"];
      if (delta.contains("content")) content += delta["content"].get<std::string>();
      if (delta.contains("tool_calls")) {
        const json& call = delta["tool_calls"][0];
        EXPECT_EQ(call["index"], 0);
        if (call.contains("id")) tool_id = call["id"];
        arguments += call["function"]["arguments"].get<std::string>();
      }
      if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
    }
  }
  EXPECT_EQ(content, "Let me check.");
  EXPECT_EQ(tool_id, "tooluse_1");
  EXPECT_EQ(arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(usage["prompt_tokens"], 20);
  EXPECT_EQ(usage["completion_tokens"], 9);
  EXPECT_EQ(usage["total_tokens"], 29);
}

TEST(BedrockIntegration, ExceptionFrameMidStreamReachesTheClient) {
  const std::string frames =
      eventFrame("messageStart", {{"role", "assistant"}}) +
      eventFrame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "Par"}}}}) +
      exceptionFrame("modelStreamErrorException", "The model stream broke (code 424).");
  FakeUpstream upstream([&](const RecordedRequest& request) {
    if (auto reject =
            rejectUnlessValid(request, kModelPath + "/converse-stream", "eu-west-3", true)) {
      return *reject;
    }
    return eventStream(frames);
  });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", bedrockHeaders(upstream),
                           streamBody());
  ASSERT_EQ(stream.status(), 200);
  const std::string body = stream.readAll();
  auto data = sseData(body);
  ASSERT_EQ(data.size(), 3u) << body;
  EXPECT_EQ(json::parse(data[1])["choices"][0]["delta"]["content"], "Par");
  json error = json::parse(data[2]);
  EXPECT_EQ(error["error"]["message"], "bedrock error: The model stream broke (code 424).");
  EXPECT_EQ(error["error"]["type"], "modelStreamErrorException");
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
}

TEST(BedrockIntegration, ThrottlingExceptionKeeps429ForPlainAndStreamRequests) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    const bool stream = request.path().ends_with("/converse-stream");
    if (auto reject = rejectUnlessValid(
            request, kModelPath + (stream ? "/converse-stream" : "/converse"), "eu-west-3", true)) {
      return *reject;
    }
    return awsError(429, "ThrottlingException",
                    "Too many requests, please wait before trying again.");
  });
  TestGateway gateway;
  for (const std::string& body : {kChatBody, streamBody()}) {
    auto response =
        postJson(gateway.port(), "/v1/chat/completions", bedrockHeaders(upstream), body);
    EXPECT_EQ(response.status, 429) << response.body;
    json out = json::parse(response.body);
    EXPECT_EQ(out["error"]["message"],
              "bedrock error: Too many requests, please wait before trying again.");
    EXPECT_EQ(out["provider"], "bedrock");
    EXPECT_EQ(out["error"]["type"], "ThrottlingException");  // from x-amzn-errortype
  }
}

TEST(BedrockIntegration, TitanEmbeddingsAreSignedAndMapped) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (auto reject = rejectUnlessValid(request, "/model/amazon.titan-embed-text-v2%3A0/invoke",
                                        "eu-west-3", true)) {
      return *reject;
    }
    json body = json::parse(request.body);
    if (body != json{{"inputText", "hello world"}}) {
      return awsError(400, "ValidationException", "unexpected body " + request.body);
    }
    return FakeResponse::json(200, R"({"embedding":[0.25,0.5],"inputTextTokenCount":3})");
  });
  TestGateway gateway;
  auto response = postJson(
      gateway.port(), "/v1/embeddings", bedrockHeaders(upstream),
      R"({"model":"amazon.titan-embed-text-v2:0","input":"hello world","encoding_format":"float"})");
  ASSERT_EQ(response.status, 200) << response.body;
  json out = json::parse(response.body);
  EXPECT_EQ(out["object"], "list");
  EXPECT_EQ(out["data"][0]["embedding"], json::parse("[0.25,0.5]"));
  EXPECT_EQ(out["usage"]["prompt_tokens"], 3);
}

TEST(BedrockIntegration, MissingModelNeverReachesTheUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", bedrockHeaders(upstream),
                           R"({"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(json::parse(response.body)["message"], "Model is required");
  EXPECT_EQ(upstream.requestCount(), 0u);
}

// Titan takes one input per InvokeModel call: several inputs fan out, one signed call each, and
// come back as one OpenAI list in input order, whatever order the answers arrive in.
TEST(BedrockIntegration, TitanEmbeddingsWithSeveralInputsFanOutAndJoinInOrder) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    if (auto reject = rejectUnlessValid(request, "/model/amazon.titan-embed-text-v2%3A0/invoke",
                                        "eu-west-3", true)) {
      return *reject;
    }
    json body = json::parse(request.body);
    if (!body["inputText"].is_string() || body.size() != 1) {
      return awsError(400, "ValidationException", "unexpected body " + request.body);
    }
    const std::string text = body["inputText"];
    if (text == "bad") {
      return awsError(400, "ValidationException", "Malformed input request");
    }
    const double value = static_cast<double>(text.size());
    FakeResponse r = FakeResponse::json(
        200, json{{"embedding", {value, 0.5}}, {"inputTextTokenCount", 2}}.dump());
    // The first input is answered last.
    r.delay_before_headers = std::chrono::milliseconds(text == "a" ? 100 : 0);
    return r;
  });
  TestGateway gateway;
  json inputs = json::array();
  for (int i = 1; i <= 11; ++i) {
    inputs.push_back(std::string(static_cast<std::size_t>(i), 'a'));
  }
  auto response =
      postJson(gateway.port(), "/v1/embeddings", bedrockHeaders(upstream),
               json{{"model", "amazon.titan-embed-text-v2:0"}, {"input", inputs}}.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  json out = json::parse(response.body);
  ASSERT_EQ(out["data"].size(), 11u);
  for (std::size_t i = 0; i < 11; ++i) {
    EXPECT_EQ(out["data"][i]["index"], i);
    EXPECT_EQ(out["data"][i]["embedding"][0], static_cast<double>(i + 1));
  }
  EXPECT_EQ(out["usage"]["prompt_tokens"], 22);
  EXPECT_EQ(upstream.requestCount(), 11u);

  // One failing part fails the whole answer with its status.
  auto failed = postJson(gateway.port(), "/v1/embeddings", bedrockHeaders(upstream),
                         R"({"model":"amazon.titan-embed-text-v2:0","input":["ok","bad","ok"]})");
  EXPECT_EQ(failed.status, 400) << failed.body;
  EXPECT_NE(failed.body.find("Malformed input request"), std::string::npos) << failed.body;
}

}  // namespace
}  // namespace portico::testing
