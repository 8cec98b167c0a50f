#include <gtest/gtest.h>

#include "routing/conditions.hpp"

namespace portico::routing {
namespace {

using nlohmann::json;

class RoutingConditions : public ::testing::Test {
 protected:
  json metadata = {
      {"tier", "pro"}, {"org", {{"team", {{"name", "search"}, {"size", 12}}}}}, {"score", "7.5"}};
  json params = {{"model", "gpt-4o-mini"},
                 {"temperature", 0.2},
                 {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};

  ConditionContext context() { return {metadata, params, "/v1/chat/completions"}; }

  bool matches(const char* query) {
    auto result = evaluateQuery(json::parse(query), context());
    EXPECT_TRUE(result.has_value()) << (result.has_value() ? "" : result.error().body.dump());
    return result.has_value() && *result;
  }

  std::string errorOf(const char* query) {
    auto result = evaluateQuery(json::parse(query), context());
    if (result.has_value()) {
      return "no error";
    }
    EXPECT_EQ(result.error().status, 400);
    return result.error().body.value("message", "");
  }
};

TEST_F(RoutingConditions, PlainValuesAndEquality) {
  EXPECT_TRUE(matches(R"({"metadata.tier":"pro"})"));
  EXPECT_FALSE(matches(R"({"metadata.tier":"free"})"));
  EXPECT_TRUE(matches(R"({"metadata.tier":{"$eq":"pro"}})"));
  EXPECT_TRUE(matches(R"({"metadata.tier":{"$ne":"free"}})"));
  EXPECT_TRUE(matches(R"({"metadata.missing":{"$ne":"free"}})"));
  EXPECT_FALSE(matches(R"({"metadata.missing":{"$eq":null}})"));
  EXPECT_TRUE(matches(R"({"url.pathname":"/v1/chat/completions"})"));
  EXPECT_FALSE(matches(R"({"other.tier":"pro"})"));
}

TEST_F(RoutingConditions, DottedKeysAtAnyDepth) {
  EXPECT_TRUE(matches(R"({"metadata.org.team.name":"search"})"));
  EXPECT_TRUE(matches(R"({"metadata.org.team.size":{"$gte":12}})"));
  EXPECT_FALSE(matches(R"({"metadata.org.team.name.more":"search"})"));
  EXPECT_TRUE(matches(R"({"params.messages.0.role":"user"})"));
  EXPECT_FALSE(matches(R"({"params.messages.1.role":"user"})"));
}

TEST_F(RoutingConditions, NumericComparisonsParseFloats) {
  EXPECT_TRUE(matches(R"({"metadata.score":{"$gt":7}})"));
  EXPECT_TRUE(matches(R"({"metadata.score":{"$lt":"8"}})"));
  EXPECT_TRUE(matches(R"({"params.temperature":{"$gte":0.2,"$lte":0.2}})"));
  EXPECT_FALSE(matches(R"({"metadata.tier":{"$gt":1}})"));  // NaN compares false
  EXPECT_FALSE(matches(R"({"metadata.nothing":{"$lt":1}})"));
}

TEST_F(RoutingConditions, InAndNotIn) {
  EXPECT_TRUE(matches(R"({"metadata.tier":{"$in":["pro","enterprise"]}})"));
  EXPECT_FALSE(matches(R"({"metadata.tier":{"$nin":["pro","enterprise"]}})"));
  EXPECT_TRUE(matches(R"({"params.model":{"$nin":["gpt-4o"]}})"));
  EXPECT_FALSE(matches(R"({"metadata.tier":{"$in":"pro"}})"));
}

TEST_F(RoutingConditions, RegexDoesNotShortCircuitOtherOperators) {
  EXPECT_TRUE(matches(R"({"params.model":{"$regex":"^gpt-4o"}})"));
  EXPECT_FALSE(matches(R"({"params.model":{"$regex":"^claude"}})"));
  // Portkey returns at $regex and ignores the operators after it; every operator must hold.
  EXPECT_FALSE(matches(R"({"params.model":{"$regex":"^gpt","$eq":"gpt-4o"}})"));
  EXPECT_FALSE(matches(R"({"metadata.absent":{"$regex":".*"}})"));
}

TEST_F(RoutingConditions, AndOrAndEveryKeyMustHold) {
  EXPECT_TRUE(matches(R"({"$or":[{"metadata.tier":"free"},{"params.model":"gpt-4o-mini"}]})"));
  EXPECT_FALSE(matches(R"({"$or":[{"metadata.tier":"free"},{"params.model":"x"}]})"));
  EXPECT_TRUE(matches(R"({"$and":[{"metadata.tier":"pro"},{"params.model":"gpt-4o-mini"}]})"));
  EXPECT_FALSE(matches(R"({"$and":[{"metadata.tier":"pro"},{"params.model":"x"}]})"));
  // $or does not end the evaluation of the other keys of the query.
  EXPECT_FALSE(matches(R"({"$or":[{"metadata.tier":"pro"}],"params.model":"x"})"));
  EXPECT_TRUE(matches(
      R"({"$or":[{"$and":[{"metadata.tier":"pro"},{"metadata.org.team.size":{"$gt":10}}]}]})"));
}

TEST_F(RoutingConditions, ErrorsAre400s) {
  EXPECT_EQ(errorOf(R"({"metadata.tier":{"$foo":1}})"),
            "Unsupported operator used in the query router: $foo");
  EXPECT_EQ(errorOf(R"({"$nor":[]})"), "Unsupported operator used in the query router: $nor");
  EXPECT_EQ(errorOf(R"({"params.model":{"$regex":"(unclosed"}})"),
            "Invalid regular expression in the query router: (unclosed");
  EXPECT_NE(errorOf(R"({"$or":{"a":1}})"), "no error");
}

ConfigNode conditionalNode() {
  ConfigNode node;
  node.mode = "conditional";
  for (const char* name : {"fast", "smart", "cheap"}) {
    ConfigNode leaf;
    leaf.provider = "openai";
    leaf.name = name;
    node.targets.push_back(leaf);
  }
  node.conditions.push_back({json::parse(R"({"metadata.tier":"free"})"), "cheap"});
  node.conditions.push_back({json::parse(R"({"metadata.tier":"pro"})"), "smart"});
  node.default_target = "fast";
  return node;
}

TEST_F(RoutingConditions, FirstMatchingConditionPicksTheNamedTarget) {
  auto node = conditionalNode();
  auto chosen = chooseConditionalTarget(node, context());
  ASSERT_TRUE(chosen.has_value());
  EXPECT_EQ(*chosen, 1u);
  metadata["tier"] = "free";
  EXPECT_EQ(chooseConditionalTarget(node, context()).value(), 2u);
  metadata["tier"] = "other";
  EXPECT_EQ(chooseConditionalTarget(node, context()).value(), 0u);  // default
}

TEST_F(RoutingConditions, RouterErrorsUsePortkeysMessages) {
  auto node = conditionalNode();
  node.conditions[1].then = "nope";
  auto bad_then = chooseConditionalTarget(node, context());
  ASSERT_FALSE(bad_then.has_value());
  EXPECT_EQ(bad_then.error().status, 400);
  EXPECT_EQ(bad_then.error().body["message"],
            "Invalid target name found in the query router: nope");

  node = conditionalNode();
  metadata["tier"] = "other";
  node.default_target.clear();
  auto unresolved = chooseConditionalTarget(node, context());
  ASSERT_FALSE(unresolved.has_value());
  EXPECT_EQ(unresolved.error().body["message"], "Query router did not resolve to any valid target");

  node.default_target = "ghost";
  EXPECT_EQ(chooseConditionalTarget(node, context()).error().body["message"],
            "Invalid target name found in the query router: ghost");

  node.conditions.clear();
  EXPECT_EQ(chooseConditionalTarget(node, context()).error().body["message"],
            "No conditions passed in the query router");
}

}  // namespace
}  // namespace portico::routing
