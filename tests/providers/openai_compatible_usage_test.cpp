// Usage for relayed OpenAI-format answers: scanned from complete answers, and for openai's
// streams asked of the upstream even when the client did not, its chunk dropped on the way.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "openai_compatible/openai_compatible_adapter.hpp"
#include "openai_compatible/usage_relay_stream.hpp"
#include "portico/provider_registry.hpp"
#include "support/test_data.hpp"

namespace portico::providers {
namespace {

using nlohmann::json;

// Owns what a ClientRequest points at.
struct OpenAiCall {
  HeaderList headers;
  json body;
  std::string raw;
  ClientRequest request;

  explicit OpenAiCall(json b, Endpoint endpoint = Endpoint::kChatCompletions)
      : body(std::move(b)), raw(body.dump()) {
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kEmbeddings ? "/embeddings" : "/chat/completions";
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = body.is_object() && body.value("stream", false);
  }
};

const ProviderAdapter& adapterFor(std::string_view id) {
  static const ProviderRegistry registry = [] {
    ProviderRegistry r;
    registerBuiltinProviders(r);
    return r;
  }();
  const ProviderAdapter* adapter = registry.find(id);
  EXPECT_NE(adapter, nullptr) << id;
  return *adapter;
}

Target targetFor(std::string_view id) {
  Target target;
  target.provider = std::string(id);
  target.api_key = "key";
  return target;
}

const json kChatBody = {{"model", "gpt-4o"},
                        {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};

TEST(OpenAiUsage, CompleteAnswersAreRelayedAndTheirUsageScanned) {
  OpenAiCall call(kChatBody);
  const std::string answer =
      R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":"say \"usage\":{}"},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,)"
      R"("prompt_tokens_details":{"cached_tokens":3},)"
      R"("completion_tokens_details":{"reasoning_tokens":5}}})";
  auto mapped = adapterFor("openai").mapResponse(call.request, targetFor("openai"),
                                                 UpstreamReply{200, "application/json", answer});
  EXPECT_EQ(mapped.body, answer);  // never re-serialised
  EXPECT_EQ(
      mapped.usage,
      (Usage{
          .prompt_tokens = 11, .completion_tokens = 7, .cached_tokens = 3, .reasoning_tokens = 5}));

  // Every OpenAI-compatible provider, every unified endpoint.
  OpenAiCall embed({{"model", "e"}, {"input", "x"}}, Endpoint::kEmbeddings);
  auto embedded =
      adapterFor("together-ai")
          .mapResponse(embed.request, targetFor("together-ai"),
                       UpstreamReply{200, "application/json",
                                     R"({"object":"list","data":[],)"
                                     R"("usage":{"prompt_tokens":4,"total_tokens":4}})"});
  EXPECT_EQ(embedded.usage, (Usage{.prompt_tokens = 4}));

