// azure-openai: URL, api-version, auth and error mapping on fixtures; no sockets.
#include "azure_openai/azure_openai_adapter.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

std::string readAzureFixture(const std::string& name) {
  return portico::testing::readTestData("azure_openai", name);
}

// Owns what a ClientRequest points at.
struct AzureCall {
  HeaderList headers;
  json body = {{"model", "gpt-4o"},
               {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
               {"extra_azure_field", {{"keep", true}}}};
  std::string raw;
  ClientRequest request;

  explicit AzureCall(Endpoint endpoint = Endpoint::kChatCompletions, std::string query = "") {
    raw = body.dump();
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kEmbeddings    ? "/embeddings"
                   : endpoint == Endpoint::kCompletions ? "/completions"
                   : endpoint == Endpoint::kResponses   ? "/responses"
                                                        : "/chat/completions";
    request.query = std::move(query);
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
  }
};

Target azureTarget() {
  Target target;
  target.provider = "azure-openai";
  target.api_key = "azure-key";
  target.options = {{"resource_name", "my-res"}, {"deployment_id", "gpt4o-dep"}};
  return target;
}

std::string headerOf(const UpstreamRequest& out, std::string_view name) {
  return std::string(findHeader(out.headers, name).value_or("<absent>"));
}

TEST(AzureOpenAiAdapter, ChatUrlUsesResourceDeploymentAndDefaultApiVersion) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->scheme, "https");
  EXPECT_EQ(out->host, "my-res.openai.azure.com");
  EXPECT_EQ(out->port, "443");
  EXPECT_EQ(out->target, "/openai/deployments/gpt4o-dep/chat/completions?api-version=" +
                             std::string(kDefaultAzureApiVersion));
  EXPECT_EQ(kDefaultAzureApiVersion, "2024-10-21");
  EXPECT_EQ(headerOf(*out, "api-key"), "azure-key");
  EXPECT_EQ(headerOf(*out, "authorization"), "<absent>");
  EXPECT_EQ(headerOf(*out, "content-type"), "application/json");
  // The body goes as sent, unknown fields included.
  EXPECT_EQ(out->body, call.raw);
}

TEST(AzureOpenAiAdapter, HeaderFormOptionsAndExplicitVersion) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kEmbeddings);
  Target target = azureTarget();
  target.options = {{"azure_resource_name", "other"},
                    {"azure_deployment_id", "emb"},
                    {"azure_api_version", "2024-06-01"}};
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->host, "other.openai.azure.com");
  EXPECT_EQ(out->target, "/openai/deployments/emb/embeddings?api-version=2024-06-01");
}

TEST(AzureOpenAiAdapter, CompletionsPath) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kCompletions);
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target, "/openai/deployments/gpt4o-dep/completions?api-version=2024-10-21");
}

TEST(AzureOpenAiAdapter, ClientQueryIsKeptAndApiVersionAppended) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kChatCompletions, "foo=1&bar=x%20y");
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(
      out->target,
      "/openai/deployments/gpt4o-dep/chat/completions?foo=1&bar=x%20y&api-version=2024-10-21");
}

TEST(AzureOpenAiAdapter, ClientApiVersionIsUsedOnceWhenNoOptionGiven) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kChatCompletions, "api-version=2025-01-01-preview&x=1");
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target,
            "/openai/deployments/gpt4o-dep/chat/completions?x=1&api-version=2025-01-01-preview");

  Target target = azureTarget();
  target.options["api_version"] = "2024-10-21";  // the configured version wins
  out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->target,
            "/openai/deployments/gpt4o-dep/chat/completions?x=1&api-version=2024-10-21");
}

TEST(AzureOpenAiAdapter, V1ApiDropsDeploymentAndApiVersion) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kChatCompletions, "q=1");
  Target target = azureTarget();
  target.options = {{"resource_name", "my-res"}, {"api_version", "v1"}};  // no deployment needed
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->target, "/openai/v1/chat/completions?q=1");
  EXPECT_EQ(json::parse(out->body)["model"], "gpt-4o");  // the model is left as sent
}

TEST(AzureOpenAiAdapter, CustomHostReplacesResourceHost) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  for (std::string host :
       {"http://127.0.0.1:9999", "http://127.0.0.1:9999/", "http://127.0.0.1:9999/openai"}) {
    Target target = azureTarget();
    target.options.erase("resource_name");  // not needed with a custom host
    target.custom_host = host;
    auto out = adapter.buildRequest(call.request, target);
    ASSERT_TRUE(out.has_value()) << host;
    EXPECT_EQ(out->scheme, "http");
    EXPECT_EQ(out->host, "127.0.0.1");
    EXPECT_EQ(out->port, "9999");
    EXPECT_EQ(out->target, "/openai/deployments/gpt4o-dep/chat/completions?api-version=2024-10-21")
        << host;
  }
}

