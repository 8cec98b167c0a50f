// With tracing off, the gateway passes a caller's well-formed trace context on upstream and
// nothing else: a malformed traceparent is dropped, and a tracestate with odd bytes is left out
// rather than failing the request.
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

const std::string kChat = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";
const std::string kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

Headers callHeaders(const FakeUpstream& upstream, Headers extra) {
  Headers headers = {{"x-portkey-provider", "openai"},
                     {"x-portkey-api-key", "sk-test"},
                     {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return headers;
}

TEST(TracePropagation, AWellFormedTraceparentAndTracestatePassThrough) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  const auto answer = postJson(
      gateway.port(), "/v1/chat/completions",
      callHeaders(upstream, {{"traceparent", kParent}, {"tracestate", "vendor=abc"}}), kChat);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(upstream.lastRequest()->header("traceparent"), kParent);
  EXPECT_EQ(upstream.lastRequest()->header("tracestate"), "vendor=abc");
}

TEST(TracePropagation, AMalformedTraceparentIsDroppedAndOddTracestateLeftOut) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  auto answer = postJson(gateway.port(), "/v1/chat/completions",
                         callHeaders(upstream, {{"traceparent", "00-zz-not-a-trace"}}), kChat);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_FALSE(upstream.lastRequest()->hasHeader("traceparent"));

  answer = postJson(gateway.port(), "/v1/chat/completions",
                    callHeaders(upstream, {{"traceparent", kParent}, {"tracestate", "v=\x80\xff"}}),
                    kChat);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(upstream.lastRequest()->header("traceparent"), kParent);
  EXPECT_FALSE(upstream.lastRequest()->hasHeader("tracestate"));
}

TEST(TracePropagation, NoTraceparentFromTheCallerSendsNoneWhenTracingIsOff) {
  FakeUpstream upstream([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); });
  TestGateway gateway;
  const auto answer =
      postJson(gateway.port(), "/v1/chat/completions", callHeaders(upstream, {}), kChat);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_FALSE(upstream.lastRequest()->hasHeader("traceparent"));
}

}  // namespace
}  // namespace portico::testing
