#include <gtest/gtest.h>

#include <random>

#include "routing/load_balancer.hpp"

namespace portico::routing {
namespace {

std::vector<ConfigNode> weighted(std::vector<double> weights) {
  std::vector<ConfigNode> targets;
  for (double weight : weights) {
    ConfigNode leaf;
    leaf.provider = "openai";
    leaf.weight = weight;
    targets.push_back(leaf);
  }
  return targets;
}

TEST(RoutingLoadBalancer, MapsTheUnitIntervalOntoTheWeights) {
  auto targets = weighted({0.7, 0.3, 0});
  EXPECT_EQ(pickWeighted(targets, 0.0), 0u);
  EXPECT_EQ(pickWeighted(targets, 0.69), 0u);
  EXPECT_EQ(pickWeighted(targets, 0.71), 1u);
  EXPECT_EQ(pickWeighted(targets, 0.999999), 1u);
  EXPECT_EQ(pickWeighted(targets, 1.0), 1u);  // never the weight-0 target
}

TEST(RoutingLoadBalancer, ZeroWeightsAreSkippedWherever) {
  auto targets = weighted({0, 2, 0, 2, 0});
  EXPECT_EQ(pickWeighted(targets, 0.0), 1u);
  EXPECT_EQ(pickWeighted(targets, 0.5), 3u);
  EXPECT_EQ(pickWeighted(targets, 1.0), 3u);
}

TEST(RoutingLoadBalancer, AllZeroChoosesNothing) {
  EXPECT_EQ(pickWeighted(weighted({0, 0}), 0.5), std::nullopt);
  EXPECT_EQ(pickWeighted({}, 0.5), std::nullopt);
}

TEST(RoutingLoadBalancer, DistributionFollowsTheWeights) {
  auto targets = weighted({0.7, 0.3, 0});
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 10000; ++i) {
    ++counts[*pickWeighted(targets, unit(random))];
  }
  EXPECT_NEAR(counts[0], 7000, 300);
  EXPECT_NEAR(counts[1], 3000, 300);
  EXPECT_EQ(counts[2], 0);
}

}  // namespace
}  // namespace portico::routing

#include "routing/fallback_policy.hpp"

namespace portico::routing {
namespace {

TEST(RoutingFallbackPolicy, AnyNon2xxFallsBackByDefault) {
  ConfigNode node;
  node.mode = "fallback";
  for (int status : {400, 401, 404, 408, 429, 500, 502, 503}) {
    EXPECT_TRUE(fallsBack(node, status)) << status;
  }
  for (int status : {200, 201, 204, 246}) {
    EXPECT_FALSE(fallsBack(node, status)) << status;
  }
}

TEST(RoutingFallbackPolicy, OnStatusCodesRestrictsIt) {
  ConfigNode node;
  node.mode = "fallback";
  node.strategy_on_status_codes = {429, 503};
  EXPECT_TRUE(fallsBack(node, 429));
  EXPECT_TRUE(fallsBack(node, 503));
  EXPECT_FALSE(fallsBack(node, 500));
  EXPECT_FALSE(fallsBack(node, 200));
}

}  // namespace
}  // namespace portico::routing