TEST(AzureOpenAiAdapter, AdTokenIsSentAsBearerInsteadOfApiKey) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  for (std::string token : {"eyJ.tok", "Bearer eyJ.tok"}) {
    Target target = azureTarget();
    target.options["azure_ad_token"] = token;
    auto out = adapter.buildRequest(call.request, target);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(headerOf(*out, "authorization"), "Bearer eyJ.tok");
    EXPECT_EQ(headerOf(*out, "api-key"), "<absent>");
  }
  // A token alone is enough.
  Target target = azureTarget();
  target.api_key.clear();
  target.options["azure_ad_token"] = "t";
  EXPECT_TRUE(adapter.buildRequest(call.request, target).has_value());
}

TEST(AzureOpenAiAdapter, MissingSettingsAreClear400s) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  Target no_resource = azureTarget();
  no_resource.options.erase("resource_name");
  auto out = adapter.buildRequest(call.request, no_resource);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 400);
  EXPECT_NE(out.error().body.dump().find("resource"), std::string::npos);

  Target no_deployment = azureTarget();
  no_deployment.options.erase("deployment_id");
  out = adapter.buildRequest(call.request, no_deployment);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 400);
  EXPECT_NE(out.error().body.dump().find("deployment"), std::string::npos);

  Target no_key = azureTarget();
  no_key.api_key.clear();
  out = adapter.buildRequest(call.request, no_key);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().status, 401);

  for (const char* mode : {"entra", "managed", "workload"}) {
    Target target = azureTarget();
    target.options["azure_auth_mode"] = mode;
    out = adapter.buildRequest(call.request, target);
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().status, 400);
    EXPECT_NE(out.error().body.dump().find(mode), std::string::npos);
  }
}

TEST(AzureOpenAiAdapter, NamesThatCouldRedirectTheRequestAreRefused) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"resource_name", "evil.com/x"},
                                                        {"resource_name", "a.b"},
                                                        {"deployment_id", "../../x"},
                                                        {"deployment_id", "d?x=1"},
                                                        {"api_version", "2024-10-21&x=1"}}) {
    Target target = azureTarget();
    target.options[key] = value;
    auto out = adapter.buildRequest(call.request, target);
    ASSERT_FALSE(out.has_value()) << key << "=" << value;
    EXPECT_EQ(out.error().status, 400);
  }
}

TEST(AzureOpenAiAdapter, OpenAiBetaIsPassedFromOptionOrClientHeader) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  call.headers.emplace_back("openai-beta", "assistants=v2");
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(headerOf(*out, "openai-beta"), "assistants=v2");

  Target target = azureTarget();
  target.options["openai_beta"] = "realtime=v1";
  out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(headerOf(*out, "openai-beta"), "realtime=v1");
}

TEST(AzureOpenAiAdapter, PassthroughAppendsToOpenaiPrefixAndDropsClientCredentials) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kPassthrough, "limit=2");
  call.request.method = "GET";
  call.request.path = "/files";
  call.request.body = nullptr;
  call.request.raw_body = "";
  call.headers = {{"authorization", "Bearer client"}, {"api-key", "client-key"}, {"x-custom", "1"}};
  Target target = azureTarget();
  target.options.erase("deployment_id");  // passthrough needs no deployment
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->method, "GET");
  EXPECT_EQ(out->target, "/openai/files?limit=2&api-version=2024-10-21");
  EXPECT_EQ(headerOf(*out, "api-key"), "azure-key");
  EXPECT_EQ(headerOf(*out, "authorization"), "<absent>");
  EXPECT_EQ(headerOf(*out, "x-custom"), "1");
  int key_headers = 0;
  for (const auto& [name, value] : out->headers) {
    key_headers += name == "api-key" ? 1 : 0;
  }
  EXPECT_EQ(key_headers, 1);
}

TEST(AzureOpenAiAdapter, SupportsUnifiedEndpoints) {
  AzureOpenAiAdapter adapter;
  EXPECT_EQ(adapter.id(), "azure-openai");
  EXPECT_TRUE(adapter.supports(Endpoint::kChatCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kCompletions));
  EXPECT_TRUE(adapter.supports(Endpoint::kEmbeddings));
  EXPECT_TRUE(adapter.supports(Endpoint::kPassthrough));
  EXPECT_FALSE(adapter.supports(Endpoint::kMessages));
  EXPECT_TRUE(adapter.supports(Endpoint::kResponses));
}