  // No usage in errors, in answers without one, or in passthrough answers.
  EXPECT_FALSE(adapterFor("openai")
                   .mapResponse(call.request, targetFor("openai"),
                                UpstreamReply{429, "application/json", R"({"error":"x"})"})
                   .usage);
  EXPECT_FALSE(adapterFor("openai")
                   .mapResponse(call.request, targetFor("openai"),
                                UpstreamReply{200, "application/json", R"({"id":"x"})"})
                   .usage);
  OpenAiCall files(json(nullptr), Endpoint::kPassthrough);
  files.request.path = "/files";
  EXPECT_FALSE(adapterFor("openai")
                   .mapResponse(files.request, targetFor("openai"),
                                UpstreamReply{200, "application/json", answer})
                   .usage);
}

TEST(OpenAiUsage, OpenAiStreamsAskForUsageOnlyWhenTheClientDidNot) {
  json streamed = kChatBody;
  streamed["stream"] = true;
  OpenAiCall call(streamed);
  const ProviderAdapter& openai = adapterFor("openai");
  auto built = openai.buildRequest(call.request, targetFor("openai"));
  ASSERT_TRUE(built);
  json sent = json::parse(built->body);
  EXPECT_EQ(sent["stream_options"], json({{"include_usage", true}}));
  sent.erase("stream_options");
  EXPECT_EQ(sent, streamed);
  EXPECT_NE(openai.makeStreamTransformer(call.request, targetFor("openai")), nullptr);

  // The client asked: its bytes go as sent, and its stream is relayed untouched.
  json asked = streamed;
  asked["stream_options"] = {{"include_usage", true}};
  OpenAiCall asked_call(asked);
  built = openai.buildRequest(asked_call.request, targetFor("openai"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->body, asked_call.raw);
  EXPECT_EQ(openai.makeStreamTransformer(asked_call.request, targetFor("openai")), nullptr);

  // Not a stream, or another provider: nothing added.
  OpenAiCall plain(kChatBody);
  built = openai.buildRequest(plain.request, targetFor("openai"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->body, plain.raw);
  for (const char* id : {"together-ai", "deepseek", "mistral-ai", "ollama"}) {
    Target target = targetFor(id);
    target.custom_host = "http://127.0.0.1:1";
    built = adapterFor(id).buildRequest(call.request, target);
    ASSERT_TRUE(built) << id;
    EXPECT_FALSE(json::parse(built->body).contains("stream_options")) << id;
    EXPECT_EQ(adapterFor(id).makeStreamTransformer(call.request, target), nullptr) << id;
  }

  // A stream_options of the wrong type is the upstream's to refuse, not ours to replace.
  json junk = streamed;
  junk["stream_options"] = "yes";
  OpenAiCall junk_call(junk);
  built = openai.buildRequest(junk_call.request, targetFor("openai"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->body, junk_call.raw);
  EXPECT_EQ(openai.makeStreamTransformer(junk_call.request, targetFor("openai")), nullptr);
}

TEST(OpenAiUsage, TheUsageOptionGoesInFrontOfTheClientsOwnBytes) {
  const ProviderAdapter& openai = adapterFor("openai");
  // The client's bytes, spacing and member order included, follow the added option.
  const std::string raw = "{ \"model\": \"gpt-4o\",  \"stream\": true, \"messages\": [] }";
  OpenAiCall call(json::parse(raw));
  call.raw = raw;
  call.request.raw_body = call.raw;
  auto built = openai.buildRequest(call.request, targetFor("openai"));
  ASSERT_TRUE(built);
  EXPECT_EQ(built->body, "{\"stream_options\":{\"include_usage\":true}," + raw.substr(1));

  // Where the name or an escape shows up in the bytes, the body is merged as a tree instead.
  for (const std::string content : {"what is stream_options?", "caf\\u00e9"}) {
    json body = {{"model", "gpt-4o"},
                 {"stream", true},
                 {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
    OpenAiCall tricky(body);
    tricky.raw =
        "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\","
        "\"content\":\"" +
        content + "\"}]}";
    tricky.request.raw_body = tricky.raw;
    built = openai.buildRequest(tricky.request, targetFor("openai"));
    ASSERT_TRUE(built);
    const json sent = json::parse(built->body);
    EXPECT_EQ(sent["stream_options"], json({{"include_usage", true}})) << content;
    EXPECT_EQ(sent.size(), 4u) << content;
  }
}

// OpenAI's stream with include_usage: "usage":null on every chunk, then the usage-only chunk.
const std::string kAskedStream =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"say \\\"usage\\\":null}\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10}}\n\n"
    "data: [DONE]\n\n";

// The stream the client would have had without the option.
const std::string kClientStream =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"say \\\"usage\\\":null}\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";

TEST(OpenAiUsage, TheRelayDropsTheUsageChunkAndReportsItInEverySplit) {
  for (std::size_t piece : {1u, 2u, 7u, 64u, 100000u}) {
    auto relay = makeUsageRelayStream("openai");
    std::string out;
    for (const auto& part : testing::splitIntoPieces(kAskedStream, piece)) {
      relay->feed(part, out);
    }
    EXPECT_TRUE(relay->usage().has_value()) << piece;
    relay->finish(true, out);
    EXPECT_EQ(out, kClientStream) << piece;
    EXPECT_EQ(relay->usage(), (Usage{.prompt_tokens = 8, .completion_tokens = 2})) << piece;
  }
}

TEST(OpenAiUsage, TheRelayKeepsEveryChunkAsItCameAndOnlyThat) {
  // Comments, CRLF framing, a named event, a usage on a chunk with choices (kept, and
  // reported), data no client could read, and a last event without its blank line.
  const std::string chunk =
      R"({"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1,"completion_tokens":1}})";
  const std::string stream = ": keep-alive\r\n\r\nevent: message\r\ndata: " + chunk +
                             "\r\n\r\ndata: {not json\r\n\r\ndata: [DONE]";
  for (std::size_t piece : {1u, 3u, 100000u}) {
    auto relay = makeUsageRelayStream("openai");
    std::string out;
    for (const auto& part : testing::splitIntoPieces(stream, piece)) {
      relay->feed(part, out);
    }
    relay->finish(true, out);
    EXPECT_EQ(out, "event: message\ndata: " + chunk + "\n\ndata: [DONE]\n\n") << piece;
    EXPECT_EQ(relay->usage(), (Usage{.prompt_tokens = 1, .completion_tokens = 1})) << piece;
  }

  // An upstream that just stops still ends with [DONE].
  auto relay = makeUsageRelayStream("openai");
  std::string out;
  relay->feed("data: {\"choices\":[]}\n\n", out);
  relay->finish(true, out);
  EXPECT_EQ(out, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
}

TEST(OpenAiUsage, AUsageChunkIsFoundWhereverItsKeyStands) {
  // The key first, with spaces, and a chunk whose text only quotes the word: the first is the
  // usage chunk (dropped, reported), the second is relayed as it came.
  const std::string quoted =
      R"({"choices":[{"index":0,"delta":{"content":"usage\"usage\""}}],"note":"usage"})";
  auto relay = makeUsageRelayStream("openai");
  std::string out;
  relay->feed("data: " + quoted + "\n\n", out);
  EXPECT_FALSE(relay->usage().has_value());
  relay->feed(
      "data: {\"usage\" : {\"prompt_tokens\":3,\"completion_tokens\":4}, \"choices\": []}\n\n",
      out);
  relay->finish(true, out);
  EXPECT_EQ(out, "data: " + quoted + "\n\ndata: [DONE]\n\n");
  EXPECT_EQ(relay->usage(), (Usage{.prompt_tokens = 3, .completion_tokens = 4}));
}

