// The built binary started as a process and driven over loopback, as a user would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const std::string kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]})";

FakeResponse okAnswer() {
  return FakeResponse::json(200, R"({"id":"c1","object":"chat.completion","choices":[]})");
}

TEST(EndToEnd, SeedExamplesWorkAgainstTheBinary) {
  FakeUpstream upstream([](const RecordedRequest& r) {
    if (r.header("authorization") != "Bearer sk-seed") {
      return FakeResponse::json(401, R"({"error":{"message":"bad key"}})");
    }
    return okAnswer();
  });
  GatewayProcess portico;
  auto by_header = postJson(portico.port(), "/v1/chat/completions",
                            {{"x-portkey-provider", "openai"},
                             {"x-portkey-api-key", "sk-seed"},
                             {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                            kChatBody);
  EXPECT_EQ(by_header.status, 200) << by_header.body;
  json config = {
      {"provider", "openai"}, {"api_key", "sk-seed"}, {"custom_host", upstream.baseUrl() + "/v1"}};
  auto by_config = postJson(portico.port(), "/v1/chat/completions",
                            {{"x-portkey-config", config.dump()}}, kChatBody);
  EXPECT_EQ(by_config.status, 200) << by_config.body;
  EXPECT_EQ(upstream.requestCount(), 2u);
}

TEST(EndToEnd, KeysNeverReachTheLog) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(401, R"({"error":{"message":"bad key"}})");
  });
  GatewayProcess portico({"--log-level", "debug"});
  const std::string key = "sk-very-secret-key-0123456789";
  postJson(portico.port(), "/v1/chat/completions",
           {{"x-portkey-provider", "openai"},
            {"x-portkey-api-key", key},
            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
           kChatBody);
  json config = {{"provider", "openai"}, {"api_key", key}, {"custom_host", "http://10.1.1.1"}};
  auto rejected = postJson(portico.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kChatBody);
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.body.find(key), std::string::npos);
  ASSERT_EQ(portico.terminate(), 0);
  std::string log = portico.output();
  EXPECT_NE(log.find("POST /v1/chat/completions"), std::string::npos) << log;
  EXPECT_EQ(log.find(key), std::string::npos) << log;
}

TEST(EndToEnd, TheAccessLogNamesTheModelAndTheTokens) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(
        200, R"({"id":"c1","object":"chat.completion","choices":[],)"
             R"("usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}})");
  });
  GatewayProcess portico;
  auto response = postJson(portico.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-log"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                           kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(portico.terminate(), 0);
  const std::string log = portico.output();
  EXPECT_NE(log.find("POST /v1/chat/completions provider=openai model=gpt-4o-mini status=200 "
                     "prompt_tokens=11 completion_tokens=4 upstream_ms="),
            std::string::npos)
      << log;
}

TEST(EndToEnd, SigtermLetsInFlightRequestsFinish) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = okAnswer();
    r.delay_before_headers = std::chrono::milliseconds(700);
    return r;
  });
  GatewayProcess portico({"--shutdown-grace-ms", "5000"});
  HttpResponse slow;
  std::thread client([&] {
    slow = postJson(portico.port(), "/v1/chat/completions",
                    {{"x-portkey-provider", "openai"},
                     {"x-portkey-api-key", "k"},
                     {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}},
                    kChatBody);
  });
  ASSERT_TRUE(upstream.waitForRequests(1, std::chrono::seconds(5)));
  EXPECT_EQ(portico.terminate(), 0);
  client.join();
  EXPECT_EQ(slow.status, 200);
  // And it no longer accepts connections.
  EXPECT_THROW(httpRequest(portico.port(), "GET", "/"), std::exception);
}

TEST(EndToEnd, NameEqualsValueFlagsWork) {
  GatewayProcess portico({"--threads=1", "--log-level=warn"});
  EXPECT_EQ(httpRequest(portico.port(), "GET", "/").status, 200);
  EXPECT_EQ(portico.terminate(), 0);
  EXPECT_EQ(portico.output().find("listening"), std::string::npos);  // info lines are off
}

}  // namespace
}  // namespace portico::testing
