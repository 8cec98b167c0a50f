// Bedrock response mapping: Converse answers, embedding answers and AWS errors -> OpenAI shapes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bedrock/bedrock_adapter.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readFixture(const std::string& name) {
  return portico::testing::readTestData("bedrock", name);
}

json fixture(const std::string& name) { return json::parse(readFixture(name)); }

constexpr const char* kModel = "anthropic.claude-3-5-sonnet-20240620-v1:0";

TEST(BedrockResponse, MapsTheConverseFixture) {
  auto out = bedrock::fromConverseResponse(fixture("converse_response.json"), "chatcmpl-test",
                                           kModel, 1700000000, true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, fixture("chat_response.json")) << out->dump(2);
}

TEST(BedrockResponse, StopReasonMap) {
  EXPECT_EQ(bedrock::finishReason("end_turn"), "stop");
  EXPECT_EQ(bedrock::finishReason("stop_sequence"), "stop");
  EXPECT_EQ(bedrock::finishReason("tool_use"), "tool_calls");
  EXPECT_EQ(bedrock::finishReason("max_tokens"), "length");
  EXPECT_EQ(bedrock::finishReason("guardrail_intervened"), "content_filter");
  EXPECT_EQ(bedrock::finishReason("content_filtered"), "content_filter");
  EXPECT_EQ(bedrock::finishReason("something_new"), "stop");
}

TEST(BedrockResponse, NonStrictModeKeepsTheRawStopReason) {
  auto out =
      bedrock::fromConverseResponse(fixture("converse_response.json"), "x", kModel, 1, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->at("choices")[0]["finish_reason"], "tool_use");
}

TEST(BedrockResponse, TextOnlyAnswerJoinsBlocksAndHasNoToolCalls) {
  json converse = json::parse(R"({"output":{"message":{"role":"assistant","content":[
      {"text":"a"},{"text":"b"}]}},"stopReason":"end_turn",
      "usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}})");
  auto out = bedrock::fromConverseResponse(converse, "x", kModel, 1, true);
  ASSERT_TRUE(out.has_value());
  const json& message = out->at("choices")[0]["message"];
  EXPECT_EQ(message["content"], "a\nb");
  EXPECT_FALSE(message.contains("tool_calls"));
  EXPECT_EQ(out->at("choices")[0]["finish_reason"], "stop");
  EXPECT_EQ(out->at("usage"), json::parse(R"({"prompt_tokens":3,"completion_tokens":2,
      "total_tokens":5,"prompt_tokens_details":{"cached_tokens":0}})"));
}

TEST(BedrockResponse, AdapterGivesAFreshIdAndTheRequestModel) {
  BedrockAdapter adapter;
  json body = {{"model", kModel}, {"messages", json::array()}};
  ClientRequest request;
  request.body = &body;
  Target target;
  target.provider = "bedrock";
  auto mapped = adapter.mapResponse(
      request, target,
      UpstreamReply{200, "application/json", readFixture("converse_response.json")});
  ASSERT_EQ(mapped.status, 200);
  json out = json::parse(mapped.body);
  EXPECT_TRUE(out["id"].get<std::string>().starts_with("chatcmpl-"));
  EXPECT_EQ(out["model"], kModel);
  EXPECT_EQ(out["provider"], "bedrock");
  EXPECT_EQ(out["object"], "chat.completion");
}

TEST(BedrockResponse, ASuccessWithoutOutputIsA502NotA200) {
  BedrockAdapter adapter;
  json body = {{"model", kModel}};
  ClientRequest request;
  request.body = &body;
  Target target;
  auto mapped = adapter.mapResponse(request, target, UpstreamReply{200, "application/json", "{}"});
  EXPECT_EQ(mapped.status, 502);
  auto garbage = adapter.mapResponse(request, target, UpstreamReply{200, "text/plain", "<html>"});
  EXPECT_EQ(garbage.status, 502);
  EXPECT_NE(garbage.body.find("Invalid response received from bedrock"), std::string::npos);
}

TEST(BedrockResponse, AwsErrorsKeepTheStatusAndTakeTheTypeFromTheBody) {
  BedrockAdapter adapter;
  ClientRequest request;
  Target target;
  auto mapped = adapter.mapResponse(
      request, target,
      UpstreamReply{429, "application/json", readFixture("throttling_error.json")});
  EXPECT_EQ(mapped.status, 429);
  EXPECT_EQ(json::parse(mapped.body), json::parse(R"({"error":{
      "message":"bedrock error: Too many requests, please wait before trying again.",
      "type":"ThrottlingException","param":null,"code":null},"provider":"bedrock"})"));

  auto plain = adapter.mapResponse(
      request, target,
      UpstreamReply{403, "application/json",
                    R"({"message":"The security token included in the request is invalid."})"});
  EXPECT_EQ(plain.status, 403);
  json p = json::parse(plain.body);
  EXPECT_EQ(p["error"]["message"],
            "bedrock error: The security token included in the request is invalid.");
  EXPECT_TRUE(p["error"]["type"].is_null());

  auto coral = bedrock::mapError(UpstreamReply{
      400, "application/json",
      R"({"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"})"});
  json c = json::parse(coral.body);
  EXPECT_EQ(c["error"]["type"], "ValidationException");
  EXPECT_EQ(c["error"]["message"], "bedrock error: bad");

  auto text = bedrock::mapError(UpstreamReply{503, "text/plain", "Service Unavailable"});
  EXPECT_EQ(text.status, 503);
  EXPECT_EQ(json::parse(text.body)["error"]["message"], "bedrock error: Service Unavailable");
}

TEST(BedrockResponse, TitanEmbeddingToOpenAiList) {
  auto out = bedrock::fromEmbedResponse(fixture("titan_embed_response.json"),
                                        "amazon.titan-embed-text-v2:0");
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, json::parse(R"({"object":"list","model":"amazon.titan-embed-text-v2:0",
      "provider":"bedrock",
      "data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25,0.125]}],
      "usage":{"prompt_tokens":7,"total_tokens":7}})"));
}

TEST(BedrockResponse, CohereEmbeddingsToOpenAiList) {
  auto out =
      bedrock::fromEmbedResponse(fixture("cohere_embed_response.json"), "cohere.embed-english-v3");
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->at("data").size(), 2u);
  EXPECT_EQ(out->at("data")[1]["index"], 1);
  EXPECT_EQ(out->at("data")[1]["embedding"], json::parse("[0.3,0.4]"));
  auto typed = bedrock::fromEmbedResponse(json::parse(R"({"embeddings":{"float":[[1.0]]}})"),
                                          "cohere.embed-english-v3");
  ASSERT_TRUE(typed.has_value());
  EXPECT_EQ(typed->at("data")[0]["embedding"], json::parse("[1.0]"));
}

TEST(BedrockResponse, Base64EncodingFormatPacksLittleEndianFloats) {
  BedrockAdapter adapter;
  json body = {
      {"model", "amazon.titan-embed-text-v2:0"}, {"input", "x"}, {"encoding_format", "base64"}};
  ClientRequest request;
  request.endpoint = Endpoint::kEmbeddings;
  request.body = &body;
  Target target;
  auto mapped =
      adapter.mapResponse(request, target,
                          UpstreamReply{200, "application/json",
                                        R"({"embedding":[1.0,-2.0],"inputTextTokenCount":1})"});
  ASSERT_EQ(mapped.status, 200);
  // 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0.
  EXPECT_EQ(json::parse(mapped.body)["data"][0]["embedding"], "AACAPwAAAMA=");
}

}  // namespace
}  // namespace portico::providers
