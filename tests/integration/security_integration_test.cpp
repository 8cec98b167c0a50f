// Attacks on the gateway over real loopback sockets, one per hole it once had: header
// injection into upstream requests, deeply nested JSON, custom hosts whose DNS answer is
// private, Transfer-Encoding smuggling, forwarded hop-by-hop headers, memory amplification,
// errors glued to half an SSE event, and compressed answers.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_data.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const std::string kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]})";
const std::string kCompletion =
    R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},)"
    R"("finish_reason":"stop"}]})";

FakeResponse completion(const RecordedRequest&) { return FakeResponse::json(200, kCompletion); }

Headers openAiHeaders(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "openai"},
          {"x-portkey-api-key", "sk-test"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
}

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string errorMessage(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.contains("error") && parsed["error"].is_object()) {
    return parsed["error"].value("message", "");
  }
  return parsed.value("message", "");
}

// 1. A config string that becomes a header must not carry CR LF into the upstream request.
TEST(SecurityHeaderInjection, ConfigValuesWithCrLfAreRefusedBeforeAnyByteIsSent) {
  FakeUpstream upstream(completion);
  TestGateway gateway;
  const std::string smuggle =
      "sk-a\r\nContent-Length: 0\r\n\r\nPOST /v1/smuggled HTTP/1.1\r\nHost: x\r\nX-Pad: ";
  for (const char* field : {"api_key", "openai_organization", "openai_project"}) {
    json config = {{"provider", "openai"},
                   {"api_key", "sk-test"},
                   {"custom_host", upstream.baseUrl() + "/v1"}};
    config[field] = smuggle;
    auto response = postJson(gateway.port(), "/v1/chat/completions",
                             {{"x-portkey-config", config.dump()}}, kChatBody);
    EXPECT_EQ(response.status, 400) << field << ": " << response.body;
    EXPECT_NE(errorMessage(response.body).find("not allowed in HTTP"), std::string::npos)
        << response.body;
    EXPECT_EQ(response.body.find("sk-a"), std::string::npos) << "the value is never echoed";
  }
  json anthropic = {{"provider", "anthropic"},
                    {"api_key", "sk-ant"},
                    {"custom_host", upstream.baseUrl() + "/v1"},
                    {"anthropic_version", "2023-06-01\nx-injected: 1"}};
  auto response = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", anthropic.dump()}}, kChatBody);
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(upstream.requestCount(), 0u);

  // The pooled connection is clean: the next client gets its own answer, and the upstream saw
  // exactly one request.
  auto clean = postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(upstream), kChatBody);
  EXPECT_EQ(clean.status, 200) << clean.body;
  EXPECT_EQ(json::parse(clean.body)["id"], "chatcmpl-1");
  ASSERT_EQ(upstream.requestCount(), 1u);
  EXPECT_EQ(upstream.lastRequest()->path(), "/v1/chat/completions");
}

