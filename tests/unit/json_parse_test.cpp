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

// simdjson reads these first and refuses what nests too deep itself; its limit must be the
// depth scan's, for objects and arrays alike.
TEST(JsonParse, TheFastPathKeepsTheDepthLimit) {
  for (std::size_t depth : {kMaxJsonDepth - 1, kMaxJsonDepth, kMaxJsonDepth + 1}) {
    std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    std::string objects;
    for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
    objects += "1" + std::string(depth, '}');
    std::string mixed =
        "{\"x\":" + std::string(depth - 1, '[') + "\"s\"" + std::string(depth - 1, ']') + "}";
    for (const std::string& doc : {arrays, objects, mixed}) {
      EXPECT_EQ(parseJson(doc).is_discarded(), depth > kMaxJsonDepth) << depth << " " << doc;
    }
  }
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

// parseJson builds small documents from simdjson's reading and leaves the rest to nlohmann: the
// tree, the value types and what is refused must be nlohmann's own either way.
TEST(JsonParse, TheTreeIsTheOneNlohmannBuilds) {
  const std::string big = "[\"" + std::string(300 * 1024, 'x') + "\",1]";  // past simdjson's share
  for (const std::string& text :
       {std::string(
            R"({"model":"m","messages":[{"role":"user","content":"Hi \u00e9\ud83d\ude00"}]})"),
        std::string(R"({"a":1,"a":2,"b":{"c":[true,false,null]}})"),  // the last repeated key wins
        std::string(R"([0,-0,-0.0,1.5e-400,9223372036854775807,18446744073709551615])"),
        std::string(R"([18446744073709551616,-9223372036854775809,1E2,0.1])"),  // beyond 64 bits
        std::string("\"a\\u0000b\""), std::string(" 7 "), std::string("[[],{},\"\"]"), big}) {
    const auto ours = parseJson(text);
    const auto theirs = nlohmann::json::parse(text);
    ASSERT_FALSE(ours.is_discarded()) << text.substr(0, 80);
    EXPECT_EQ(ours, theirs) << text.substr(0, 80);
    EXPECT_EQ(ours.dump(), theirs.dump()) << text.substr(0, 80);
  }
  // Integer kinds survive: signed stays signed, past int64 is unsigned, past uint64 a double.
  const auto numbers = parseJson("[-1,18446744073709551615,18446744073709551616]");
  EXPECT_TRUE(numbers[0].is_number_integer() && !numbers[0].is_number_unsigned());
  EXPECT_TRUE(numbers[1].is_number_unsigned());
  EXPECT_TRUE(numbers[2].is_number_float());
  for (const char* text :
       {"1e400", "[1,]", "{\"a\":\"\xff\"}", "\"\x01\"", "  ", "[1] [2]", "{'a':1}"}) {
    EXPECT_TRUE(parseJson(text).is_discarded()) << text;
    EXPECT_FALSE(nlohmann::json::accept(text)) << text;
  }
}

}  // namespace
}  // namespace portico
