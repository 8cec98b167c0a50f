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

}  // namespace
}  // namespace portico
