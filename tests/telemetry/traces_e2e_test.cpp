// Traces end to end: the in-process gateway with the OTEL_* settings, the trace observer and
// the exporter with the real poster, sending to a fake OTLP receiver on loopback. A plain, a
// streamed and a fallback request give the right spans (names, kinds, links, attributes,
// usage); the caller's traceparent is continued and each attempt's span goes upstream; nothing
// secret is exported; and a dead or silent receiver changes nothing for the client.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "portico/gen_ai_names.hpp"
#include "support/fake_upstream.hpp"
#include "support/http_client.hpp"
#include "support/test_gateway.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_settings.hpp"
#include "telemetry/trace_observer.hpp"
#include "upstream/otlp_http_post.hpp"

namespace portico::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello secret prompt"}]})";
const std::string kCallerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kCallerSpan = "00f067aa0ba902b7";

std::string completion() {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"created", 1},
              {"model", "gpt-4o-mini-2024-07-18"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", "hi"}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}, {"total_tokens", 10}}}}
      .dump();
}

FakeResponse streamAnswer() {
  json delta = {{"id", "chatcmpl-s"},
                {"object", "chat.completion.chunk"},
                {"created", 1},
                {"model", "gpt-4o-mini-2024-07-18"},
                {"choices", {{{"index", 0}, {"delta", {{"content", "hi"}}}}}}};
  json finish = delta;
  finish["choices"] = {{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}};
  json usage = delta;
  usage["choices"] = json::array();
  usage["usage"] = {{"prompt_tokens", 5}, {"completion_tokens", 2}};
  return FakeResponse::sse({"data: " + delta.dump() + "\n\n", "data: " + finish.dump() + "\n\n",
                            "data: " + usage.dump() + "\n\n", "data: [DONE]\n\n"});
}

