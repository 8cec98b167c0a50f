#include "base/router.hpp"

#include <gtest/gtest.h>

namespace portico {
namespace {

TEST(Router, FixedRoutes) {
  EXPECT_EQ(routeRequest("GET", "/").kind, RouteKind::kRoot);
  EXPECT_EQ(routeRequest("HEAD", "/").kind, RouteKind::kRoot);
  EXPECT_EQ(routeRequest("POST", "/").kind, RouteKind::kNotFound);
  EXPECT_EQ(routeRequest("GET", "/health").kind, RouteKind::kHealth);
  EXPECT_EQ(routeRequest("GET", "/v2/x").kind, RouteKind::kNotFound);
}

TEST(Router, UnifiedEndpoints) {
  EXPECT_EQ(routeRequest("POST", "/v1/chat/completions").endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(routeRequest("POST", "/v1/completions").endpoint, Endpoint::kCompletions);
  EXPECT_EQ(routeRequest("POST", "/v1/embeddings?x=1").endpoint, Endpoint::kEmbeddings);
  EXPECT_EQ(routeRequest("POST", "/v1/messages").endpoint, Endpoint::kMessages);
  EXPECT_EQ(routeRequest("POST", "/v1/responses").endpoint, Endpoint::kResponses);
  // Stored responses and token counting are the provider's own: passed through.
  EXPECT_EQ(routeRequest("GET", "/v1/responses/resp_1").endpoint, Endpoint::kPassthrough);
  EXPECT_EQ(routeRequest("POST", "/v1/responses/resp_1/cancel").endpoint, Endpoint::kPassthrough);
  Route count = routeRequest("POST", "/v1/messages/count_tokens");
  EXPECT_EQ(count.endpoint, Endpoint::kPassthrough);
  EXPECT_EQ(count.path, "/messages/count_tokens");
  // GET on a unified path is a passthrough (e.g. listing stored completions).
  EXPECT_EQ(routeRequest("GET", "/v1/chat/completions").endpoint, Endpoint::kPassthrough);
}

TEST(Router, PassthroughKeepsPathAndQuery) {
  Route route = routeRequest("GET", "/v1/models?limit=2&after=x");
  EXPECT_EQ(route.kind, RouteKind::kGateway);
  EXPECT_EQ(route.endpoint, Endpoint::kPassthrough);
  EXPECT_EQ(route.path, "/models");
  EXPECT_EQ(route.query, "limit=2&after=x");
  EXPECT_EQ(routeRequest("POST", "/v1/proxy/files").path, "/files");
  EXPECT_EQ(routeRequest("DELETE", "/v1/files/f-1").path, "/files/f-1");
  EXPECT_EQ(routeRequest("PUT", "/v1/files/f-1").kind, RouteKind::kNotFound);
  EXPECT_EQ(routeRequest("PATCH", "/v1/files/f-1").kind, RouteKind::kNotFound);
}

}  // namespace
}  // namespace portico
