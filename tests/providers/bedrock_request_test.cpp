// Bedrock request mapping: URL, SigV4 signature (checked against a signature computed
// independently, outside this code base), Converse body from an OpenAI body, embeddings bodies.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bedrock/bedrock_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

json fixture(const std::string& name) {
  return json::parse(portico::testing::readTestData("bedrock", name));
}

std::chrono::system_clock::time_point fixedNow() {
  using namespace std::chrono;
  return sys_days{year{2024} / May / 1} + hours{12} + minutes{34} + seconds{56};
}

Target awsTarget(json extra = json::object()) {
  Target target;
  target.provider = "bedrock";
  target.options = {{"aws_access_key_id", "AKIDEXAMPLE"},
                    {"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
  for (auto& [key, value] : extra.items()) target.options[key] = value;
  return target;
}

// Owns the pieces a ClientRequest points at.
struct Request {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;
  Request(json b, Endpoint endpoint = Endpoint::kChatCompletions) : body(std::move(b)) {
    raw = body.dump();
    request.endpoint = endpoint;
    request.body = &body;
    request.raw_body = raw;
    request.headers = &headers;
    request.stream = body.value("stream", false);
    request.now = fixedNow();
  }
};

std::string header(const UpstreamRequest& r, std::string_view name) {
  return std::string(findHeader(r.headers, name).value_or("<missing>"));
}

// toConverseBody() as the call uses it: the model's family and the target's typed settings.
Expected<json> converse(const json& body, std::string_view model, const Target& target) {
  auto settings = BedrockSettings::read(target);
  if (!settings) return settings.error();
  return bedrock::toConverseBody(body, bedrock::modelFamily(model), *settings);
}

Expected<json> embedBody(const json& body, std::string_view model) {
  return bedrock::toEmbedBody(body, bedrock::modelFamily(model), model);
}

const json kSimpleChat = {{"model", "anthropic.claude-3-haiku-20240307-v1:0"},
                          {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};

TEST(BedrockRequest, SupportsChatEmbeddingsMessagesAndPassthrough) {
  BedrockAdapter adapter;
  EXPECT_EQ(adapter.id(), "bedrock");
  EXPECT_TRUE(adapter.supports(Endpoint::kChatCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kEmbeddings));
  EXPECT_TRUE(adapter.supports(Endpoint::kPassthrough));
  EXPECT_FALSE(adapter.supports(Endpoint::kCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kMessages));  // natively for Claude (servesNatively)
  EXPECT_FALSE(adapter.supports(Endpoint::kResponses));
}

TEST(BedrockRequest, MapsTheFullChatFixture) {
  auto body = converse(fixture("chat_request.json"), "anthropic.claude-3-5-sonnet-20240620-v1:0",
                       awsTarget());
  ASSERT_TRUE(body.has_value()) << body.error().body.dump();
  EXPECT_EQ(*body, fixture("converse_request.json")) << body->dump(2);
}

TEST(BedrockRequest, UrlCarriesTheEncodedModelAndTheBodyDoesNot) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  auto out = adapter.buildRequest(r.request, awsTarget({{"aws_region", "us-west-2"}}));
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->method, "POST");
  EXPECT_EQ(out->scheme, "https");
  EXPECT_EQ(out->host, "bedrock-runtime.us-west-2.amazonaws.com");
  EXPECT_EQ(out->port, "443");
  EXPECT_EQ(out->target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  EXPECT_EQ(header(*out, "content-type"), "application/json");
  EXPECT_FALSE(json::parse(out->body).contains("model"));
}

TEST(BedrockRequest, DefaultRegionIsUsEast1AndStreamUsesConverseStream) {
  BedrockAdapter adapter;
  json body = kSimpleChat;
  body["stream"] = true;
  Request r(body);
  auto out = adapter.buildRequest(r.request, awsTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->host, "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_EQ(out->target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
  EXPECT_FALSE(json::parse(out->body).contains("stream"));
}

TEST(BedrockRequest, ArnModelIdsAreEncodedAsOneSegment) {
  EXPECT_EQ(bedrock::modelPath(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3",
                "converse"),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
            "us.anthropic.claude-3/converse");
}

// The expected signature was computed with Python's hmac/hashlib from this canonical request:
//   POST
//   /model/anthropic.claude-3-haiku-20240307-v1%253A0/converse
//   <empty query>
//   content-type:application/json
//   host:bedrock-runtime.us-west-2.amazonaws.com
//   x-amz-date:20240501T123456Z
//   x-amz-security-token:SESSIONTOKEN
//   <blank>
//   content-type;host;x-amz-date;x-amz-security-token
//   sha256({"messages":[{"content":[{"text":"Hi"}],"role":"user"}]})
TEST(BedrockRequest, SigV4MatchesAnIndependentlyComputedSignature) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  auto out = adapter.buildRequest(
      r.request, awsTarget({{"aws_region", "us-west-2"}, {"aws_session_token", "SESSIONTOKEN"}}));
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->body, R"({"messages":[{"content":[{"text":"Hi"}],"role":"user"}]})");
  EXPECT_EQ(header(*out, "x-amz-date"), "20240501T123456Z");
  EXPECT_EQ(header(*out, "x-amz-security-token"), "SESSIONTOKEN");
  EXPECT_EQ(header(*out, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-west-2/bedrock/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
            "Signature=962523c6309b1805b431c00bcd10c58968b548f967e871335ef03657451a2703");
  // Host and Content-Length are the upstream client's job.
  EXPECT_EQ(header(*out, "host"), "<missing>");
}

// Same computation with host 127.0.0.1:9999 (a custom host), region us-east-1, no token.
TEST(BedrockRequest, CustomHostIsTheHostThatGetsSigned) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  Target target = awsTarget();
  target.custom_host = "http://127.0.0.1:9999";
  auto out = adapter.buildRequest(r.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->scheme, "http");
  EXPECT_EQ(out->host, "127.0.0.1");
  EXPECT_EQ(out->port, "9999");
  EXPECT_EQ(header(*out, "x-amz-security-token"), "<missing>");
  EXPECT_EQ(header(*out, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=248e3dbb33c7cc96dfe38867a4cec539e0fe5bc679bd81dd0f2f64c5d4b0f090");
}

TEST(BedrockRequest, ApiKeyAuthSendsBearerAndNoSignature) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  Target target;
  target.provider = "bedrock";
  target.api_key = "bedrock-api-key";
  target.options = {{"aws_auth_type", "apiKey"}};
  auto out = adapter.buildRequest(r.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(header(*out, "authorization"), "Bearer bedrock-api-key");
  EXPECT_EQ(header(*out, "x-amz-date"), "<missing>");

  target.api_key.clear();
  auto missing = adapter.buildRequest(r.request, target);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().status, 401);
}

TEST(BedrockRequest, MissingCredentialsGiveA401ThatNeverEchoesTheSecret) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  Target target;
  target.provider = "bedrock";
  target.options = {{"aws_secret_access_key", "SUPERSECRETVALUE"}};
  auto out = adapter.buildRequest(r.request, target);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 401);
  const std::string text = out.error().body.dump();
  EXPECT_NE(text.find("AWS credentials are missing"), std::string::npos) << text;
  EXPECT_EQ(text.find("SUPERSECRETVALUE"), std::string::npos);
}

