// Streaming relay over real sockets: chunk-by-chunk delivery, errors before and after the first
// byte, and cancellation in both directions.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/gate.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const std::string kStreamBody =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})";

std::string chunkEvent(const std::string& text) {
  return "data: " +
         json{{"object", "chat.completion.chunk"},
              {"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}}
             .dump() +
         "\n\n";
}

Headers headersFor(const FakeUpstream& upstream) {
  return {{"x-portkey-provider", "openai"},
          {"x-portkey-api-key", "sk-test"},
          {"x-portkey-custom-host", upstream.baseUrl() + "/v1"}};
}

TEST(Streaming, RelaysBytesUnchangedWithDone) {
  std::vector<std::string> events = {chunkEvent("Hel"), chunkEvent("lo"), "data: [DONE]\n\n"};
  FakeUpstream upstream([&](const RecordedRequest&) { return FakeResponse::sse(events); });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headersFor(upstream),
                           kStreamBody);
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("content-type"), "text/event-stream");
  EXPECT_EQ(stream.header("x-portkey-provider"), "openai");
  std::string body = stream.readAll();
  EXPECT_EQ(body, events[0] + events[1] + events[2]);
}

TEST(Streaming, EachChunkArrivesBeforeTheNextIsSent) {
  auto gate = std::make_shared<Gate>();
  FakeUpstream upstream([gate](const RecordedRequest&) {
    FakeResponse r =
        FakeResponse::sse({chunkEvent("first"), chunkEvent("second"), "data: [DONE]\n\n"});
    // The second chunk is held back until the client has seen the first through the gateway.
    r.before_chunk = [gate](std::size_t index) {
      if (index == 1) {
        gate->waitOpen(std::chrono::seconds(10));
      }
    };
    return r;
  });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headersFor(upstream),
                           kStreamBody);
  std::string first = stream.readSome(std::chrono::seconds(5));
  EXPECT_EQ(first, chunkEvent("first"));
  gate->open();
  std::string rest = stream.readAll();
  EXPECT_EQ(rest, chunkEvent("second") + "data: [DONE]\n\n");
}

TEST(Streaming, NonSuccessUpstreamIsAJsonError) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return FakeResponse::json(429, R"({"error":{"message":"Rate limit reached",)"
                                   R"("type":"requests","param":null,"code":"rate_limit"}})");
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", headersFor(upstream), kStreamBody);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("content-type"), "application/json");
  auto body = json::parse(response.body);
  EXPECT_EQ(body["error"]["message"], "openai error: Rate limit reached");
  EXPECT_EQ(body["provider"], "openai");
}

TEST(Streaming, UpstreamResetMidStreamEndsWithAnErrorEvent) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({chunkEvent("partial")});
    r.cut_after_chunks = true;
    return r;
  });
  TestGateway gateway;
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headersFor(upstream),
                           kStreamBody);
  std::string body;
  try {
    body = stream.readAll();
  } catch (const std::exception&) {
    FAIL() << "the gateway must end the client stream cleanly, got: " << body;
  }
  auto data = sseData(body);
  ASSERT_EQ(data.size(), 2u) << body;
  auto error = json::parse(data[1]);
  EXPECT_EQ(error["provider"], "openai");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("openai error"), std::string::npos);
  EXPECT_EQ(body.find("[DONE]"), std::string::npos);
}

TEST(Streaming, StreamCutBeforeItsFirstByteFallsBack) {
  FakeUpstream broken([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({""});  // 200 and headers, then a reset
    r.cut_after_chunks = true;
    return r;
  });
  FakeUpstream healthy([](const RecordedRequest&) {
    return FakeResponse::sse({chunkEvent("ok"), "data: [DONE]\n\n"});
  });
  TestGateway gateway;
  json config = {
      {"strategy", {{"mode", "fallback"}}},
      {"targets",
       {{{"provider", "openai"}, {"api_key", "sk-test"}, {"custom_host", broken.baseUrl() + "/v1"}},
        {{"provider", "openai"},
         {"api_key", "sk-test"},
         {"custom_host", healthy.baseUrl() + "/v1"}}}}};
  StreamingResponse stream(gateway.port(), "/v1/chat/completions",
                           {{"x-portkey-config", config.dump()}}, kStreamBody);
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.header("x-portkey-last-used-option-index"), "config.targets[1]");
  EXPECT_EQ(stream.readAll(), chunkEvent("ok") + "data: [DONE]\n\n");
  EXPECT_EQ(broken.requestCount(), 1u);
}

TEST(Streaming, StalledUpstreamHitsReadTimeoutWithAnErrorEvent) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({chunkEvent("partial")});
    r.stall_after_chunks = std::chrono::seconds(10);
    return r;
  });
  auto options = TestGateway::defaultOptions();
  options.upstream_read_timeout = std::chrono::milliseconds(300);
  TestGateway gateway(options);
  StreamingResponse stream(gateway.port(), "/v1/chat/completions", headersFor(upstream),
                           kStreamBody);
  std::string body = stream.readAll(std::chrono::seconds(5));
  auto data = sseData(body);
  ASSERT_EQ(data.size(), 2u) << body;
  EXPECT_TRUE(json::parse(data[1]).contains("error"));
}

