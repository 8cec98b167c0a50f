// The real OTLP poster over loopback: plain and TLS (test CA, host name checked), what it
// sends, bounded answers, and failures (refused, silent, bad certificate) that end within the
// timeout and never quote a header value.
#include "upstream/otlp_http_post.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "support/fake_upstream.hpp"

namespace portico::testing {
namespace {

using namespace std::chrono_literals;
using telemetry::PostHeaders;
using telemetry::PostResult;

const PostHeaders kHeaders = {{"content-type", "application/json"}, {"api-key", "secret-value"}};

unsigned short closedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();  // closed again when the acceptor goes
}

TEST(OtlpHttpPost, PostsTheBodyAndHeadersOverPlainHttp) {
  FakeUpstream collector(
      [](const RecordedRequest&) { return FakeResponse::json(200, R"({"partialSuccess":{}})"); });
  auto post = upstream::makeOtlpHttpPoster();
  PostHeaders headers = kHeaders;
  headers.emplace_back("Host", "evil.example");  // framing is the poster's
  PostResult result =
      post(collector.baseUrl() + "/v1/traces?tenant=a", headers, R"({"resourceSpans":[]})", 5s);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, R"({"partialSuccess":{}})");
  EXPECT_TRUE(result.error.empty());
  auto request = collector.lastRequest();
  ASSERT_TRUE(request);
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->target, "/v1/traces?tenant=a");
  EXPECT_EQ(request->header("content-type"), "application/json");
  EXPECT_EQ(request->header("api-key"), "secret-value");
  EXPECT_EQ(request->header("host"), "127.0.0.1:" + std::to_string(collector.port()));
  EXPECT_EQ(request->body, R"({"resourceSpans":[]})");
}

TEST(OtlpHttpPost, PassesTheCollectorsStatusOn) {
  FakeUpstream collector(
      [](const RecordedRequest&) { return FakeResponse::json(503, R"({"code":14})"); });
  PostResult result =
      upstream::makeOtlpHttpPoster()(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 5s);
  EXPECT_EQ(result.status, 503);
}

TEST(OtlpHttpPost, VerifiesTlsWithTheGivenCa) {
  FakeUpstream collector([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); },
                         TlsMode::kTls);
  auto trusting = upstream::makeOtlpHttpPoster({.ca_file = testCaFile()});
  EXPECT_EQ(trusting(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 5s).status, 200);

  // The system store does not know the test CA.
  PostResult untrusted =
      upstream::makeOtlpHttpPoster()(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 5s);
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_NE(untrusted.error.find("TLS handshake"), std::string::npos) << untrusted.error;
}

TEST(OtlpHttpPost, RefusesACertificateForAnotherName) {
  FakeUpstream collector([](const RecordedRequest&) { return FakeResponse::json(200, "{}"); },
                         TlsMode::kTlsWrongName);
  auto post = upstream::makeOtlpHttpPoster({.ca_file = testCaFile()});
  PostResult result = post(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 5s);
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(collector.requestCount(), 0u);
}

TEST(OtlpHttpPost, AClosedPortFailsAtOnce) {
  const auto started = std::chrono::steady_clock::now();
  PostResult result = upstream::makeOtlpHttpPoster()(
      "http://127.0.0.1:" + std::to_string(closedPort()) + "/v1/traces", kHeaders, "{}", 5s);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("cannot connect"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find("secret-value"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(OtlpHttpPost, ASilentCollectorEndsAtTheTimeout) {
  FakeUpstream collector([](const RecordedRequest&) {
    FakeResponse slow = FakeResponse::json(200, "{}");
    slow.delay_before_headers = 3s;
    return slow;
  });
  const auto started = std::chrono::steady_clock::now();
  PostResult result =
      upstream::makeOtlpHttpPoster()(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("timed out"), std::string::npos) << result.error;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
}

TEST(OtlpHttpPost, ALargeAnswerKeepsItsStatusButNotItsBody) {
  FakeUpstream collector(
      [](const RecordedRequest&) { return FakeResponse::json(200, std::string(100 * 1024, 'x')); });
  auto post = upstream::makeOtlpHttpPoster({.max_answer_bytes = 1024});
  PostResult result = post(collector.baseUrl() + "/v1/traces", kHeaders, "{}", 5s);
  EXPECT_EQ(result.status, 200);
  EXPECT_LE(result.body.size(), 1024u);
}

TEST(OtlpHttpPost, RefusesBadUrlsHeadersAndCaFiles) {
  auto post = upstream::makeOtlpHttpPoster();
  EXPECT_EQ(post("grpc://127.0.0.1:4317", kHeaders, "{}", 1s).status, 0);
  EXPECT_EQ(post("not a url", kHeaders, "{}", 1s).status, 0);
  PostResult injected =
      post("http://127.0.0.1:1/v1/traces", {{"api-key", "secret-value\r\nx: y"}}, "{}", 1s);
  EXPECT_EQ(injected.status, 0);
  EXPECT_EQ(injected.error.find("secret-value"), std::string::npos);
  EXPECT_THROW(upstream::makeOtlpHttpPoster({.ca_file = "/nonexistent/ca.pem"}),
               std::runtime_error);
}

}  // namespace
}  // namespace portico::testing