TEST(BedrockRequest, MissingModelIsA400GatewayException) {
  BedrockAdapter adapter;
  json body = kSimpleChat;
  body.erase("model");
  Request r(body);
  auto out = adapter.buildRequest(r.request, awsTarget());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 400);
  EXPECT_TRUE(out.error().gateway_exception);
  EXPECT_EQ(out.error().body["message"], "Model is required");
}

TEST(BedrockRequest, RejectsARegionThatIsNotAHostLabel) {
  BedrockAdapter adapter;
  Request r(kSimpleChat);
  auto out = adapter.buildRequest(r.request, awsTarget({{"aws_region", "evil.com/x"}}));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 400);
}

json messagesWith(json extra) {
  json body = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
               {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}}};
  for (auto& [k, v] : extra.items()) body[k] = v;
  return body;
}

TEST(BedrockRequest, ToolChoiceVariants) {
  const Target t = awsTarget();
  auto autoChoice = converse(messagesWith({{"tool_choice", "auto"}}), "m", t);
  EXPECT_EQ(autoChoice->at("toolConfig")["toolChoice"], json({{"auto", json::object()}}));
  auto named = converse(
      messagesWith({{"tool_choice", {{"type", "function"}, {"function", {{"name", "f"}}}}}}), "m",
      t);
  EXPECT_EQ(named->at("toolConfig")["toolChoice"], json({{"tool", {{"name", "f"}}}}));
  auto unset = converse(messagesWith({}), "m", t);
  EXPECT_FALSE(unset->at("toolConfig").contains("toolChoice"));
  // "none" without tool history: the tools are left out, so the model cannot call them.
  auto none = converse(messagesWith({{"tool_choice", "none"}}), "m", t);
  EXPECT_FALSE(none->contains("toolConfig"));
  // "none" with tool blocks in the history: Converse needs the toolConfig, so it stays.
  json history = messagesWith({{"tool_choice", "none"}});
  history["messages"] = json::parse(R"([
    {"role":"user","content":"Hi"},
    {"role":"assistant","tool_calls":[{"id":"t1","type":"function",
      "function":{"name":"f","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"t1","content":"ok"}])");
  auto kept = converse(history, "m", t);
  ASSERT_TRUE(kept.has_value());
  ASSERT_TRUE(kept->contains("toolConfig"));
  EXPECT_FALSE(kept->at("toolConfig").contains("toolChoice"));
  // An assistant message without content still becomes a valid toolUse-only message.
  EXPECT_EQ(kept->at("messages")[1]["content"].size(), 1u);
}

TEST(BedrockRequest, ToolResultWithObjectContentBecomesJson) {
  json body = {
      {"messages", {{{"role", "tool"}, {"tool_call_id", "t1"}, {"content", {{"temp", 18}}}}}}};
  auto out = converse(body, "m", awsTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->at("messages")[0],
            json::parse(R"({"role":"user","content":[{"toolResult":{"toolUseId":"t1",
              "content":[{"json":{"temp":18}}]}}]})"));
}

TEST(BedrockRequest, RejectsWhatConverseCannotTake) {
  const Target t = awsTarget();
  json remote = {
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.png"}}}}}}}}}};
  auto image = converse(remote, "m", t);
  ASSERT_FALSE(image.has_value());
  EXPECT_EQ(image.error().status, 400);
  json args = {{"messages",
                {{{"role", "assistant"},
                  {"tool_calls",
                   {{{"id", "x"},
                     {"type", "function"},
                     {"function", {{"name", "f"}, {"arguments", "{not json"}}}}}}}}}};
  EXPECT_FALSE(converse(args, "m", t).has_value());
  json role = {{"messages", {{{"role", "wizard"}, {"content", "x"}}}}};
  EXPECT_FALSE(converse(role, "m", t).has_value());
}

TEST(BedrockRequest, AnthropicBetaGoesToAdditionalModelRequestFields) {
  auto out = converse({{"messages", {{{"role", "user"}, {"content", "Hi"}}}}},
                      "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
                      awsTarget({{"anthropic_beta", "a-2025, b-2025"}}));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->at("additionalModelRequestFields")["anthropic_beta"],
            json::array({"a-2025", "b-2025"}));
}

TEST(BedrockRequest, TitanEmbeddingsTakeOneInput) {
  BedrockAdapter adapter;
  Request r({{"model", "amazon.titan-embed-text-v2:0"}, {"input", "hello"}, {"dimensions", 256}},
            Endpoint::kEmbeddings);
  auto out = adapter.buildRequest(r.request, awsTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target, "/model/amazon.titan-embed-text-v2%3A0/invoke");
  EXPECT_EQ(json::parse(out->body), json({{"inputText", "hello"}, {"dimensions", 256}}));
  EXPECT_NE(header(*out, "authorization"), "<missing>");

  Request many({{"model", "amazon.titan-embed-text-v2:0"}, {"input", {"a", "b"}}},
               Endpoint::kEmbeddings);
  auto rejected = adapter.buildRequest(many.request, awsTarget());
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().status, 400);
  EXPECT_NE(rejected.error().body.dump().find("one input per request"), std::string::npos);
}