TEST(OpenAiUsage, NothingFollowsDone) {
  // An upstream that goes on after [DONE] (the fuzzer found one): the client's stream is over.
  auto relay = makeUsageRelayStream("azure-openai");
  std::string out;
  relay->feed("data: {\"choices\":[]}\n\ndata: [DONE]\n\ndata: {\"late\":1}\n\n", out);
  relay->feed("data: {\"later\":2}\n\n", out);
  relay->finish(false, out);
  EXPECT_EQ(out, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
}

TEST(OpenAiUsage, DataSplitOverLinesGoesOutOnOne) {
  auto relay = makeUsageRelayStream("openai");
  std::string out;
  relay->feed("event: chunk\ndata:\ndata: {\"choices\":\ndata: []}\n\n", out);
  relay->finish(true, out);
  EXPECT_EQ(out, "event: chunk\ndata:  {\"choices\": []}\n\ndata: [DONE]\n\n");
}

TEST(OpenAiUsage, ABrokenRelayedStreamEndsWithAnErrorEvent) {
  // A stream that breaks: what was whole went out, then an error event, no [DONE].
  auto relay = makeUsageRelayStream("openai");
  std::string out;
  relay->feed(kAskedStream.substr(0, kAskedStream.find("data: {", 10) + 20), out);
  relay->finish(false, out);
  EXPECT_TRUE(out.starts_with(kClientStream.substr(0, kClientStream.find("data: {", 10))));
  EXPECT_NE(out.find("event: error\ndata: {\"error\":{"), std::string::npos) << out;
  EXPECT_NE(out.find("\"message\":\"openai error: "), std::string::npos) << out;
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_FALSE(relay->usage().has_value());
  std::string after;
  relay->feed("data: {}\n\n", after);
  relay->finish(true, after);
  EXPECT_EQ(after, "");  // nothing after the end
}

}  // namespace
}  // namespace portico::providers
