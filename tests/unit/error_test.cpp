#include "portico/error.hpp"

#include <gtest/gtest.h>

namespace portico {
namespace {

// Clients read different members: Portkey's SDK `message`, OpenAI-style SDKs `error.message`.
TEST(GatewayErrors, ValidationErrorsCarryPortkeysMembersAndOpenAisErrorObject) {
  const auto error = errors::missingProvider();
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.body["status"], "failure");
  const std::string message = "Either x-portkey-config or x-portkey-provider header is required";
  EXPECT_EQ(error.body["message"], message);
  EXPECT_EQ(error.body["error"]["message"], message);
  EXPECT_EQ(error.body["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(error.body["error"]["code"].is_string());
  EXPECT_TRUE(errors::invalidConfig({"path: a, message: b"}).body["errors"].is_array());
  EXPECT_EQ(errors::shuttingDown().body["error"]["code"], "service_unavailable");
}

TEST(GatewayErrors, GatewayMadeUpstreamErrorsHaveStringCodes) {
  EXPECT_EQ(errors::upstreamUnreachable("openai", "refused").body["error"]["code"],
            "upstream_unreachable");
  EXPECT_EQ(errors::upstreamTimeout("openai").body["error"]["code"], "upstream_timeout");
  EXPECT_EQ(errors::missingApiKey("openai").body["error"]["code"], "missing_api_key");
  EXPECT_EQ(errors::invalidJsonBody("x").body["error"]["code"], "invalid_json");
  // A provider's numeric code becomes OpenAI's string; strings and null stay as they are.
  EXPECT_EQ(errors::providerError(429, "google", "slow down", "RESOURCE_EXHAUSTED", nullptr, 429)
                .body["error"]["code"],
            "429");
  EXPECT_TRUE(errors::providerError(400, "openai", "x").body["error"]["code"].is_null());
}

TEST(GatewayErrors, NotFoundKeepsPortkeysExactBody) {
  EXPECT_EQ(errors::notFound().body,
            nlohmann::json::parse(R"({"message":"Not Found","ok":false})"));
}

}  // namespace
}  // namespace portico
