// The trace observer, called as the pipeline calls it: which spans a request makes, their
// names, kinds, links, times and attributes (GenAI and HTTP conventions), the stream case where
// the last attempt lasts until the stream ends, and the per-thread table's bounds.
#include "telemetry/trace_observer.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "portico/gen_ai_names.hpp"

namespace portico::telemetry {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

class RecordingSink : public SpanSink {
 public:
  void submit(Span span) override {
    std::lock_guard lock(mutex);
    spans.push_back(std::move(span));
  }
  void countDropped(std::uint64_t n) override { dropped += n; }
  std::mutex mutex;
  std::vector<Span> spans;
  std::uint64_t dropped = 0;
};

const AttributeValue* find(const Span& span, const std::string& key) {
  for (const auto& attribute : span.attributes) {
    if (attribute.key == key) return &attribute.value;
  }
  return nullptr;
}
std::string text(const Span& span, const std::string& key) {
  auto* value = find(span, key);
  return value && std::holds_alternative<std::string>(*value) ? std::get<std::string>(*value)
                                                              : "<none>";
}
std::int64_t number(const Span& span, const std::string& key) {
  auto* value = find(span, key);
  return value && std::holds_alternative<std::int64_t>(*value) ? std::get<std::int64_t>(*value)
                                                               : -1;
}

struct Request {
  RequestInfo info;
  explicit Request(std::uint64_t span_id = 0x5e5e,
                   Endpoint endpoint = Endpoint::kChatCompletions,
                   std::string_view path = "/v1/chat/completions") {
    info.method = "POST";
    info.path = path;
    info.endpoint = endpoint;
    info.gateway_route = true;
    info.trace_id = "portkey-trace-1";
    info.started = Steady::now() - 1s;
    info.wall_started = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    info.trace.trace_id[15] = 0x42;
    info.trace.span_id = span_id;
    info.trace.parent_span_id = 0xca11e4;
    info.trace.parent_sampled = true;
    info.trace.sampled = true;
  }
};

AttemptInfo attempt(std::uint64_t span_id, int status, Steady::time_point started) {
  AttemptInfo out;
  out.provider = "bedrock";
  out.model = "claude-3-haiku";
  out.option_index = "config";
  out.started = started;
  out.span_id = span_id;
  out.status = status;
  return out;
}

std::uint64_t nanosAfterStart(const Request& request, std::chrono::nanoseconds offset) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        request.info.wall_started.time_since_epoch() + offset)
                                        .count());
}

struct Fixture {
  std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
  TraceObserver observer{sink, genAiProviderName};
};

TEST(TraceObserver, UnsampledRequestsMakeNoSpans) {
  Fixture f;
  Request request;
  request.info.trace.sampled = false;
  f.observer.attemptEnded(request.info, attempt(7, 200, request.info.started));
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = Steady::now();
  f.observer.requestEnded(request.info, outcome);
  EXPECT_TRUE(f.sink->spans.empty());
}

