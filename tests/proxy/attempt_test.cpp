// proxy::runAttempt and proxy::LeafRequest, called directly: one try at a fake provider over
// loopback (complete answers, unreachable upstreams, failing adapters, streams) and the
// observer calls it makes.

#include "proxy/attempt.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proxy/stage_harness.hpp"
#include "support/fake_upstream.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;

const json kChat = {{"model", "gpt-test"},
                    {"messages", {{{"role", "user"}, {"content", "Hello"}}}}};

json streamChat() {
  json body = kChat;
  body["stream"] = true;
  return body;
}

std::string completion() {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", "hi"}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}, {"total_tokens", 10}}}}
      .dump();
}

Usage usage(std::int64_t prompt, std::int64_t completion) {
  Usage u;
  u.prompt_tokens = prompt;
  u.completion_tokens = completion;
  return u;
}

AttemptInfo infoFor(const Target& target, const proxy::LeafRequest& leaf) {
  return AttemptInfo{target.provider, leaf.model(), "config", 0, std::chrono::steady_clock::now()};
}

TEST(AttemptStage, CompleteAnswerIsMappedWithItsUsage) {
  StageHarness h;
  FakeUpstream upstream(
      [](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  h.fake->upstream_port = upstream.port();
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(attempt.reply.body, completion());
  EXPECT_EQ(attempt.reply.content_type, "application/json");
  EXPECT_EQ(attempt.reply.provider, "fake");
  EXPECT_EQ(attempt.reply.usage, usage(7, 3));
  EXPECT_EQ(info.usage, usage(7, 3));
  EXPECT_EQ(info.status, 200);
  EXPECT_FALSE(attempt.reply.stream);
  EXPECT_FALSE(attempt.network_error);
  EXPECT_FALSE(attempt.gateway_exception);
  EXPECT_EQ(attempt.failure, "");
  EXPECT_EQ(h.fake->counts.open, 1);
  EXPECT_EQ(h.fake->counts.request, 1);
  EXPECT_EQ(h.fake->counts.authenticate, 1);
  EXPECT_EQ(h.fake->counts.map_response, 1);
  EXPECT_EQ(h.observer.lines, std::vector<std::string>{"upstreamAnswered 200"});

  ASSERT_EQ(upstream.requestCount(), 1u);
  const auto sent = *upstream.lastRequest();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/v1/chat/completions");
  EXPECT_EQ(sent.header("authorization"), "Bearer sk-test");
  EXPECT_EQ(json::parse(sent.body), kChat);
}

TEST(AttemptStage, ErrorAnswerKeepsItsStatusAndBody) {
  StageHarness h;
  const std::string error = R"({"error":{"message":"slow down"}})";
  FakeUpstream upstream([&](const RecordedRequest&) { return FakeResponse::json(429, error); });
  h.fake->upstream_port = upstream.port();
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_EQ(attempt.reply.status, 429);
  EXPECT_EQ(attempt.reply.body, error);
  EXPECT_EQ(info.status, 429);
  EXPECT_EQ(info.usage, std::nullopt);
  EXPECT_FALSE(attempt.network_error);
  EXPECT_FALSE(attempt.gateway_exception);
}

TEST(AttemptStage, ClosedPortIsANetworkError) {
  StageHarness h;
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target(closedPort());
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_TRUE(attempt.network_error);
  EXPECT_FALSE(attempt.gateway_exception);
  EXPECT_EQ(attempt.reply.status, 502);
  EXPECT_EQ(attempt.reply.provider, "fake");
  EXPECT_NE(attempt.failure, "");
  const json body = json::parse(attempt.reply.body);
  EXPECT_EQ(body["error"]["code"], "upstream_unreachable");
  EXPECT_TRUE(body["error"]["message"].get<std::string>().starts_with(
      "fake error: could not reach the provider: "))
      << body.dump();
  EXPECT_EQ(info.status, 0);
  EXPECT_EQ(h.fake->counts.authenticate, 1);
  EXPECT_TRUE(h.observer.lines.empty());
}

TEST(AttemptStage, FailingOpenIsTheAdaptersErrorWithoutContactingTheUpstream) {
  StageHarness h;
  FakeUpstream upstream(
      [](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  h.fake->upstream_port = upstream.port();
  GatewayError refused = errors::failure(422, "fake: resource_name is required");
  refused.gateway_exception = true;
  h.fake->open_error = refused;
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_TRUE(attempt.gateway_exception);
  EXPECT_FALSE(attempt.network_error);
  EXPECT_EQ(attempt.reply.status, 422);
  EXPECT_EQ(json::parse(attempt.reply.body), refused.body);
  EXPECT_EQ(attempt.reply.headers, (HeaderList{{"x-portkey-gateway-exception", "true"}}));
  EXPECT_EQ(attempt.reply.provider, "fake");
  EXPECT_EQ(h.fake->counts.open, 1);
  EXPECT_EQ(h.fake->counts.request, 0);
  EXPECT_EQ(info.status, 0);
  EXPECT_EQ(upstream.requestCount(), 0u);
  EXPECT_TRUE(h.observer.lines.empty());
}

TEST(AttemptStage, OpenThatThrowsIsA400WithoutContactingTheUpstream) {
  StageHarness h;
  FakeUpstream upstream(
      [](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  h.fake->upstream_port = upstream.port();
  h.fake->open_throws = "messages must be an array";
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_EQ(attempt.reply.status, 400);
  EXPECT_EQ(json::parse(attempt.reply.body)["message"],
            "Invalid request for fake: messages must be an array");
  EXPECT_EQ(upstream.requestCount(), 0u);
}

TEST(AttemptStage, StreamReturnsTheOpenExchangeWithItsFirstBytes) {
  StageHarness h;
  Gate second_chunk;
  const std::vector<std::string> events = {"data: {\"n\":1}\n\n", "data: [DONE]\n\n"};
  FakeUpstream upstream([&](const RecordedRequest&) {
    FakeResponse answer = FakeResponse::sse(events);
    // The second event waits until the attempt returned: first_bytes is the first one only.
    answer.before_chunk = [&](std::size_t i) {
      if (i == 1) second_chunk.wait();
    };
    return answer;
  });
  h.fake->upstream_port = upstream.port();
  TestRequest r(streamChat());
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));
  second_chunk.open();

  ASSERT_TRUE(attempt.reply.stream);
  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(attempt.reply.first_bytes, events[0]);
  EXPECT_EQ(attempt.reply.content_type, "text/event-stream");
  EXPECT_TRUE(attempt.reply.openai_stream);
  EXPECT_FALSE(attempt.reply.transformer);
  EXPECT_EQ(attempt.reply.body, "");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(h.fake->counts.map_response, 0);
  EXPECT_EQ(h.observer.lines, (std::vector<std::string>{"upstreamAnswered 200", "firstByte 200"}));
  EXPECT_EQ(json::parse(upstream.lastRequest()->body)["stream"], true);

  // The rest of the stream is still on the exchange.
  std::string rest;
  auto failure = h.run(attempt.reply.stream->readAll(rest, 1 << 20));
  EXPECT_FALSE(failure) << failure->detail;
  EXPECT_EQ(rest, events[1]);
}

TEST(AttemptStage, EventStreamAnswerToANonStreamRequestIsStreamed) {
  StageHarness h;
  FakeUpstream upstream(
      [](const RecordedRequest&) { return FakeResponse::sse({"data: {\"n\":1}\n\n"}); });
  h.fake->upstream_port = upstream.port();
  TestRequest r(kChat);
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  ASSERT_FALSE(leaf.client().stream);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  ASSERT_TRUE(attempt.reply.stream);
  EXPECT_EQ(attempt.reply.first_bytes, "data: {\"n\":1}\n\n");
  EXPECT_EQ(h.observer.lines, (std::vector<std::string>{"upstreamAnswered 200", "firstByte 200"}));
}

TEST(AttemptStage, ErrorAnswerToAStreamRequestIsReadWhole) {
  StageHarness h;
  const std::string error = R"({"error":{"message":"overloaded"}})";
  FakeUpstream upstream([&](const RecordedRequest&) { return FakeResponse::json(503, error); });
  h.fake->upstream_port = upstream.port();
  TestRequest r(streamChat());
  auto state = h.state(r);
  const Target target = StageHarness::target();
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_FALSE(attempt.reply.stream);
  EXPECT_EQ(attempt.reply.status, 503);
  EXPECT_EQ(attempt.reply.body, error);
  EXPECT_EQ(attempt.reply.content_type, "application/json");
  EXPECT_EQ(h.fake->counts.map_response, 1);
  EXPECT_EQ(h.observer.lines, std::vector<std::string>{"upstreamAnswered 503"});
}

TEST(LeafRequestStage, MergesOverrideParamsOnceAndReadsModelAndStream) {
  StageHarness h;
  const json body = {{"model", "m-client"}, {"stream", false}, {"temperature", 1}};
  TestRequest r(body);
  auto state = h.state(r);
  Target target = StageHarness::target();
  target.override_params = {{"model", "m-config"}, {"stream", true}};

  const proxy::LeafRequest leaf(state, target);

  EXPECT_EQ(leaf.model(), "m-config");
  EXPECT_TRUE(leaf.client().stream);
  EXPECT_TRUE(leaf.client().body_modified);
  ASSERT_NE(leaf.client().body, nullptr);
  EXPECT_NE(leaf.client().body, &r.body);
  EXPECT_EQ(&leaf.body(), leaf.client().body);
  EXPECT_EQ(leaf.body(), (json{{"model", "m-config"}, {"stream", true}, {"temperature", 1}}));
  EXPECT_EQ(r.body, body);  // the request's own body is left alone
  EXPECT_EQ(leaf.client().raw_body, r.request.body);
  EXPECT_EQ(leaf.client().path, "/chat/completions");
  EXPECT_EQ(leaf.client().endpoint, Endpoint::kChatCompletions);
  EXPECT_EQ(leaf.client().headers, &r.request.headers);
}

TEST(LeafRequestStage, WithoutOverridesTheRequestBodyIsUsedAsItIs) {
  StageHarness h;
  TestRequest r(json{{"model", "m-client"}, {"stream", "yes"}});
  auto state = h.state(r);
  Target target = StageHarness::target();
  target.override_params = json::object();

  const proxy::LeafRequest leaf(state, target);

  EXPECT_EQ(leaf.client().body, &r.body);
  EXPECT_FALSE(leaf.client().body_modified);
  EXPECT_EQ(leaf.model(), "m-client");
  EXPECT_FALSE(leaf.client().stream);  // only a JSON true streams
}

TEST(LeafRequestStage, NonJsonBodyHasNoModelNorStream) {
  StageHarness h;
  TestRequest r(nullptr, Endpoint::kPassthrough, "/files");
  r.request.body = "--boundary";
  auto state = h.state(r);
  Target target = StageHarness::target();
  target.override_params = {{"model", "m-config"}};

  const proxy::LeafRequest leaf(state, target);

  EXPECT_EQ(leaf.client().body, nullptr);
  EXPECT_TRUE(leaf.body().is_null());
  EXPECT_FALSE(leaf.client().body_modified);
  EXPECT_FALSE(leaf.client().stream);
  EXPECT_EQ(leaf.model(), "");
  EXPECT_EQ(leaf.client().raw_body, "--boundary");
}

TEST(AttemptStage, OverrideParamsReachTheUpstream) {
  StageHarness h;
  FakeUpstream upstream(
      [](const RecordedRequest&) { return FakeResponse::json(200, completion()); });
  h.fake->upstream_port = upstream.port();
  TestRequest r(kChat);
  auto state = h.state(r);
  Target target = StageHarness::target();
  target.override_params = {{"model", "m-config"}};
  const proxy::LeafRequest leaf(state, target);
  AttemptInfo info = infoFor(target, leaf);

  proxy::Attempt attempt = h.run(proxy::runAttempt(state, *h.fake, leaf, target, info));

  EXPECT_EQ(attempt.reply.status, 200);
  EXPECT_EQ(json::parse(upstream.lastRequest()->body)["model"], "m-config");
}

}  // namespace
}  // namespace portico::testing
