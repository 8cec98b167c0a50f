// BedrockCall: what open() derives once (settings, region, model), the unsigned request and
// the signature added last, and Titan's fan-out (splitRequest/joinResponses).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bedrock/bedrock_adapter.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

Target awsTarget(json extra = json::object()) {
  Target target;
  target.provider = "bedrock";
  target.options = {{"aws_access_key_id", "AKIDEXAMPLE"},
                    {"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
  for (auto& [key, value] : extra.items()) target.options[key] = value;
  return target;
}

struct Request {
  json body;
  std::string raw;
  HeaderList headers;
  ClientRequest request;
  explicit Request(json b, Endpoint endpoint = Endpoint::kChatCompletions) : body(std::move(b)) {
    raw = body.dump();
    request.endpoint = endpoint;
    request.body = &body;
    request.raw_body = raw;
    request.headers = &headers;
    request.stream = body.value("stream", false);
  }
};

std::string header(const UpstreamRequest& r, std::string_view name) {
  return std::string(findHeader(r.headers, name).value_or("<missing>"));
}

const json kChat = {{"model", "anthropic.claude-3-haiku-20240307-v1:0"},
                    {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};

TEST(BedrockCall, SettingsAreReadFromTheTargetOptions) {
  Target target = awsTarget({{"aws_session_token", "TOKEN"},
                             {"aws_region", "eu-west-3"},
                             {"anthropic_beta", "x-1"},
                             {"aws_auth_type", "apiKey"}});
  target.api_key = "key";
  auto settings = BedrockSettings::read(target);
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->region, "eu-west-3");
  EXPECT_TRUE(settings->api_key_auth);
  EXPECT_EQ(settings->api_key, "key");
  EXPECT_EQ(settings->credentials.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(settings->credentials.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(settings->credentials.session_token, "TOKEN");
  EXPECT_EQ(settings->anthropic_beta, "x-1");

  auto defaults = BedrockSettings::read(Target{});
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->region, "us-east-1");
  EXPECT_FALSE(defaults->api_key_auth);
}

TEST(BedrockCall, OpenRefusesARegionThatIsNotAHostLabel) {
  BedrockAdapter adapter;
  Request r(kChat);
  for (const char* region : {"evil.com/x", "US-EAST-1", "a b"}) {
    const Target target = awsTarget({{"aws_region", region}});  // outlives the call
    auto call = adapter.open(r.request, target);
    ASSERT_FALSE(call.has_value()) << region;
    EXPECT_EQ(call.error().status, 400);
  }
}

TEST(BedrockCall, ModelFamilies) {
  using bedrock::ModelFamily;
  EXPECT_EQ(bedrock::modelFamily("us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            ModelFamily::kAnthropic);
  EXPECT_EQ(bedrock::modelFamily("Amazon.Titan-Embed-Text-v2:0"), ModelFamily::kTitanEmbed);
  EXPECT_EQ(bedrock::modelFamily("cohere.embed-english-v3"), ModelFamily::kCohereEmbed);
  EXPECT_EQ(bedrock::modelFamily("meta.llama3-70b-instruct-v1:0"), ModelFamily::kOther);
}

TEST(BedrockCall, RequestIsUnsignedAndAuthenticateSignsTheFinishedRequest) {
  BedrockAdapter adapter;
  Request r(kChat);
  Target target = awsTarget();
  target.custom_host = "http://127.0.0.1:9999";
  auto call = adapter.open(r.request, target);
  ASSERT_TRUE(call.has_value());
  auto built = (*call)->request();
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(header(*built, "authorization"), "<missing>");
  EXPECT_EQ(header(*built, "x-amz-date"), "<missing>");
  ASSERT_TRUE((*call)->authenticate(*built).has_value());
  EXPECT_TRUE(header(*built, "authorization").starts_with("AWS4-HMAC-SHA256 Credential="));

  // Same as the one-shot form, which the request tests check against an independent signature.
  auto one_shot = adapter.buildRequest(r.request, target);
  ASSERT_TRUE(one_shot.has_value());
  EXPECT_EQ(header(*one_shot, "authorization"), header(*built, "authorization"));
}

TEST(BedrockCall, TheSignatureCoversTheHostTheClientSends) {
  BedrockAdapter adapter;
  Request r(kChat);
  const Target target = awsTarget();  // a call keeps references to its request and target
  auto call = adapter.open(r.request, target);
  ASSERT_TRUE(call.has_value());
  auto first = (*call)->request();
  auto second = (*call)->request();
  ASSERT_TRUE(first.has_value() && second.has_value());
  second->port = "8443";  // Host becomes "bedrock-runtime.us-east-1.amazonaws.com:8443"
  ASSERT_TRUE((*call)->authenticate(*first).has_value());
  ASSERT_TRUE((*call)->authenticate(*second).has_value());
  EXPECT_NE(header(*first, "authorization"), header(*second, "authorization"));
}

TEST(BedrockCall, CredentialsAreCheckedWhenAuthenticating) {
  BedrockAdapter adapter;
  Request r(kChat);
  Target target;
  auto call = adapter.open(r.request, target);
  ASSERT_TRUE(call.has_value());
  auto built = (*call)->request();
  ASSERT_TRUE(built.has_value());
  auto auth = (*call)->authenticate(*built);
  ASSERT_FALSE(auth.has_value());
  EXPECT_EQ(auth.error().status, 401);
}

TEST(BedrockCall, TitanInputsSplitIntoOnePartEach) {
  BedrockAdapter adapter;
  Request r({{"model", "amazon.titan-embed-text-v2:0"}, {"input", {"a", "b", "c"}}},
            Endpoint::kEmbeddings);
  const Target target = awsTarget();  // a call keeps references to its request and target
  auto call = adapter.open(r.request, target);
  ASSERT_TRUE(call.has_value());
  auto parts = (*call)->splitRequest();
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], json({{"model", "amazon.titan-embed-text-v2:0"}, {"input", "b"}}));

  // One input, a Cohere batch, chat, or non-text inputs: sent as they are.
  Request one({{"model", "amazon.titan-embed-text-v2:0"}, {"input", {"a"}}}, Endpoint::kEmbeddings);
  Request cohere({{"model", "cohere.embed-english-v3"}, {"input", {"a", "b"}}},
                 Endpoint::kEmbeddings);
  Request tokens({{"model", "amazon.titan-embed-text-v2:0"}, {"input", {1, 2}}},
                 Endpoint::kEmbeddings);
  Request chat(kChat);
  for (Request* request : {&one, &cohere, &tokens, &chat}) {
    auto other = adapter.open(request->request, target);
    ASSERT_TRUE(other.has_value());
    EXPECT_TRUE((*other)->splitRequest().empty()) << request->body.dump();
  }
}

TEST(BedrockCall, JoinedPartsAreOneListInInputOrderWithTheSummedUsage) {
  BedrockAdapter adapter;
  Request r({{"model", "amazon.titan-embed-text-v2:0"}, {"input", {"a", "b"}}},
            Endpoint::kEmbeddings);
  const Target target = awsTarget();  // a call keeps references to its request and target
  auto call = adapter.open(r.request, target);
  ASSERT_TRUE(call.has_value());
  std::vector<MappedResponse> parts;
  for (const auto& [vector, tokens] : {std::pair{"[1.0]", 3}, std::pair{"[2.0]", 4}}) {
    Request part({{"model", "amazon.titan-embed-text-v2:0"}, {"input", "a"}},
                 Endpoint::kEmbeddings);
    parts.push_back(adapter.mapResponse(
        part.request, awsTarget(),
        UpstreamReply{200,
                      "application/json",
                      std::string(R"({"embedding":)") + vector + R"(,"inputTextTokenCount":)" +
                          std::to_string(tokens) + "}",
                      {}}));
    ASSERT_EQ(parts.back().status, 200);
  }
  auto joined = (*call)->joinResponses(std::move(parts));
  ASSERT_EQ(joined.status, 200);
  EXPECT_EQ(json::parse(joined.body), json::parse(R"({"object":"list",
      "model":"amazon.titan-embed-text-v2:0","provider":"bedrock",
      "data":[{"object":"embedding","index":0,"embedding":[1.0]},
              {"object":"embedding","index":1,"embedding":[2.0]}],
      "usage":{"prompt_tokens":7,"total_tokens":7}})"));
  ASSERT_TRUE(joined.usage.has_value());
  EXPECT_EQ(joined.usage->prompt_tokens, 7);

  auto broken = (*call)->joinResponses({MappedResponse{200, "application/json", "{}"}});
  EXPECT_EQ(broken.status, 502);
}

}  // namespace
}  // namespace portico::providers