// The gateway's translations ask for the usage chunk; API versions before stream usage refuse
// stream_options, so it is taken out of the body for them.
TEST(AzureOpenAiAdapter, OldApiVersionsGetNoStreamOptions) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kChatCompletions, "api-version=2024-06-01");
  call.body["stream"] = true;
  call.body["stream_options"] = {{"include_usage", true}};
  call.request.stream = true;
  call.request.body_modified = true;
  auto out = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  const json sent = json::parse(out->body);
  EXPECT_FALSE(sent.contains("stream_options")) << out->body;
  EXPECT_EQ(sent["stream"], true);
}

// Azure's Responses API is not under a deployment (the body names the model) and takes the
// body as sent.
TEST(AzureOpenAiAdapter, ResponsesGoToTheResourceResponsesPath) {
  AzureOpenAiAdapter adapter;
  AzureCall call(Endpoint::kResponses, "api-version=2025-04-01-preview");
  Target target = azureTarget();
  target.options.erase("deployment_id");
  auto out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->target, "/openai/responses?api-version=2025-04-01-preview");
  EXPECT_EQ(out->body, call.raw);
  target.options["api_version"] = "v1";
  out = adapter.buildRequest(call.request, target);
  ASSERT_TRUE(out.has_value()) << out.error().body.dump();
  EXPECT_EQ(out->target, "/openai/v1/responses");
}

TEST(AzureOpenAiAdapter, SuccessBodiesAndStreamsAreRelayedUnchanged) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  std::string body = readAzureFixture("chat_response.json");
  auto mapped = adapter.mapResponse(call.request, azureTarget(),
                                    UpstreamReply{200, "application/json", body});
  EXPECT_EQ(mapped.status, 200);
  EXPECT_EQ(mapped.body, body);
  // The usage is read from the relayed bytes for the gateway.
  ASSERT_TRUE(mapped.usage.has_value());
  EXPECT_EQ(mapped.usage->prompt_tokens, 9);
  EXPECT_EQ(mapped.usage->completion_tokens, 4);

  // A stream whose client asked for include_usage is relayed as is (the relay reads the usage).
  AzureCall asked;
  asked.body["stream"] = true;
  asked.body["stream_options"] = {{"include_usage", true}};
  asked.request.stream = true;
  EXPECT_EQ(adapter.makeStreamTransformer(asked.request, azureTarget()), nullptr);

  // Otherwise the stream (first chunk with empty choices and prompt_filter_results, no usage)
  // still reaches the client byte for byte, in any split.
  AzureCall streamed;
  streamed.body["stream"] = true;
  streamed.request.stream = true;
  const std::string sse = readAzureFixture("chat_stream.sse");
  for (std::size_t piece : {1u, 5u, 64u, 100000u}) {
    auto transformer = adapter.makeStreamTransformer(streamed.request, azureTarget());
    ASSERT_NE(transformer, nullptr);
    std::string out;
    for (const auto& part : testing::splitIntoPieces(sse, piece)) {
      transformer->feed(part, out);
    }
    transformer->finish(true, out);
    EXPECT_EQ(out, sse) << piece;
    EXPECT_FALSE(transformer->usage().has_value());
  }
}

// Azure's stream once the gateway asked for usage: every chunk carries "usage":null, then a
// usage-only chunk comes before [DONE].
const std::string kAzureUsageStream =
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
    "\"prompt_filter_results\":[]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],"
    "\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}],\"id\":\"c1\","
    "\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n"
    "data: {\"choices\":[],\"id\":\"c1\",\"object\":\"chat.completion.chunk\","
    "\"usage\":{\"completion_tokens\":4,\"prompt_tokens\":9,\"total_tokens\":13,"
    "\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
    "data: [DONE]\n\n";

// What the client gets: the same stream as if it had not been asked, [DONE] kept.
const std::string kAzureClientStream =
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
    "\"prompt_filter_results\":[]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],"
    "\"id\":\"c1\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}],\"id\":\"c1\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: [DONE]\n\n";

