// Every registered provider, through the same checks: requests build (or fail with a 4xx),
// hostile answers and hostile stream bytes never throw, and whatever a transformer emits is
// well-formed SSE whose payloads are JSON or [DONE].
#include <gtest/gtest.h>

#include <random>

#include "portico/provider_registry.hpp"

namespace portico {
namespace {

using nlohmann::json;

const ProviderRegistry& registry() {
  static const ProviderRegistry r = [] {
    ProviderRegistry out;
    registerBuiltinProviders(out);
    return out;
  }();
  return r;
}

// A target with every provider's settings filled in, so each adapter gets past its own checks.
Target fullTarget(const std::string& provider) {
  Target target;
  target.provider = provider;
  target.api_key = "key-123";
  target.custom_host = "http://127.0.0.1:9";
  target.options = {{"aws_access_key_id", "AKIDEXAMPLE"},
                    {"aws_secret_access_key", "secret"},
                    {"aws_region", "us-east-1"},
                    {"vertex_project_id", "proj"},
                    {"vertex_region", "us-central1"},
                    {"resource_name", "res"},
                    {"deployment_id", "dep"},
                    {"api_version", "2024-10-21"}};
  return target;
}

struct Holder {
  HeaderList headers;
  json body;
  std::string raw;
  ClientRequest request;
  Holder(Endpoint endpoint, json b) : body(std::move(b)), raw(body.dump()) {
    request.endpoint = endpoint;
    request.path = endpoint == Endpoint::kEmbeddings ? "/embeddings" : "/chat/completions";
    request.headers = &headers;
    request.body = &body;
    request.raw_body = raw;
    request.stream = body.value("stream", false);
  }
};

json chatBody(bool stream) {
  return {{"model", "anthropic.claude-3-haiku-20240307-v1:0"},
          {"stream", stream},
          {"max_tokens", 16},
          {"messages",
           {{{"role", "system"}, {"content", "be brief"}},
            {{"role", "user"}, {"content", "hi"}},
            {{"role", "assistant"},
             {"content", nullptr},
             {"tool_calls",
              {{{"id", "call_1"},
                {"type", "function"},
                {"function", {{"name", "f"}, {"arguments", "{\"a\":1}"}}}}}}},
            {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "42"}}}},
          {"tools",
           {{{"type", "function"},
             {"function", {{"name", "f"}, {"parameters", {{"type", "object"}}}}}}}}};
}

class ProviderConformance : public ::testing::TestWithParam<std::string> {
 protected:
  const ProviderAdapter& adapter() const { return *registry().find(GetParam()); }
};

TEST_P(ProviderConformance, RequestsBuildOrFailAsClientErrors) {
  for (Endpoint endpoint : {Endpoint::kChatCompletions, Endpoint::kEmbeddings}) {
    if (!adapter().supports(endpoint)) {
      continue;
    }
    json body = endpoint == Endpoint::kEmbeddings
                    ? json{{"model", "amazon.titan-embed-text-v2:0"}, {"input", "hi"}}
                    : chatBody(false);
    Holder holder(endpoint, body);
    auto built = adapter().buildRequest(holder.request, fullTarget(GetParam()));
    if (built) {
      EXPECT_FALSE(built->host.empty());
      EXPECT_TRUE(built->target.starts_with("/")) << built->target;
      // The key never travels in the URL.
      EXPECT_EQ(built->target.find("key-123"), std::string::npos) << built->target;
    } else {
      EXPECT_GE(built.error().status, 400);
      EXPECT_LT(built.error().status, 500) << built.error().body.dump();
    }
  }
}

TEST_P(ProviderConformance, HostileAnswersNeverThrowAndKeepErrorStatuses) {
  Holder holder(Endpoint::kChatCompletions, chatBody(false));
  const std::vector<std::string> bodies = {"",
                                           "{}",
                                           "[]",
                                           "null",
                                           "\"text\"",
                                           "{\"error\":5}",
                                           "<html>oops</html>",
                                           std::string(1, '\xff'),
                                           std::string(100, '[') + std::string(100, ']'),
                                           R"({"choices":[{}],"content":[{}],"candidates":[{}]})"};
  for (int status : {200, 400, 429, 500, 503}) {
    for (const auto& body : bodies) {
      MappedResponse mapped;
      ASSERT_NO_THROW(
          mapped = adapter().mapResponse(holder.request, fullTarget(GetParam()),
                                         UpstreamReply{status, "application/json", body, {}}))
          << status << " " << body;
      if (status >= 400) {
        EXPECT_EQ(mapped.status, status) << body;
        EXPECT_FALSE(json::parse(mapped.body, nullptr, false).is_discarded()) << mapped.body;
      }
    }
  }
}

// Checks that `out` is a sequence of "data: <json or [DONE]>" events.
void expectWellFormedSse(const std::string& out, const std::string& provider) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos) << provider << ": unterminated event in " << out;
    std::string event = out.substr(pos, end - pos);
    if (event.starts_with("event: ")) {
      // A named event (errors are `event: error`): one name line, then its data.
      const auto newline = event.find('\n');
      ASSERT_NE(newline, std::string::npos) << provider << ": " << event;
      event.erase(0, newline + 1);
    }
    ASSERT_TRUE(event.rfind("data: ", 0) == 0) << provider << ": " << event;
    std::string data = event.substr(6);
    EXPECT_TRUE(data == "[DONE]" || !json::parse(data, nullptr, false).is_discarded())
        << provider << ": " << data;
    pos = end + 2;
  }
}

TEST_P(ProviderConformance, HostileStreamBytesNeverThrow) {
  Holder holder(Endpoint::kChatCompletions, chatBody(true));
  std::mt19937 random(1234);
  const std::vector<std::string> seeds = {
      "data: {\"choices\":[]}\n\n",
      "event: message_start\ndata: {\"type\":\"message_start\"}\n\n",
      "data: [DONE]\n\n",
      ": ping\r\n\r\n",
      "data: {not json\n\n",
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"x\"}}\n\n",
      std::string("\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb\x7d\x98\xc8\xff", 16),
  };
  for (int round = 0; round < 50; ++round) {
    auto transformer = adapter().makeStreamTransformer(holder.request, fullTarget(GetParam()));
    if (!transformer) {
      return;  // bytes are relayed unchanged
    }
    std::string input;
    for (int i = 0; i < 6; ++i) {
      input += seeds[random() % seeds.size()];
      if (random() % 3 == 0) {
        std::string noise(random() % 40, '\0');
        for (char& c : noise) {
          c = static_cast<char>(random() % 256);
        }
        input += noise;
      }
    }
    std::string out;
    std::size_t pos = 0;
    while (pos < input.size()) {
      std::size_t n = 1 + random() % 17;
      ASSERT_NO_THROW(transformer->feed(std::string_view(input).substr(pos, n), out));
      pos += n;
    }
    ASSERT_NO_THROW(transformer->finish(round % 2 == 0, out));
    expectWellFormedSse(out, GetParam());
  }
}

std::vector<std::string> nativeAndQuirkyIds() {
  std::vector<std::string> ids;
  for (const auto& id : registry().ids()) {
    ids.push_back(id);
  }
  return ids;
}

std::string idName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registry,
                         ProviderConformance,
                         ::testing::ValuesIn(nativeAndQuirkyIds()),
                         idName);

}  // namespace
}  // namespace portico