TEST(BedrockRequest, CohereEmbeddingsTakeABatch) {
  auto out = embedBody({{"input", {"a", "b"}}}, "cohere.embed-english-v3");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, json({{"texts", {"a", "b"}}, {"input_type", "search_document"}}));
  EXPECT_FALSE(embedBody({{"input", "a"}}, "meta.llama3").has_value());
  EXPECT_FALSE(embedBody({{"input", {1, 2, 3}}}, "cohere.embed-english-v3").has_value());
}

TEST(BedrockRequest, PassthroughAppendsThePathAndSigns) {
  BedrockAdapter adapter;
  const std::string raw = R"({"inputText":"x"})";
  HeaderList headers = {{"content-type", "application/json"},
                        {"x-portkey-provider", "bedrock"},
                        {"authorization", "Bearer client"}};
  ClientRequest request;
  request.endpoint = Endpoint::kPassthrough;
  request.path = "/model/amazon.titan-embed-text-v2%3A0/invoke";
  request.headers = &headers;
  request.raw_body = raw;
  request.now = fixedNow();
  auto out = adapter.buildRequest(request, awsTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target, "/model/amazon.titan-embed-text-v2%3A0/invoke");
  EXPECT_EQ(out->body, raw);
  EXPECT_EQ(header(*out, "x-portkey-provider"), "<missing>");
  EXPECT_TRUE(header(*out, "authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE"));
}

}  // namespace
}  // namespace portico::providers