TEST(Streaming, ClientDisconnectCancelsTheUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({chunkEvent("one")});
    // Then stall for a while and probe: the probe fails only if the gateway has closed the
    // upstream connection in the meantime.
    r.stall_after_chunks = std::chrono::milliseconds(1000);
    return r;
  });
  TestGateway gateway;
  {
    StreamingResponse stream(gateway.port(), "/v1/chat/completions", headersFor(upstream),
                             kStreamBody);
    EXPECT_EQ(stream.readSome(), chunkEvent("one"));
    stream.close();
  }
  // The fake counts an abort once a write to the gateway's (closed) connection fails, which
  // happens only after the gateway dropped the upstream connection.
  EXPECT_TRUE(upstream.waitForClientAborts(1, std::chrono::seconds(5)));
  EXPECT_EQ(upstream.clientAbortCount(), 1u);
}

TEST(Streaming, ClientDisconnectBeforeAnswerCancelsTheUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({chunkEvent("late")});
    r.delay_before_headers = std::chrono::milliseconds(500);
    r.stall_after_chunks = std::chrono::milliseconds(500);
    return r;
  });
  TestGateway gateway;
  std::string raw =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "content-type: application/json\r\n";
  for (const auto& [name, value] : headersFor(upstream)) {
    raw += name + ": " + value + "\r\n";
  }
  raw += "content-length: " + std::to_string(kStreamBody.size()) + "\r\n\r\n" + kStreamBody;
  sendRawAndClose(gateway.port(), raw,
                  [&] { return upstream.waitForRequests(1, std::chrono::seconds(5)); });
  // The gateway must drop the upstream connection although no answer had arrived yet; the
  // fake then fails to write its probes after the stall.
  EXPECT_TRUE(upstream.waitForClientAborts(1, std::chrono::seconds(5)));
  EXPECT_EQ(upstream.clientAbortCount(), 1u);
}

// Perplexity frames events with CRLF and just stops: OpenAI's clients wait for [DONE], so the
// gateway adds it, after the upstream's bytes, which pass unchanged.
TEST(Streaming, AStreamThatEndsCleanlyWithoutDoneGetsOne) {
  const std::string upstream_bytes =
      "data: {\"id\":\"p1\",\"choices\":[]}\r\n\r\n"
      "data: {\"id\":\"p1\",\"choices\":[],\"usage\":{}}\r\n\r\n";
  FakeUpstream upstream([&](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({});
    r.chunks = {upstream_bytes.substr(0, 20), upstream_bytes.substr(20)};
    return r;
  });
  TestGateway gateway;
  for (const char* provider : {"perplexity-ai", "perplexity"}) {
    Headers headers = {{"x-portkey-provider", provider},
                       {"x-portkey-api-key", "pplx-test"},
                       {"x-portkey-custom-host", upstream.baseUrl()}};
    auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kStreamBody);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body, upstream_bytes + "data: [DONE]\n\n");
    EXPECT_EQ(response.header("x-portkey-provider"), "perplexity-ai");
  }
  // One that ends mid-line (no blank line at all) gets its event closed first.
  FakeUpstream unterminated([](const RecordedRequest&) {
    return FakeResponse::sse({"data: {\"id\":\"p2\",\"choices\":[]}"});
  });
  Headers headers = {{"x-portkey-provider", "perplexity-ai"},
                     {"x-portkey-api-key", "pplx-test"},
                     {"x-portkey-custom-host", unterminated.baseUrl()}};
  auto response = postJson(gateway.port(), "/v1/chat/completions", headers, kStreamBody);
  EXPECT_EQ(response.body, "data: {\"id\":\"p2\",\"choices\":[]}\n\ndata: [DONE]\n\n");
}

// A relayed stream that breaks: the error is an `event: error` event, which Portkey's SDK needs
// to raise (the others read the data line).
TEST(Streaming, AMidStreamBreakIsANamedErrorEvent) {
  FakeUpstream upstream([](const RecordedRequest&) {
    FakeResponse r = FakeResponse::sse({});
    r.chunks = {chunkEvent("par")};
    r.cut_after_chunks = true;
    return r;
  });
  TestGateway gateway;
  auto response =
      postJson(gateway.port(), "/v1/chat/completions", headersFor(upstream), kStreamBody);
  ASSERT_EQ(response.status, 200);
  const std::string tail = response.body.substr(chunkEvent("par").size());
  EXPECT_EQ(tail.rfind("event: error\ndata: {\"error\":", 0), 0u) << response.body;
  EXPECT_EQ(response.body.find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace portico::testing