// 2. 80,000 nested arrays used to overflow the stack wherever a body was re-serialised.
TEST(SecurityDeepJson, DeeplyNestedBodiesConfigsAndAnswersAreRefusedNotFatal) {
  FakeUpstream upstream(completion);
  TestGateway gateway;
  const std::string deep = nested(80'000);
  const std::string body =
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"x":)" + deep + "}";
  json config = {{"provider", "openai"},
                 {"api_key", "sk-test"},
                 {"custom_host", upstream.baseUrl() + "/v1"},
                 {"override_params", {{"temperature", 0}}},
                 {"cache", {{"mode", "simple"}}}};
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", {{"x-portkey-config", config.dump()}}, body);
  EXPECT_EQ(response.status, 400) << response.body.substr(0, 300);
  EXPECT_NE(response.body.find("128 levels"), std::string::npos);

  auto metadata = postJson(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-provider", "openai"},
                            {"x-portkey-api-key", "sk-test"},
                            {"x-portkey-custom-host", upstream.baseUrl() + "/v1"},
                            {"x-portkey-metadata", R"({"a":)" + nested(5'000) + "}"}},
                           kChatBody);
  EXPECT_EQ(metadata.status, 200) << "metadata that does not parse is ignored, as Portkey does";
  auto deep_config = postJson(
      gateway.port(), "/v1/chat/completions",
      {{"x-portkey-config", R"({"provider":"openai","x":)" + nested(10'000) + "}"}}, kChatBody);
  EXPECT_EQ(deep_config.status, 400);
  EXPECT_EQ(upstream.requestCount(), 1u);  // only the request with the ignored metadata

  // A hostile upstream answers 400 with such a body: no client needed to trigger it.
  FakeUpstream hostile(
      [&](const RecordedRequest&) { return FakeResponse::json(400, R"({"error":)" + deep + "}"); });
  auto answered =
      postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(hostile), kChatBody);
  EXPECT_EQ(answered.status, 400);
  EXPECT_TRUE(json::parse(answered.body, nullptr, false).is_object());
  EXPECT_EQ(httpRequest(gateway.port(), "GET", "/health").status, 200);
}

// 3. The guard judges the addresses a custom host resolves to, not only its name.
TEST(SecurityCustomHostDns, NamesResolvingToPrivateOrMetadataAddressesAreNotConnected) {
  FakeUpstream upstream(completion);
  ServerOptions options = TestGateway::defaultOptions();
  options.trusted_custom_hosts = {"some-other-host.example"};
  options.static_hosts = {{"loopback-alias.example.com", "127.0.0.1"},
                          {"private-alias.example.com", "10.0.0.5"},
                          {"metadata-alias.example.com", "169.254.169.254"}};
  TestGateway gateway(options);
  for (const char* host :
       {"loopback-alias.example.com", "private-alias.example.com", "metadata-alias.example.com"}) {
    const std::string url =
        "http://" + std::string(host) + ":" + std::to_string(upstream.port()) + "/v1";
    auto response = postJson(gateway.port(), "/v1/chat/completions",
                             {{"x-portkey-provider", "openai"},
                              {"x-portkey-api-key", "sk-test"},
                              {"x-portkey-custom-host", url}},
                             kChatBody);
    EXPECT_EQ(response.status, 400) << host << ": " << response.body;
    EXPECT_NE(response.body.find("custom-host policy"), std::string::npos) << response.body;
  }
  EXPECT_EQ(upstream.connectionCount(), 0u);

  // The same name is connected to once its address is trusted: the refusal above was the
  // address check, not a broken lookup.
  ServerOptions trusting = options;
  trusting.trusted_custom_hosts = {"127.0.0.1"};
  TestGateway trusting_gateway(trusting);
  auto response =
      postJson(trusting_gateway.port(), "/v1/chat/completions",
               {{"x-portkey-provider", "openai"},
                {"x-portkey-api-key", "sk-test"},
                {"x-portkey-custom-host",
                 "http://loopback-alias.example.com:" + std::to_string(upstream.port()) + "/v1"}},
               kChatBody);
  EXPECT_EQ(response.status, 200) << response.body;
}

// 4. Transfer-Encoding other than exactly "chunked" is refused and the connection closed, so
// the body's bytes never run as a second request.
TEST(SecurityTransferEncoding, CodingsOtherThanChunkedAre400Or501AndClose) {
  FakeUpstream upstream(completion);
  TestGateway gateway;
  const std::string headers =
      "x-portkey-provider: openai\r\nx-portkey-api-key: sk-test\r\n"
      "x-portkey-custom-host: " +
      upstream.baseUrl() + "/v1\r\ncontent-type: application/json\r\n";
  const std::string smuggled = "POST /v1/SMUGGLED/chat/completions HTTP/1.1\r\nHost: x\r\n" +
                               headers + "content-length: " + std::to_string(kChatBody.size()) +
                               "\r\n\r\n" + kChatBody;
  const std::pair<std::string, std::string> cases[] = {{"chunked, identity", "HTTP/1.1 400"},
                                                       {"xchunked", "HTTP/1.1 400"},
                                                       {"identity", "HTTP/1.1 400"},
                                                       {"gzip, chunked", "HTTP/1.1 501"}};
  for (const auto& [coding, status] : cases) {
    const std::string raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + headers +
                            "transfer-encoding: " + coding + "\r\n\r\n" + smuggled;
    const std::string answer = rawExchange(gateway.port(), raw);
    EXPECT_EQ(answer.rfind(status, 0), 0u) << coding << ": " << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 8), std::string::npos) << "one answer, then close";
  }
  EXPECT_EQ(upstream.requestCount(), 0u);

  // Exactly chunked (any case) is the one coding accepted.
  const std::string chunked_body = [&] {
    std::ostringstream hex;
    hex << std::hex << kChatBody.size();
    return hex.str() + "\r\n" + kChatBody + "\r\n0\r\n\r\n";
  }();
  const std::string answer = rawExchange(
      gateway.port(), "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + headers +
                          "connection: close\r\ntransfer-encoding: Chunked\r\n\r\n" + chunked_body);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_EQ(upstream.requestCount(), 1u);
}

// 5. x-portkey-forward-headers copies end-to-end headers only, and never replaces the
// provider key the gateway sets.
TEST(SecurityForwardHeaders, HopByHopHostAndAuthNamesAreNotForwarded) {
  FakeUpstream upstream(completion);
  TestGateway gateway;
  // The provider key comes from the config, so the client's Authorization is not a key here.
  json config = {
      {"provider", "openai"}, {"api_key", "sk-test"}, {"custom_host", upstream.baseUrl() + "/v1"}};
  Headers headers = {{"x-portkey-config", config.dump()}};
  headers.emplace_back("x-portkey-forward-headers",
                       "host, te, upgrade, connection, content-length, authorization, x-team");
  headers.emplace_back("authorization", "Bearer client-token");
  headers.emplace_back("te", "trailers");
  headers.emplace_back("x-team", "blue");
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kChatBody);
  ASSERT_EQ(response.status, 200) << response.body;
  auto seen = *upstream.lastRequest();
  int hosts = 0;
  for (const auto& [name, value] : seen.headers) {
    hosts += name == "host" ? 1 : 0;
  }
  EXPECT_EQ(hosts, 1);
  EXPECT_EQ(seen.header("host"), "127.0.0.1:" + std::to_string(upstream.port()));
  EXPECT_FALSE(seen.hasHeader("te"));
  EXPECT_FALSE(seen.hasHeader("upgrade"));
  EXPECT_EQ(seen.header("authorization"), "Bearer sk-test");
  EXPECT_EQ(seen.header("x-team"), "blue");
}

// 6. Non-streamed answers are held whole: each is capped, and so is their sum.
TEST(SecurityMemory, BufferedAnswersAreCappedEachAndAltogether) {
  const std::string big(200 * 1024, 'x');
  FakeUpstream upstream([&](const RecordedRequest& r) {
    return FakeResponse::json(200,
                              r.path() == "/v1/big" ? R"({"pad":")" + big + R"("})" : kCompletion);
  });
  ServerOptions options = TestGateway::defaultOptions();
  options.max_upstream_body_bytes = 64 * 1024;
  TestGateway gateway(options);
  Headers headers = openAiHeaders(upstream);
  auto capped = httpRequest(gateway.port(), "GET", "/v1/big", headers);
  EXPECT_EQ(capped.status, 502) << capped.body;
  EXPECT_NE(capped.body.find("too large"), std::string::npos);

  ServerOptions tight = TestGateway::defaultOptions();
  tight.max_upstream_body_bytes = 1024 * 1024;
  tight.max_buffered_upstream_bytes = 128 * 1024;
  TestGateway tight_gateway(tight);
  auto refused = httpRequest(tight_gateway.port(), "GET", "/v1/big", headers);
  EXPECT_EQ(refused.status, 502) << refused.body;
  EXPECT_NE(refused.body.find("too many upstream answers"), std::string::npos);
  // The budget was given back: small answers still pass, one after another.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(postJson(tight_gateway.port(), "/v1/chat/completions", headers, kChatBody).status,
              200);
  }
}