TEST(AzureOpenAiAdapter, StreamsAskForUsageTheClientDidNotAndDropItsChunk) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  call.body["stream"] = true;
  call.request.stream = true;
  auto built = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(built.has_value());
  json sent = json::parse(built->body);
  EXPECT_EQ(sent["stream_options"], json({{"include_usage", true}}));
  EXPECT_EQ(sent["extra_azure_field"], json({{"keep", true}}));  // the rest as sent

  for (std::size_t piece : {1u, 3u, 17u, 100000u}) {
    auto transformer = adapter.makeStreamTransformer(call.request, azureTarget());
    ASSERT_NE(transformer, nullptr);
    std::string out;
    for (const auto& part : testing::splitIntoPieces(kAzureUsageStream, piece)) {
      transformer->feed(part, out);
    }
    transformer->finish(true, out);
    EXPECT_EQ(out, kAzureClientStream) << piece;
    ASSERT_TRUE(transformer->usage().has_value()) << piece;
    EXPECT_EQ(transformer->usage()->prompt_tokens, 9);
    EXPECT_EQ(transformer->usage()->completion_tokens, 4);
    EXPECT_EQ(transformer->usage()->cached_tokens, 2);
  }

  // CRLF framing: the same chunks, in OpenAI's framing.
  std::string crlf;
  for (char c : kAzureUsageStream) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  auto transformer = adapter.makeStreamTransformer(call.request, azureTarget());
  std::string out;
  transformer->feed(crlf, out);
  transformer->finish(true, out);
  EXPECT_EQ(out, kAzureClientStream);
  ASSERT_TRUE(transformer->usage().has_value());
  EXPECT_EQ(transformer->usage()->prompt_tokens, 9);
}

TEST(AzureOpenAiAdapter, StreamUsageIsNotAskedOfOlderApiVersionsOrOtherBodies) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  call.body["stream"] = true;
  call.request.stream = true;
  Target old_version = azureTarget();
  old_version.options["api_version"] = "2024-06-01";
  auto built = adapter.buildRequest(call.request, old_version);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->body, call.raw);
  EXPECT_EQ(adapter.makeStreamTransformer(call.request, old_version), nullptr);

  // Not a stream: the body goes as sent.
  AzureCall plain;
  built = adapter.buildRequest(plain.request, azureTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->body, plain.raw);

  // A client's own stream_options are kept beside the flag (the body changed after its bytes
  // were taken, so it says so).
  call.body["stream_options"] = {{"include_usage", false}, {"other", 1}};
  call.request.body_modified = true;
  built = adapter.buildRequest(call.request, azureTarget());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(json::parse(built->body)["stream_options"],
            json({{"include_usage", true}, {"other", 1}}));
}

TEST(AzureOpenAiAdapter, ABrokenRelayedStreamEndsWithAnErrorEvent) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  call.body["stream"] = true;
  call.request.stream = true;
  auto transformer = adapter.makeStreamTransformer(call.request, azureTarget());
  ASSERT_NE(transformer, nullptr);
  std::string out;
  transformer->feed(kAzureUsageStream.substr(0, 150), out);
  transformer->finish(false, out);
  EXPECT_NE(out.find("event: error\ndata: {\"error\""), std::string::npos) << out;
  EXPECT_NE(out.find("azure-openai error: "), std::string::npos) << out;
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_FALSE(transformer->usage().has_value());
}

TEST(AzureOpenAiAdapter, DeploymentNotFoundIsNormalised) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  auto mapped = adapter.mapResponse(
      call.request, azureTarget(),
      UpstreamReply{404, "application/json", readAzureFixture("error_deployment_not_found.json")});
  EXPECT_EQ(mapped.status, 404);
  json body = json::parse(mapped.body);
  EXPECT_EQ(body["provider"], "azure-openai");
  EXPECT_EQ(body["error"]["code"], "DeploymentNotFound");
  EXPECT_TRUE(body["error"]["message"].get<std::string>().starts_with(
      "azure-openai error: The API deployment for this resource does not exist."));
  EXPECT_TRUE(body["error"]["type"].is_null());
}

TEST(AzureOpenAiAdapter, ContentFilterErrorKeepsParamAndCode) {
  AzureOpenAiAdapter adapter;
  AzureCall call;
  auto mapped = adapter.mapResponse(
      call.request, azureTarget(),
      UpstreamReply{400, "application/json", readAzureFixture("error_content_filter.json")});
  EXPECT_EQ(mapped.status, 400);
  json body = json::parse(mapped.body);
  EXPECT_EQ(body["error"]["code"], "content_filter");
  EXPECT_EQ(body["error"]["param"], "prompt");
}

}  // namespace
}  // namespace portico::providers
