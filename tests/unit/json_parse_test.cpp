#include "portico/json_parse.hpp"

#include <gtest/gtest.h>

namespace portico {
namespace {

TEST(JsonParse, DepthIsCountedOutsideStringsOnly) {
  EXPECT_TRUE(jsonDepthWithin(R"({"a":[1,{"b":[]}]})", 4));
  EXPECT_FALSE(jsonDepthWithin(R"({"a":[1,{"b":[]}]})", 3));
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"[[[[[[[[[[\"[[[["})", 1));
  EXPECT_TRUE(jsonDepthWithin(R"(["\\", [1]])", 2));
}

TEST(JsonParse, TooDeepIsDiscardedAndTheLimitItselfParses) {
  const std::string at_limit = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  auto ok = parseJson(at_limit);
  ASSERT_FALSE(ok.is_discarded());
  EXPECT_FALSE(ok.dump().empty());
  const std::string over = "[" + at_limit + "]";
  EXPECT_TRUE(parseJson(over).is_discarded());
  EXPECT_TRUE(parseJson(std::string(100'000, '[')).is_discarded());
}

TEST(JsonParse, InvalidJsonIsDiscardedNeverThrown) {
  EXPECT_TRUE(parseJson("{").is_discarded());
  EXPECT_TRUE(parseJson("").is_discarded());
  EXPECT_EQ(parseJson(R"({"a":1})")["a"], 1);
}

TEST(JsonParse, IsJsonAgreesWithTheParserOnEdgeCases) {
  // The relays check chunks with isJson; clients parse them. Whitespace alone is no value (the
  // stream fuzzer found simdjson taking it), nor is invalid UTF-8 or a deep document.
  for (const char* text : {"", "\n", " \t\r\n ", "{", "{\"a\":\"\x9a\"}", "[1,]", "nul"}) {
    EXPECT_FALSE(isJson(text)) << text;
    EXPECT_FALSE(nlohmann::json::accept(text)) << text;
  }
  for (const char* text : {"{}", " {\"a\":[1,2.5,null]} ", "\"s\"", "0"}) {
    EXPECT_TRUE(isJson(text)) << text;
  }
  EXPECT_FALSE(isJson(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']')));
}

}  // namespace
}  // namespace portico