TEST(TraceObserver, APlainRequestMakesAClientAndAServerSpan) {
  Fixture f;
  Request request;
  request.info.virtual_key = "team-a";
  AttemptInfo a = attempt(0xc1, 200, request.info.started + 10ms);
  a.usage = Usage{7, 3, std::nullopt, std::nullopt};
  f.observer.attemptEnded(request.info, a);
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.provider = "bedrock";
  outcome.model = "claude-3-haiku";
  outcome.cache_status = "MISS";
  outcome.usage = Usage{7, 3, 2, 1};
  outcome.ended = request.info.started + 300ms;
  outcome.response_id = "msg_1";
  outcome.response_model = "claude-3-haiku-20240307";
  outcome.finish_reasons = "stop,length";
  f.observer.requestEnded(request.info, outcome);

  ASSERT_EQ(f.sink->spans.size(), 2u);
  const Span& client = f.sink->spans[0];
  const Span& server = f.sink->spans[1];

  EXPECT_EQ(client.kind, SpanKind::kClient);
  EXPECT_EQ(client.name, "chat claude-3-haiku");
  EXPECT_EQ(client.trace_id, request.info.trace.trace_id);
  EXPECT_EQ(client.span_id, 0xc1u);
  EXPECT_EQ(client.parent_span_id, 0x5e5eu);
  EXPECT_FALSE(client.parent_is_remote);
  EXPECT_EQ(client.start_unix_nano, nanosAfterStart(request, 10ms));
  EXPECT_GT(client.end_unix_nano, client.start_unix_nano);
  EXPECT_FALSE(client.error);
  EXPECT_EQ(text(client, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(text(client, "gen_ai.provider.name"), "aws.bedrock");
  EXPECT_EQ(text(client, "gen_ai.request.model"), "claude-3-haiku");
  EXPECT_EQ(text(client, "gen_ai.response.model"), "claude-3-haiku-20240307");
  EXPECT_EQ(text(client, "gen_ai.response.id"), "msg_1");
  ASSERT_TRUE(find(client, "gen_ai.response.finish_reasons"));
  EXPECT_EQ(std::get<std::vector<std::string>>(*find(client, "gen_ai.response.finish_reasons")),
            (std::vector<std::string>{"stop", "length"}));
  EXPECT_EQ(number(client, "gen_ai.usage.input_tokens"), 7);
  EXPECT_EQ(number(client, "gen_ai.usage.output_tokens"), 3);
  EXPECT_EQ(number(client, "gen_ai.usage.cache_read.input_tokens"), 2);
  EXPECT_EQ(number(client, "gen_ai.usage.reasoning.output_tokens"), 1);
  EXPECT_EQ(number(client, "http.response.status_code"), 200);
  EXPECT_EQ(number(client, "portico.retry"), 0);
  EXPECT_EQ(text(client, "portico.option_index"), "config");
  EXPECT_EQ(find(client, "error.type"), nullptr);

  EXPECT_EQ(server.kind, SpanKind::kServer);
  EXPECT_EQ(server.name, "POST /v1/chat/completions");
  EXPECT_EQ(server.span_id, 0x5e5eu);
  EXPECT_EQ(server.parent_span_id, 0xca11e4u);
  EXPECT_TRUE(server.parent_is_remote);
  EXPECT_EQ(server.start_unix_nano, nanosAfterStart(request, 0ms));
  EXPECT_EQ(server.end_unix_nano, nanosAfterStart(request, 300ms));
  EXPECT_EQ(text(server, "http.request.method"), "POST");
  EXPECT_EQ(text(server, "url.path"), "/v1/chat/completions");
  EXPECT_EQ(text(server, "http.route"), "/v1/chat/completions");
  EXPECT_EQ(number(server, "http.response.status_code"), 200);
  EXPECT_EQ(text(server, "portkey.trace_id"), "portkey-trace-1");
  EXPECT_EQ(text(server, "portico.virtual_key"), "team-a");
  EXPECT_EQ(text(server, "portico.cache_status"), "MISS");
  EXPECT_EQ(number(server, "portico.retry_count"), 0);
  EXPECT_EQ(text(server, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(text(server, "gen_ai.request.model"), "claude-3-haiku");
  EXPECT_EQ(text(server, "gen_ai.provider.name"), "aws.bedrock");
  EXPECT_EQ(number(server, "gen_ai.usage.input_tokens"), 7);
  EXPECT_FALSE(server.error);
}

TEST(TraceObserver, AStreamsLastAttemptLastsUntilTheStreamEnds) {
  Fixture f;
  Request request;
  f.observer.attemptEnded(request.info, attempt(0xc1, 200, request.info.started + 5ms));
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.streamed = true;
  outcome.usage = Usage{5, 2, std::nullopt, std::nullopt};
  outcome.ended = Steady::now() + 2s;  // the stream ended after attemptEnded
  f.observer.requestEnded(request.info, outcome);
  ASSERT_EQ(f.sink->spans.size(), 2u);
  const Span& client = f.sink->spans[0];
  const Span& server = f.sink->spans[1];
  EXPECT_EQ(client.end_unix_nano, server.end_unix_nano);
  EXPECT_EQ(number(client, "gen_ai.usage.input_tokens"), 5);
  EXPECT_EQ(number(client, "gen_ai.usage.output_tokens"), 2);
  EXPECT_EQ(find(server, "portico.streamed") != nullptr, true);
}

TEST(TraceObserver, AFallbackMakesOneClientSpanPerAttempt) {
  Fixture f;
  Request request;
  AttemptInfo first = attempt(0xc1, 500, request.info.started + 1ms);
  first.option_index = "config.targets[0]";
  f.observer.attemptEnded(request.info, first);
  AttemptInfo timed_out = attempt(0xc2, 0, request.info.started + 2ms);
  timed_out.option_index = "config.targets[1]";
  timed_out.error_type = "timeout";
  timed_out.failure = "timed out after 10 ms";
  f.observer.attemptEnded(request.info, timed_out);
  AttemptInfo last = attempt(0xc3, 200, request.info.started + 3ms);
  last.provider = "openai";
  last.model = "gpt-4o-mini";
  last.option_index = "config.targets[2]";
  last.retry = 1;
  f.observer.attemptEnded(request.info, last);
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.provider = "openai";
  outcome.model = "gpt-4o-mini";
  outcome.response_id = "chatcmpl-1";
  outcome.usage = Usage{7, 3, std::nullopt, std::nullopt};
  outcome.ended = Steady::now();
  f.observer.requestEnded(request.info, outcome);

  ASSERT_EQ(f.sink->spans.size(), 4u);
  const Span& failed = f.sink->spans[0];
  EXPECT_TRUE(failed.error);
  EXPECT_EQ(text(failed, "error.type"), "500");
  EXPECT_EQ(number(failed, "http.response.status_code"), 500);
  EXPECT_EQ(text(failed, "gen_ai.response.id"), "<none>");
  EXPECT_EQ(find(failed, "gen_ai.usage.input_tokens"), nullptr);
  const Span& timeout = f.sink->spans[1];
  EXPECT_TRUE(timeout.error);
  EXPECT_EQ(text(timeout, "error.type"), "timeout");
  EXPECT_EQ(find(timeout, "http.response.status_code"), nullptr);
  const Span& good = f.sink->spans[2];
  EXPECT_EQ(good.name, "chat gpt-4o-mini");
  EXPECT_EQ(text(good, "gen_ai.provider.name"), "openai");
  EXPECT_EQ(text(good, "gen_ai.response.id"), "chatcmpl-1");
  EXPECT_EQ(number(good, "portico.retry"), 1);
  EXPECT_EQ(number(good, "gen_ai.usage.input_tokens"), 7);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f.sink->spans[i].parent_span_id, request.info.trace.span_id);
  }
  EXPECT_FALSE(f.sink->spans[3].error);
}

TEST(TraceObserver, ServerErrorsAndBrokenStreams) {
  Fixture f;
  Request request;
  RequestOutcome failed;
  failed.status = 502;
  failed.ended = Steady::now();
  f.observer.requestEnded(request.info, failed);
  ASSERT_EQ(f.sink->spans.size(), 1u);  // no attempt: the server span alone
  EXPECT_TRUE(f.sink->spans[0].error);
  EXPECT_EQ(text(f.sink->spans[0], "error.type"), "502");

  Request client_error(0x77);
  RequestOutcome refused;
  refused.status = 400;
  refused.ended = Steady::now();
  f.observer.requestEnded(client_error.info, refused);
  EXPECT_FALSE(f.sink->spans[1].error);  // 4xx are the caller's, not the server's

  Request streamed(0x78);
  f.observer.attemptEnded(streamed.info, attempt(0xd1, 200, streamed.info.started));
  RequestOutcome broken;
  broken.status = 200;
  broken.streamed = true;
  broken.stream_broken = true;
  broken.ended = Steady::now();
  f.observer.requestEnded(streamed.info, broken);
  ASSERT_EQ(f.sink->spans.size(), 4u);
  EXPECT_EQ(text(f.sink->spans[2], "error.type"), "broken");
  EXPECT_TRUE(f.sink->spans[3].error);
}

TEST(TraceObserver, PassthroughAndOtherOperations) {
  Fixture f;
  Request passthrough(0x10, Endpoint::kPassthrough, "/v1/files/file-abc");
  passthrough.info.method = "GET";
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = Steady::now();
  f.observer.requestEnded(passthrough.info, outcome);
  ASSERT_EQ(f.sink->spans.size(), 1u);
  EXPECT_EQ(f.sink->spans[0].name, "GET");  // the path is no route: it holds ids
  EXPECT_EQ(text(f.sink->spans[0], "url.path"), "/v1/files/file-abc");
  EXPECT_EQ(find(f.sink->spans[0], "http.route"), nullptr);
  EXPECT_EQ(text(f.sink->spans[0], "gen_ai.operation.name"), "proxy");

  EXPECT_EQ(genAiOperationName(Endpoint::kChatCompletions), "chat");
  EXPECT_EQ(genAiOperationName(Endpoint::kMessages), "chat");
  EXPECT_EQ(genAiOperationName(Endpoint::kCompletions), "text_completion");
  EXPECT_EQ(genAiOperationName(Endpoint::kEmbeddings), "embeddings");
}

TEST(TraceObserver, RequestsThatNeverEndAreEvictedAndCounted) {
  auto sink = std::make_shared<RecordingSink>();
  TraceObserver observer(sink, genAiProviderName,
                         {.max_open_requests_per_thread = 2, .max_attempts_per_request = 2});
  Request a(0xa), b(0xb), c(0xc);
  observer.attemptEnded(a.info, attempt(1, 200, a.info.started));
  observer.attemptEnded(b.info, attempt(2, 200, b.info.started));
  observer.attemptEnded(c.info, attempt(3, 200, c.info.started));  // evicts a
  EXPECT_EQ(sink->dropped, 1u);
  for (int i = 0; i < 3; ++i) {
    observer.attemptEnded(b.info, attempt(10 + i, 500, b.info.started));  // b has 2 at most
  }
  EXPECT_EQ(sink->dropped, 3u);
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = Steady::now();
  observer.requestEnded(a.info, outcome);
  EXPECT_EQ(sink->spans.size(), 1u);  // a's attempt is gone, its server span is not
  observer.requestEnded(b.info, outcome);
  EXPECT_EQ(sink->spans.size(), 1u + 3u);
}

TEST(TraceObserver, TwoObserversOfOneRequestKeepTheirOwnAttempts) {
  Fixture one, two;
  Request request;
  one.observer.attemptEnded(request.info, attempt(1, 200, request.info.started));
  two.observer.attemptEnded(request.info, attempt(1, 200, request.info.started));
  RequestOutcome outcome;
  outcome.status = 200;
  outcome.ended = Steady::now();
  one.observer.requestEnded(request.info, outcome);
  two.observer.requestEnded(request.info, outcome);
  EXPECT_EQ(one.sink->spans.size(), 2u);
  EXPECT_EQ(two.sink->spans.size(), 2u);
}

TEST(GenAiNames, WellKnownValuesElseTheId) {
  EXPECT_EQ(genAiProviderName("openai"), "openai");
  EXPECT_EQ(genAiProviderName("bedrock"), "aws.bedrock");
  EXPECT_EQ(genAiProviderName("azure-openai"), "azure.ai.openai");
  EXPECT_EQ(genAiProviderName("vertex-ai"), "gcp.vertex_ai");
  EXPECT_EQ(genAiProviderName("google"), "gcp.gemini");
  EXPECT_EQ(genAiProviderName("mistral-ai"), "mistral_ai");
  EXPECT_EQ(genAiProviderName("perplexity-ai"), "perplexity");
  EXPECT_EQ(genAiProviderName("x-ai"), "x_ai");
  EXPECT_EQ(genAiProviderName("groq"), "groq");
  EXPECT_EQ(genAiProviderName("together-ai"), "together-ai");
}

}  // namespace
}  // namespace portico::telemetry
