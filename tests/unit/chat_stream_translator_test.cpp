#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "portico/openai_stream.hpp"

namespace portico::openai {
namespace {

using nlohmann::json;

// Exposes the emit helpers; a provider translator calls them from onBytes.
class Probe final : public ChatStreamTranslator {
 public:
  explicit Probe(const ClientRequest& request)
      : ChatStreamTranslator("anthropic", request, "fallback-id") {}

  std::string viaTree(std::string_view text) {
    std::string out;
    emit(out, {{"content", text}});
    return out;
  }
  std::string viaTemplate(std::string_view text) {
    std::string out;
    emitContent(out, text);
    return out;
  }
  using ChatStreamTranslator::setId;
  using ChatStreamTranslator::setModel;

 protected:
  void onBytes(std::string_view, std::string&) override {}
};

const std::vector<std::string> kTexts = {
    "",
    "Hello",
    "quote \" backslash \\ slash /",
    "line\nbreak\r\ttab \x01 control",
    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80",
    "broken \xff\xfe utf-8",  // replaced, as dump(replace) does
    std::string("nul \0 inside", 12),
    "\"delta\":{\"content\":\"\"}",  // the template's own marker, as text
};

TEST(ChatStreamTranslator, EmitContentWritesWhatEmitWrites) {
  json body = {{"model", "claude-sonnet-4-5"}, {"stream", true}};
  ClientRequest request;
  request.body = &body;
  request.now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  Probe probe(request);
  for (const auto& text : kTexts) {
    EXPECT_EQ(probe.viaTemplate(text), probe.viaTree(text)) << text;
  }
  // The id and model the upstream names later, with characters JSON escapes, replace the
  // template's.
  probe.setId("msg_\"01\"\\");
  probe.setModel("model \"with\": {\"delta\":{\"content\":\"\"}}");
  for (const auto& text : kTexts) {
    EXPECT_EQ(probe.viaTemplate(text), probe.viaTree(text)) << text;
  }
  const std::string chunk = probe.viaTemplate("hi");
  ASSERT_EQ(chunk.rfind("data: ", 0), 0u);
  const json parsed = json::parse(chunk.substr(6));
  EXPECT_EQ(parsed["id"], "msg_\"01\"\\");
  EXPECT_EQ(parsed["choices"][0]["delta"]["content"], "hi");
}

}  // namespace
}  // namespace portico::openai