// 7. An upstream that breaks mid-event: the half event is dropped, the error is its own event.
TEST(SecurityStreams, ErrorAfterABreakIsNeverGluedToAPartialEvent) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({});
    r.chunks = {"data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n",
                "data: {\"id\": \"x\", \"obj"};
    r.cut_after_chunks = true;
    return r;
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(upstream),
                           R"({"model":"gpt-4o-mini","stream":true,"messages":[]})");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body.find("\"objdata"), std::string::npos) << response.body;
  EXPECT_EQ(response.body.find("{\"id\": \"x\""), std::string::npos) << response.body;
  auto payloads = sseData(response.body);
  ASSERT_EQ(payloads.size(), 2u) << response.body;
  EXPECT_EQ(json::parse(payloads[0])["id"], "x");
  json error = json::parse(payloads[1], nullptr, false);
  ASSERT_TRUE(error.is_object()) << payloads[1];
  EXPECT_TRUE(error.contains("error"));
}

// 8. An upstream that compresses despite Accept-Encoding: identity.
TEST(SecurityCompression, GzipAnswersAreDecodedBoundedAndOthersRefused) {
  const std::string bomb = gzip(std::string(8 * 1024 * 1024, ' ') + "{}");
  FakeUpstream upstream([&](const RecordedRequest& r) {
    FakeResponse response = FakeResponse::json(200, gzip(kCompletion));
    if (r.path() == "/v1/bomb") {
      response.body = bomb;
    } else if (r.path() == "/v1/brotli") {
      response.body = "not really brotli";
    }
    response.headers.emplace_back("content-encoding", r.path() == "/v1/brotli" ? "br" : "gzip");
    return response;
  });
  ServerOptions options = TestGateway::defaultOptions();
  options.max_upstream_body_bytes = 1024 * 1024;
  TestGateway gateway(options);
  auto decoded =
      postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(upstream), kChatBody);
  ASSERT_EQ(decoded.status, 200) << decoded.body;
  EXPECT_EQ(json::parse(decoded.body)["id"], "chatcmpl-1");
  EXPECT_FALSE(decoded.hasHeader("content-encoding"));

  auto bombed = httpRequest(gateway.port(), "GET", "/v1/bomb", openAiHeaders(upstream));
  EXPECT_EQ(bombed.status, 502) << bombed.body;
  EXPECT_NE(bombed.body.find("too large"), std::string::npos);
  auto brotli = httpRequest(gateway.port(), "GET", "/v1/brotli", openAiHeaders(upstream));
  EXPECT_EQ(brotli.status, 502) << brotli.body;
  EXPECT_NE(brotli.body.find("unsupported content encoding"), std::string::npos);
}

TEST(SecurityCompression, CompressedStreamsAreRefusedWith502) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({"data: {}\n\n"});
    r.headers.emplace_back("content-encoding", "gzip");
    return r;
  });
  TestGateway gateway;
  auto response = postJson(gateway.port(), "/v1/chat/completions", openAiHeaders(upstream),
                           R"({"model":"gpt-4o-mini","stream":true,"messages":[]})");
  EXPECT_EQ(response.status, 502) << response.body;
  EXPECT_NE(response.body.find("compressed its stream"), std::string::npos);
}

}  // namespace
}  // namespace portico::testing