unsigned short closedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// The gateway wired as main wires it, from OTEL_* variables given as a map.
struct TracedGateway {
  TracedGateway(Handler provider,
                const std::string& otlp_endpoint,
                std::map<std::string, std::string> more_env = {})
      : upstream(std::move(provider)) {
    more_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint;
    more_env.try_emplace("OTEL_BSP_SCHEDULE_DELAY", "20");
    more_env["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=collector%20key";
    more_env["OTEL_SERVICE_NAME"] = "portico-test";
    auto settings = telemetry::readOtlpSettings([more_env](const char* name) {
      auto found = more_env.find(name);
      return found == more_env.end() ? std::nullopt : std::optional<std::string>(found->second);
    });
    exporter = std::make_shared<telemetry::OtlpExporter>(
        telemetry::exporterOptions(settings),
        upstream::makeOtlpHttpPoster({.ca_file = settings.ca_file}));
    ServerOptions options = TestGateway::defaultOptions();
    options.retry_delay_scale = 0.001;
    options.trace_sampler = telemetry::makeSampler(settings);
    options.observers.push_back(
        std::make_shared<telemetry::TraceObserver>(exporter, genAiProviderName));
    gateway = std::make_unique<TestGateway>(options);
  }
  ~TracedGateway() {
    gateway.reset();  // every request ended: all spans submitted
    exporter->stop();
  }

  json target(json extra = json::object()) const {
    json node = {{"provider", "openai"},
                 {"api_key", "sk-test-key"},
                 {"custom_host", upstream.baseUrl() + "/v1"}};
    for (auto& [key, value] : extra.items()) node[key] = value;
    return node;
  }
  HttpResponse post(const json& config, const std::string& body = kChat, Headers extra = {}) {
    Headers headers = {{"content-type", "application/json"}, {"x-portkey-config", config.dump()}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return postJson(gateway->port(), "/v1/chat/completions", headers, body);
  }

  FakeUpstream upstream;
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  std::unique_ptr<TestGateway> gateway;
};

const json* attribute(const json& span, const std::string& key) {
  for (const auto& entry : span["attributes"]) {
    if (entry["key"] == key) return &entry["value"];
  }
  return nullptr;
}
std::string text(const json& span, const std::string& key) {
  auto* value = attribute(span, key);
  return value && value->contains("stringValue") ? (*value)["stringValue"].get<std::string>()
                                                 : "<none>";
}
std::string integer(const json& span, const std::string& key) {
  auto* value = attribute(span, key);
  return value && value->contains("intValue") ? (*value)["intValue"].get<std::string>() : "<none>";
}

// Every span the receiver got so far.
std::vector<json> receivedSpans(const FakeUpstream& receiver) {
  std::vector<json> spans;
  for (const auto& request : receiver.requests()) {
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object()) continue;
    for (const auto& resource : body["resourceSpans"]) {
      for (const auto& scope : resource["scopeSpans"]) {
        for (const auto& span : scope["spans"]) spans.push_back(span);
      }
    }
  }
  return spans;
}

// The spans of the request answered with `portkey_trace_id`, once `count` of them arrived
// (or what there is after 10 s): the server span last.
std::vector<json> waitForTrace(const FakeUpstream& receiver,
                               const std::string& portkey_trace_id,
                               std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<json> trace;
  for (;;) {
    const std::size_t posts = receiver.requestCount();
    const auto spans = receivedSpans(receiver);
    std::string trace_id;
    for (const auto& span : spans) {
      if (text(span, "portkey.trace_id") == portkey_trace_id) trace_id = span["traceId"];
    }
    trace.clear();
    for (const auto& span : spans) {
      if (!trace_id.empty() && span["traceId"] == trace_id) trace.push_back(span);
    }
    std::stable_partition(trace.begin(), trace.end(), [](const json& s) { return s["kind"] == 3; });
    const auto now = std::chrono::steady_clock::now();
    if (trace.size() >= count || now >= deadline) return trace;
    receiver.waitForRequests(posts + 1,
                             std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  }
}

// The span id a traceparent header names.
std::string parentIdOf(const std::string& traceparent) {
  return traceparent.size() == 55 ? traceparent.substr(36, 16) : "";
}

class Traces : public ::testing::Test {
 protected:
  FakeUpstream receiver{[](const RecordedRequest&) { return FakeResponse::json(200, "{}"); }};
};

TEST_F(Traces, APlainRequestGivesAServerAndAClientSpan) {
  TracedGateway g([](const RecordedRequest&) { return FakeResponse::json(200, completion()); },
                  receiver.baseUrl());
  auto response = g.post(g.target());
  ASSERT_EQ(response.status, 200);
  auto spans = waitForTrace(receiver, response.header("x-portkey-trace-id"), 2);
  ASSERT_EQ(spans.size(), 2u);
  const json& client = spans[0];
  const json& server = spans[1];

  EXPECT_EQ(server["name"], "POST /v1/chat/completions");
  EXPECT_EQ(server["kind"], 2);
  EXPECT_FALSE(server.contains("parentSpanId"));  // no traceparent: a root span
  EXPECT_EQ(text(server, "http.request.method"), "POST");
  EXPECT_EQ(text(server, "url.path"), "/v1/chat/completions");
  EXPECT_EQ(integer(server, "http.response.status_code"), "200");
  EXPECT_EQ(text(server, "portico.cache_status"), "DISABLED");
  EXPECT_EQ(integer(server, "portico.retry_count"), "0");
  EXPECT_EQ(text(server, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(text(server, "gen_ai.request.model"), "gpt-4o-mini");
  EXPECT_EQ(integer(server, "gen_ai.usage.input_tokens"), "7");

  EXPECT_EQ(client["name"], "chat gpt-4o-mini");
  EXPECT_EQ(client["kind"], 3);
  EXPECT_EQ(client["parentSpanId"], server["spanId"]);
  EXPECT_EQ(client["traceId"], server["traceId"]);
  EXPECT_EQ(text(client, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(text(client, "gen_ai.provider.name"), "openai");
  EXPECT_EQ(text(client, "gen_ai.request.model"), "gpt-4o-mini");
  EXPECT_EQ(text(client, "gen_ai.response.model"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(text(client, "gen_ai.response.id"), "chatcmpl-1");
  ASSERT_TRUE(attribute(client, "gen_ai.response.finish_reasons"));
  EXPECT_EQ((*attribute(client, "gen_ai.response.finish_reasons"))["arrayValue"]["values"],
            json::parse(R"([{"stringValue":"stop"}])"));
  EXPECT_EQ(integer(client, "gen_ai.usage.input_tokens"), "7");
  EXPECT_EQ(integer(client, "gen_ai.usage.output_tokens"), "3");
  EXPECT_EQ(integer(client, "http.response.status_code"), "200");
  EXPECT_EQ(client.contains("status"), false);
  EXPECT_LE(std::stoull(server["startTimeUnixNano"].get<std::string>()),
            std::stoull(client["startTimeUnixNano"].get<std::string>()));
  EXPECT_LE(std::stoull(client["endTimeUnixNano"].get<std::string>()),
            std::stoull(server["endTimeUnixNano"].get<std::string>()));

  // The upstream was told the client span is its parent.
  auto upstream_request = g.upstream.lastRequest();
  ASSERT_TRUE(upstream_request);
  const std::string traceparent = upstream_request->header("traceparent");
  EXPECT_EQ(traceparent.substr(3, 32), server["traceId"].get<std::string>());
  EXPECT_EQ(parentIdOf(traceparent), client["spanId"].get<std::string>());
  EXPECT_EQ(traceparent.substr(53), "01");

  // What the receiver got: the resource, the configured header, and nothing secret.
  auto post = receiver.lastRequest();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->path(), "/v1/traces");
  EXPECT_EQ(post->header("content-type"), "application/json");
  EXPECT_EQ(post->header("api-key"), "collector key");
  const json body = json::parse(post->body);
  EXPECT_EQ(body["resourceSpans"][0]["resource"]["attributes"][0],
            json::parse(R"({"key":"service.name","value":{"stringValue":"portico-test"}})"));
  for (const auto& request : receiver.requests()) {
    EXPECT_EQ(request.body.find("sk-test-key"), std::string::npos);
    EXPECT_EQ(request.body.find("secret prompt"), std::string::npos);
    EXPECT_EQ(request.body.find("custom_host"), std::string::npos);
  }
}

TEST_F(Traces, TheCallersTraceparentIsContinued) {
  TracedGateway g([](const RecordedRequest&) { return FakeResponse::json(200, completion()); },
                  receiver.baseUrl());
  auto response = g.post(g.target(), kChat,
                         {{"traceparent", "00-" + kCallerTrace + "-" + kCallerSpan + "-01"}});
  ASSERT_EQ(response.status, 200);
  auto spans = waitForTrace(receiver, response.header("x-portkey-trace-id"), 2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1]["traceId"], kCallerTrace);
  EXPECT_EQ(spans[1]["parentSpanId"], kCallerSpan);
  EXPECT_EQ(spans[1]["flags"], 0x301);  // its parent is remote
  EXPECT_EQ(spans[0]["traceId"], kCallerTrace);
  EXPECT_EQ(spans[0]["parentSpanId"], spans[1]["spanId"]);
  const std::string traceparent = g.upstream.lastRequest()->header("traceparent");
  EXPECT_EQ(traceparent,
            "00-" + kCallerTrace + "-" + spans[0]["spanId"].get<std::string>() + "-01");
}

TEST_F(Traces, AnUnsampledCallerMakesNoSpans) {
  // parentbased_always_on follows the caller's "not sampled".
  TracedGateway g([](const RecordedRequest&) { return FakeResponse::json(200, completion()); },
                  receiver.baseUrl());
  auto unsampled = g.post(g.target(), kChat,
                          {{"traceparent", "00-" + kCallerTrace + "-" + kCallerSpan + "-00"}});
  ASSERT_EQ(unsampled.status, 200);
  auto sampled = g.post(g.target());  // a later, sampled request: its spans prove the export ran
  ASSERT_EQ(sampled.status, 200);
  ASSERT_EQ(waitForTrace(receiver, sampled.header("x-portkey-trace-id"), 2).size(), 2u);
  for (const auto& span : receivedSpans(receiver)) EXPECT_NE(span["traceId"], kCallerTrace);
  EXPECT_EQ(g.upstream.requests()[0].header("traceparent").substr(53), "00");
}

TEST_F(Traces, AStreamedRequestsClientSpanLastsUntilTheStreamEnds) {
  TracedGateway g([](const RecordedRequest&) { return streamAnswer(); }, receiver.baseUrl());
  const std::string body =
      R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  auto response = g.post(g.target(), body);
  ASSERT_EQ(response.status, 200);
  ASSERT_NE(response.body.find("[DONE]"), std::string::npos);
  auto spans = waitForTrace(receiver, response.header("x-portkey-trace-id"), 2);
  ASSERT_EQ(spans.size(), 2u);
  const json& client = spans[0];
  const json& server = spans[1];
  EXPECT_EQ(client["parentSpanId"], server["spanId"]);
  EXPECT_EQ(client["endTimeUnixNano"], server["endTimeUnixNano"]);
  EXPECT_EQ(integer(client, "gen_ai.usage.input_tokens"), "5");
  EXPECT_EQ(integer(client, "gen_ai.usage.output_tokens"), "2");
  EXPECT_EQ(text(client, "gen_ai.response.id"), "chatcmpl-s");
  EXPECT_EQ(text(client, "gen_ai.response.model"), "gpt-4o-mini-2024-07-18");
  ASSERT_TRUE(attribute(client, "gen_ai.response.finish_reasons"));
  EXPECT_EQ((*attribute(client, "gen_ai.response.finish_reasons"))["arrayValue"]["values"],
            json::parse(R"([{"stringValue":"stop"}])"));
  ASSERT_TRUE(attribute(server, "portico.streamed"));
  EXPECT_EQ((*attribute(server, "portico.streamed"))["boolValue"], true);
  EXPECT_EQ(integer(server, "gen_ai.usage.output_tokens"), "2");
}

TEST_F(Traces, AFallbackGivesOneClientSpanPerTarget) {
  TracedGateway g(
      [](const RecordedRequest& request) {
        return request.header("authorization") == "Bearer sk-bad"
                   ? FakeResponse::json(500, R"({"error":{"message":"down"}})")
                   : FakeResponse::json(200, completion());
      },
      receiver.baseUrl());
  json config = {{"strategy", {{"mode", "fallback"}}},
                 {"targets", {g.target({{"api_key", "sk-bad"}}), g.target()}}};
  auto response = g.post(config);
  ASSERT_EQ(response.status, 200);
  auto spans = waitForTrace(receiver, response.header("x-portkey-trace-id"), 3);
  ASSERT_EQ(spans.size(), 3u);
  const json& failed = spans[0];
  const json& served = spans[1];
  const json& server = spans[2];
  EXPECT_EQ(server["kind"], 2);
  EXPECT_EQ(integer(server, "http.response.status_code"), "200");
  EXPECT_FALSE(server.contains("status"));

  EXPECT_EQ(failed["kind"], 3);
  EXPECT_EQ(failed["parentSpanId"], server["spanId"]);
  EXPECT_EQ(integer(failed, "http.response.status_code"), "500");
  EXPECT_EQ(text(failed, "error.type"), "500");
  EXPECT_EQ(failed["status"]["code"], 2);
  EXPECT_EQ(text(failed, "portico.option_index"), "config.targets[0]");
  EXPECT_EQ(text(failed, "gen_ai.response.id"), "<none>");

  EXPECT_EQ(served["kind"], 3);
  EXPECT_EQ(served["parentSpanId"], server["spanId"]);
  EXPECT_EQ(integer(served, "http.response.status_code"), "200");
  EXPECT_EQ(text(served, "portico.option_index"), "config.targets[1]");
  EXPECT_EQ(text(served, "gen_ai.response.id"), "chatcmpl-1");
  EXPECT_EQ(integer(served, "gen_ai.usage.output_tokens"), "3");
  EXPECT_NE(failed["spanId"], served["spanId"]);

  // Each upstream request named its own attempt's span.
  std::set<std::string> sent, exported = {failed["spanId"], served["spanId"]};
  for (const auto& request : g.upstream.requests()) {
    sent.insert(parentIdOf(request.header("traceparent")));
  }
  EXPECT_EQ(sent, exported);
}

TEST(TracesDeadReceiver, ADeadReceiverChangesNothingForTheClient) {
  auto provider = [](const RecordedRequest&) { return FakeResponse::json(200, completion()); };
  // The same request through a gateway without tracing, for comparison.
  FakeUpstream plain_upstream(provider);
  ServerOptions plain_options = TestGateway::defaultOptions();
  TestGateway plain(plain_options);
  const json plain_config = {{"provider", "openai"},
                             {"api_key", "sk-test-key"},
                             {"custom_host", plain_upstream.baseUrl() + "/v1"}};
  auto expected = postJson(
      plain.port(), "/v1/chat/completions",
      {{"content-type", "application/json"}, {"x-portkey-config", plain_config.dump()}}, kChat);
  ASSERT_EQ(expected.status, 200);

  auto traced =
      std::make_unique<TracedGateway>(provider, "http://127.0.0.1:" + std::to_string(closedPort()));
  for (int i = 0; i < 3; ++i) {
    auto response = traced->post(traced->target());
    EXPECT_EQ(response.status, expected.status);
    EXPECT_EQ(response.body, expected.body);
  }
  auto exporter = traced->exporter;
  traced.reset();  // gateway stopped, then the exporter's last flush fails too
  EXPECT_EQ(exporter->exported(), 0u);
  EXPECT_EQ(exporter->dropped(), 6u);  // a server and a client span per request
  EXPECT_EQ(exporter->queued(), 0u);
}

TEST(TracesDeadReceiver, ASilentReceiverDoesNotSlowRequests) {
  FakeUpstream silent([](const RecordedRequest&) {
    FakeResponse never = FakeResponse::json(200, "{}");
    never.delay_before_headers = 3s;
    return never;
  });
  TracedGateway g([](const RecordedRequest&) { return FakeResponse::json(200, completion()); },
                  silent.baseUrl(), {{"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"}});
  auto first = g.post(g.target());
  ASSERT_EQ(first.status, 200);
  ASSERT_TRUE(silent.waitForRequests(1, 10s));  // the exporter is now stuck in a POST
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto response = g.post(g.target());
    EXPECT_EQ(response.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms);
  }
}

}  // namespace
}  // namespace portico::testing
