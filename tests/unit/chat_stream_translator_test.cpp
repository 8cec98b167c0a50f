#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "portico/openai_stream.hpp"
#include "portico/openai_wire.hpp"

namespace portico::openai {
namespace {

using nlohmann::json;

// Exposes the emit helpers (a provider translator calls them from onBytes) and builds each
// chunk the way they once did, as a JSON tree dumped whole, to hold their text to it.
class Probe final : public ChatStreamTranslator {
 public:
  explicit Probe(const ClientRequest& request)
      : ChatStreamTranslator("anthropic", request, "fallback-id") {}

  std::string tree(const json& delta, const json& finish = nullptr, const json& usage = nullptr) {
    json piece = chunk();
    piece["choices"].push_back(
        {{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}});
    if (!usage.is_null()) {
      piece["usage"] = usage;
    }
    return sseData(piece);
  }
  std::string text(const json& delta, const json& finish = nullptr, const json& usage = nullptr) {
    std::string out;
    emit(out, delta, finish, usage);
    return out;
  }
  std::string content(std::string_view text) {
    std::string out;
    emitContent(out, text);
    return out;
  }
  std::string ended() {
    std::string out;
    end(out);
    return out;
  }
  using ChatStreamTranslator::chunk;
  using ChatStreamTranslator::ensureStarted;
  using ChatStreamTranslator::setId;
  using ChatStreamTranslator::setModel;
  using ChatStreamTranslator::setUsage;

 protected:
  void onBytes(std::string_view, std::string&) override {}
};

const std::vector<std::string> kTexts = {
    "",
    "Hello",
    "quote \" backslash \\ slash /",
    "line\nbreak\r\ttab \x01 control \x7f",
    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
    "broken \xff\xfe utf-8",  // replaced, as dump(replace) does
    std::string("nul \0 inside", 12),
    "\"delta\":{\"content\":\"\"}",
};

const json kUsage = {{"prompt_tokens", 3}, {"completion_tokens", 5}, {"total_tokens", 8}};

void expectChunksAsTrees(Probe& probe) {
  for (const auto& text : kTexts) {
    EXPECT_EQ(probe.content(text), probe.tree({{"content", text}})) << text;
    EXPECT_EQ(probe.text({{"content", text}}), probe.tree({{"content", text}})) << text;
  }
  EXPECT_EQ(probe.text({{"role", "assistant"}, {"content", ""}}),
            probe.tree({{"role", "assistant"}, {"content", ""}}));
  EXPECT_EQ(probe.text(json::object(), "stop", kUsage), probe.tree(json::object(), "stop", kUsage));
  const json tool = {
      {"tool_calls",
       json::array({{{"index", 0},
                     {"id", "toolu_1"},
                     {"type", "function"},
                     {"function", {{"name", "get_weather"}, {"arguments", "{\"a\":1}"}}}}})}};
  EXPECT_EQ(probe.text(tool, "tool_calls"), probe.tree(tool, "tool_calls"));
}

ClientRequest requestFor(const json& body) {
  ClientRequest request;
  request.body = &body;
  request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  return request;
}

TEST(ChatStreamTranslator, ChunksReadAsTheTreesTheyStandFor) {
  const json body = {{"model", "claude-sonnet-4-5"}, {"stream", true}};
  Probe probe(requestFor(body));
  expectChunksAsTrees(probe);
  // The id and model the upstream names later, with characters JSON escapes, replace the
  // first ones in every chunk after.
  probe.setId("msg_\"01\"\\");
  probe.setModel("model \"with\": {\"choices\":[]}");
  expectChunksAsTrees(probe);
  const json parsed = json::parse(probe.content("hi").substr(6));
  EXPECT_EQ(parsed["id"], "msg_\"01\"\\");
  EXPECT_EQ(parsed["model"], "model \"with\": {\"choices\":[]}");
  EXPECT_EQ(parsed["choices"][0]["delta"]["content"], "hi");
}

TEST(ChatStreamTranslator, TheIncludeUsageChunkReadsAsItsTree) {
  const json body = {
      {"model", "m"}, {"stream", true}, {"stream_options", {{"include_usage", true}}}};
  Probe probe(requestFor(body));
  std::string started;
  probe.ensureStarted(started);
  probe.setUsage(kUsage);
  json usage_chunk = probe.chunk();
  usage_chunk["usage"] = kUsage;
  EXPECT_EQ(probe.ended(), sseData(usage_chunk) + sseDone());
}

}  // namespace
}  // namespace portico::openai
